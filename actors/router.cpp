#include "actors/router.hpp"

#include <map>
#include <set>

#include <caf/all.hpp>

#include "actors/actor_metrics.hpp"
#include "actors/clinic.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace atendeai::actors {

namespace {

/// A cached answer about a channel account (negative answers expire sooner).
struct cached_channel {
  channel_info info;
  std::chrono::steady_clock::time_point expires;
};

} // namespace

struct router_state {
  static constexpr const char* name = "router";
  router_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  std::map<std::pair<std::string, std::string>, cached_channel> channels; ///< (channel, account)
  std::map<std::string, clinic_actor> clinics;
  size_t next_writer = 0;
  uint64_t requests = 0;
  actor_kind_metrics clinic_metrics;
  core::gauge* outbox_depth = nullptr;

  // -- work -------------------------------------------------------------------

  /// Looks the metrics up once; the clinic series exist (at 0) before the first clinic.
  void init() {
    auto& m = *node->metrics;
    clinic_metrics = actor_kind_metrics::of(m, "clinic");
    outbox_depth = &m.gauge_with("atendeai_outbox_depth", "Outbox rows committed and not yet delivered");
  }

  const channel_info* known(const std::string& channel, const std::string& account) {
    auto it = channels.find({channel, account});
    if (it == channels.end() || it->second.expires < std::chrono::steady_clock::now())
      return nullptr;
    return &it->second.info;
  }

  void ingest(webhook_request req) {
    ++requests;
    std::set<std::pair<std::string, std::string>> missing;
    for (auto& m : req.messages)
      if (!known(m.channel, m.account_id))
        missing.insert({m.channel, m.account_id});
    for (auto& s : req.statuses)
      if (!known(s.channel, s.account_id))
        missing.insert({s.channel, s.account_id});
    if (missing.empty()) {
      dispatch(std::move(req));
      return;
    }
    // Resolve every unknown account, then dispatch; any failure answers 503.
    auto shared = std::make_shared<webhook_request>(std::move(req));
    auto remaining = std::make_shared<size_t>(missing.size());
    auto failed = std::make_shared<bool>(false);
    for (auto& key : missing) {
      self->request(node->reader_for(key.second), std::chrono::seconds(10), resolve_atom::value, key.first, key.second)
        .then(
          [=](const channel_info& info) {
            auto ttl = info.found ? std::chrono::seconds(60) : std::chrono::seconds(5);
            channels[key] = {info, std::chrono::steady_clock::now() + ttl};
            if (--*remaining == 0 && !*failed)
              dispatch(std::move(*shared));
          },
          [=](const caf::error&) {
            if (!*failed) {
              *failed = true;
              shared->responder->respond(503, core::error_body(core::error_code::database_unavailable,
                                                               "cannot resolve the channel account; retry later")
                                                .dump());
            }
          });
    }
  }

  void dispatch(webhook_request req) {
    resolved_webhook out;
    out.responder = std::move(req.responder);
    out.correlation_id = req.correlation_id;
    size_t unknown = 0;
    for (auto& m : req.messages) {
      auto info = known(m.channel, m.account_id);
      if (!info || !info->found) {
        ++unknown;
        continue;
      }
      out.messages.emplace_back(*info, std::move(m));
    }
    for (auto& s : req.statuses) {
      auto info = known(s.channel, s.account_id);
      if (!info || !info->found) {
        ++unknown;
        continue;
      }
      out.statuses.emplace_back(info->clinic_id, std::move(s));
    }
    if (unknown > 0) {
      node->metrics->counter_with("atendeai_webhook_messages_total", "Inbound webhook messages by outcome",
                                  {{"outcome", "unknown_account"}})
        .inc(unknown);
      core::log_event(spdlog::level::warn, "unknown_channel_account",
                      {{"correlation_id", req.correlation_id}, {"items", unknown}});
    }
    if (out.messages.empty() && out.statuses.empty()) {
      out.responder->respond(200, R"({"status":"ok"})");
      return;
    }
    auto& writer = node->writers[next_writer++ % node->writers.size()];
    self->send(writer, ingest_atom::value, std::move(out));
  }

  clinic_actor& clinic_for(const std::string& clinic_id) {
    auto it = clinics.find(clinic_id);
    if (it != clinics.end())
      return it->second;
    auto handle = spawn_clinic(self->system(), node, clinic_id);
    self->monitor(handle);
    clinic_metrics.on_spawn();
    return clinics.emplace(clinic_id, handle).first->second;
  }

  void process(std::vector<stored_message> batch) {
    for (auto& m : batch)
      self->send(clinic_for(m.clinic_id), process_atom::value, std::move(m));
  }

  void on_down(const caf::down_msg& msg) {
    for (auto it = clinics.begin(); it != clinics.end(); ++it) {
      if (it->second.address() == msg.source) {
        if (msg.reason)
          core::log_event(spdlog::level::err, "actor_crashed",
                          {{"kind", "clinic"}, {"clinic_id", it->first},
                           {"reason", caf::to_string(msg.reason)}});
        clinic_metrics.on_down(static_cast<bool>(msg.reason), false);
        clinics.erase(it);
        return;
      }
    }
  }

  /// A clinic's data changed (admin API, after commit): channel accounts resolve afresh
  /// (those of the clinic, and every negative answer: an account may have just been
  /// connected), and the live clinic actor reloads its profile and agenda.
  void reload(const std::string& clinic_id) {
    for (auto it = channels.begin(); it != channels.end();)
      it = !it->second.info.found || it->second.info.clinic_id == clinic_id ? channels.erase(it) : std::next(it);
    if (auto it = clinics.find(clinic_id); it != clinics.end())
      self->send(it->second, reload_atom::value);
  }

  /// Periodic sweep: messages stored but never answered go to their conversations again.
  void sweep(bool at_start) {
    self->request(node->readers.front(), std::chrono::seconds(30), recover_atom::value, at_start)
      .then(
        [=](recovery_work& work) {
          if (!work.unanswered.empty())
            core::log_event(spdlog::level::info, "recovered_unanswered", {{"count", work.unanswered.size()}});
          node->metrics->counter_with("atendeai_recovered_total", "Work resumed after a crash or stall",
                                      {{"kind", "unanswered"}})
            .inc(work.unanswered.size());
          for (auto& m : work.unanswered)
            m.redelivery = true;
          process(std::move(work.unanswered));
          for (auto& item : work.pending) {
            node->metrics->counter_with("atendeai_recovered_total", "Work resumed after a crash or stall",
                                        {{"kind", "outbox"}})
              .inc();
            outbox_depth->add(1); // its delivery record takes it off again, as for a fresh row
            self->send(node->sender_for(item.conversation_id), deliver_atom::value, std::move(item));
          }
        },
        [=](const caf::error& err) {
          core::log_event(spdlog::level::warn, "recovery_failed", {{"error", caf::to_string(err)}});
        });
    self->delayed_send(self, std::chrono::seconds(at_start ? 30 : 15), tick_atom::value);
  }

  std::string inspect() const {
    auto ids = nlohmann::json::array();
    for (auto& [id, _] : clinics)
      ids.push_back(id);
    return nlohmann::json{{"kind", name}, {"requests", requests}, {"clinics", ids},
                          {"cached_channels", channels.size()}}
      .dump();
  }
};

router_actor::behavior_type router(router_actor::stateful_pointer<router_state> self, node_context_ptr node) {
  self->state.self = self;
  self->state.node = node;
  self->state.init();
  self->set_down_handler([self](caf::down_msg& msg) { self->state.on_down(msg); });
  // Shutting down: the clinics (and through them their conversations) go too, or the
  // actor system would wait for their idle timers before the process can exit.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [_, clinic] : self->state.clinics)
      self->send_exit(clinic, msg.reason);
    self->quit(msg.reason);
  });
  self->state.sweep(true);
  return {
    [self](ingest_atom, webhook_request& req) { self->state.ingest(std::move(req)); },
    [self](process_atom, std::vector<stored_message>& batch) { self->state.process(std::move(batch)); },
    [self](tick_atom) { self->state.sweep(false); },
    [self](reload_atom, const std::string& clinic_id) { self->state.reload(clinic_id); },
    [self](clinic_atom, const std::string& clinic_id) { return self->state.clinic_for(clinic_id); },
    [self](inspect_atom) { return self->state.inspect(); },
  };
}

router_actor spawn_router(caf::actor_system& sys, node_context_ptr node) {
  return sys.spawn(router, node);
}

} // namespace atendeai::actors
