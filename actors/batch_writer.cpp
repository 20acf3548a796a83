#include "actors/batch_writer.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>
#include <map>
#include <optional>

#include <caf/all.hpp>

#include "actors/test_hooks.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/whatsapp.hpp"
#include "persistence/audit.hpp"
#include "persistence/database.hpp"
#include "persistence/pipeline.hpp"

namespace atendeai::actors {

persistence::db_target app_target(const config::config& cfg);

namespace {

/// The writes of one batch, in arrival order per kind.
struct batch {
  std::vector<resolved_webhook> ingests;
  std::vector<reply_record> replies;
  std::vector<delivery_record> deliveries;

  size_t items() const { return ingests.size() + replies.size() + deliveries.size(); }
  bool empty() const { return items() == 0; }

  /// Splits into the first `n` items and the rest (ingests, then replies, then deliveries).
  std::pair<batch, batch> split(size_t n) && {
    batch a, b;
    size_t i = 0;
    auto take = [&](auto& from, auto member) {
      for (auto& x : from)
        ((i++ < n) ? a.*member : b.*member).push_back(std::move(x));
    };
    take(ingests, &batch::ingests);
    take(replies, &batch::replies);
    take(deliveries, &batch::deliveries);
    return {std::move(a), std::move(b)};
  }
};

/// Replies of one clinic in batch order: runs of plain rows, and each record that waits
/// for its commit (a staff action) alone, so its outbox row and audit are its own.
struct reply_group {
  nlohmann::json rows = nlohmann::json::array();
  std::optional<size_t> acknowledged; ///< index of the waiting record in batch::replies
};

/// Rows of one clinic inside a batch.
struct clinic_rows {
  nlohmann::json inbound = nlohmann::json::array();
  nlohmann::json statuses = nlohmann::json::array();
  std::vector<reply_group> replies;
  nlohmann::json deliveries = nlohmann::json::array();
};

/// What a committed batch produced.
struct batch_result {
  std::map<std::string, std::map<std::string, persistence::ingest_result>> ingested; ///< clinic → ext → result
  std::vector<persistence::outbox_row> outbox;
  std::map<size_t, std::string> acknowledged; ///< waiting record → its outbound message id ("" if none)
};

/// A record someone waits for (a staff action).
bool waited_for(const reply_record& r) {
  return static_cast<bool>(r.on_commit) || r.audit != nullptr;
}

std::string iso_from_epoch(int64_t seconds) {
  if (seconds <= 0)
    return {};
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

} // namespace

struct batch_writer_state {
  static constexpr const char* name = "batch_writer";
  batch_writer_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  int index = 0;
  std::unique_ptr<persistence::db_session> db;
  batch pending;
  size_t pending_rows = 0;
  bool timer_armed = false;
  uint64_t batches_committed = 0;
  uint64_t batches_failed = 0;
  core::histogram* batch_rows_hist = nullptr;
  core::histogram* commit_latency = nullptr;
  core::counter* stored = nullptr;
  core::counter* duplicates = nullptr;
  core::counter* rejected = nullptr;
  core::gauge* outbox_depth = nullptr;
  core::counter* commit_errors = nullptr;

  // -- work -------------------------------------------------------------------

  void init() {
    auto& m = *node->metrics;
    batch_rows_hist = &m.histogram_with("atendeai_batch_rows", "Rows per committed batch", {},
                                        {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000});
    commit_latency = &m.histogram_with("atendeai_batch_commit_seconds", "Time to commit one batch");
    stored = &m.counter_with("atendeai_webhook_messages_total", "Inbound webhook messages by outcome",
                             {{"outcome", "stored"}});
    duplicates = &m.counter_with("atendeai_webhook_messages_total", "Inbound webhook messages by outcome",
                                 {{"outcome", "duplicate"}});
    rejected = &m.counter_with("atendeai_webhook_messages_total", "Inbound webhook messages by outcome",
                               {{"outcome", "rejected"}});
    outbox_depth = &m.gauge_with("atendeai_outbox_depth", "Outbox rows committed and not yet delivered");
    commit_errors = &m.counter_with("atendeai_db_errors_total", "PostgreSQL errors", {{"op", "batch_commit"}});
  }

  void add(size_t rows) {
    pending_rows += rows;
    if (pending_rows >= static_cast<size_t>(node->cfg.persistence.batch_max_rows)
        || node->cfg.persistence.batch_max_delay_ms == 0) {
      flush();
    } else if (!timer_armed) {
      timer_armed = true;
      self->delayed_send(self, std::chrono::milliseconds(node->cfg.persistence.batch_max_delay_ms),
                         flush_atom::value);
    }
  }

  void flush() {
    if (pending.empty())
      return;
    batch b = std::move(pending);
    pending = batch{};
    pending_rows = 0;
    write(std::move(b), true);
  }

  /// Commits a batch; on failure retries once, then splits it so that one bad row
  /// cannot fail its neighbours. A single item that still fails is given up.
  void write(batch b, bool retry) {
    try {
      auto started = std::chrono::steady_clock::now();
      auto result = db->run([&](pqxx::connection& c) { return commit(c, b); });
      commit_latency->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      ++batches_committed;
      finish(std::move(b), std::move(result));
      return;
    } catch (const std::exception& e) {
      ++batches_failed;
      commit_errors->inc();
      core::log_event(spdlog::level::warn, "batch_failed",
                      {{"writer", index}, {"items", b.items()}, {"error", e.what()}});
      db->reset();
      if (dynamic_cast<const persistence::unavailable*>(&e) != nullptr) {
        fail(std::move(b), core::error_code::database_unavailable);
        return;
      }
    }
    if (retry) {
      write(std::move(b), false);
    } else if (b.items() > 1) {
      auto n = b.items() / 2;
      auto halves = std::move(b).split(n);
      write(std::move(halves.first), false);
      write(std::move(halves.second), false);
    } else {
      fail(std::move(b), core::error_code::internal_error);
    }
  }

  batch_result commit(pqxx::connection& c, const batch& b) {
    std::map<std::string, clinic_rows> by_clinic;
    for (auto& req : b.ingests) {
      for (auto& [info, m] : req.messages) {
        auto payload = core::to_json(m);
        by_clinic[info.clinic_id].inbound.push_back(
          {{"channel", m.channel}, {"contact", m.contact},
           {"contact_name", m.contact_name.empty() ? nlohmann::json() : nlohmann::json(m.contact_name)},
           {"ext", m.external_id}, {"type", m.type}, {"body", m.text}, {"payload", std::move(payload)},
           {"sent_at", m.timestamp > 0 ? nlohmann::json(iso_from_epoch(m.timestamp)) : nlohmann::json()}});
      }
      for (auto& [clinic_id, s] : req.statuses)
        by_clinic[clinic_id].statuses.push_back(
          {{"channel", s.channel}, {"ext", s.external_id}, {"status", s.status},
           {"error", s.error.empty() ? nlohmann::json() : nlohmann::json(s.error)}});
    }
    for (size_t i = 0; i < b.replies.size(); ++i) {
      const auto& r = b.replies[i];
      nlohmann::json row = {{"conversation_id", r.conversation_id},
                            {"in_message_id", r.in_message_id.empty() ? nlohmann::json() : nlohmann::json(r.in_message_id)},
                            {"intent", r.intent.empty() ? nlohmann::json() : nlohmann::json(r.intent)},
                            {"confidence", r.confidence},
                            {"channel", r.channel},
                            {"account_id", r.account_id},
                            {"recipient", r.recipient},
                            {"state", core::to_json(r.state)},
                            {"handoff", r.state.handoff}};
      if (r.has_reply) {
        row["body"] = r.reply.text;
        row["reply"] = core::to_json(r.reply);
      }
      if (!r.staff_user_id.empty())
        row["staff_user_id"] = r.staff_user_id;
      auto& groups = by_clinic[r.clinic_id].replies;
      if (waited_for(r))
        groups.push_back({nlohmann::json::array(), i});
      else if (groups.empty() || groups.back().acknowledged)
        groups.emplace_back();
      groups.back().rows.push_back(std::move(row));
    }
    for (auto& d : b.deliveries)
      by_clinic[d.clinic_id].deliveries.push_back(
        {{"outbox_id", d.outbox_id}, {"status", d.status}, {"attempts", d.attempts},
         {"error", d.error.empty() ? nlohmann::json() : nlohmann::json(d.error)},
         {"external_id", d.external_id.empty() ? nlohmann::json() : nlohmann::json(d.external_id)}});

    // One statement per kind for every clinic at once (the *_many functions scope each
    // clinic's rows with its own app.clinic_id); only a clinic with a record someone
    // waits for (a staff action, with its audit) writes its replies group by group.
    nlohmann::json inbound = nlohmann::json::object(), statuses = nlohmann::json::object(),
                   replies = nlohmann::json::object(), deliveries = nlohmann::json::object();
    for (auto& [clinic_id, rows] : by_clinic) {
      if (!rows.inbound.empty())
        inbound[clinic_id] = std::move(rows.inbound);
      if (!rows.statuses.empty())
        statuses[clinic_id] = std::move(rows.statuses);
      if (rows.replies.size() == 1 && !rows.replies.front().acknowledged)
        replies[clinic_id] = std::move(rows.replies.front().rows);
      if (!rows.deliveries.empty())
        deliveries[clinic_id] = std::move(rows.deliveries);
    }
    batch_result result;
    pqxx::work tx(c);
    if (!inbound.empty())
      for (auto& r : persistence::ingest_inbound_many(tx, inbound))
        result.ingested[r.clinic_id][r.external_id] = r;
    if (!statuses.empty())
      persistence::record_statuses_many(tx, statuses);
    if (!replies.empty())
      for (auto& o : persistence::record_replies_many(tx, replies))
        result.outbox.push_back(std::move(o));
    for (auto& [clinic_id, rows] : by_clinic) {
      if (replies.contains(clinic_id) || rows.replies.empty())
        continue;
      persistence::set_clinic(tx, clinic_id);
      for (auto& group : rows.replies) {
        std::string message_id;
        for (auto& o : persistence::record_replies(tx, group.rows)) {
          o.clinic_id = clinic_id;
          message_id = o.message_id;
          result.outbox.push_back(std::move(o));
        }
        if (!group.acknowledged)
          continue;
        result.acknowledged[*group.acknowledged] = message_id;
        if (const auto& audit = b.replies[*group.acknowledged].audit)
          persistence::append_audit(tx, *audit);
      }
    }
    if (!deliveries.empty())
      persistence::record_deliveries_many(tx, deliveries);
    tx.commit();
    return result;
  }

  /// After the commit: acknowledge, hand new messages on, send new outbox rows.
  void finish(batch b, batch_result result) {
    size_t rows = 0;
    std::vector<stored_message> fresh;
    for (auto& req : b.ingests) {
      for (auto& [info, m] : req.messages) {
        ++rows;
        auto& per_clinic = result.ingested[info.clinic_id];
        auto it = per_clinic.find(m.external_id);
        bool is_new = it != per_clinic.end() && it->second.inserted;
        if (!is_new) {
          duplicates->inc();
          continue;
        }
        it->second.inserted = false; // the same wamid again in this batch is a duplicate
        stored->inc();
        if (spdlog::should_log(spdlog::level::info)) // building the fields costs more than the check
          core::log_event(spdlog::level::info, "message_stored",
                          {{"clinic_id", info.clinic_id}, {"conversation_id", it->second.conversation_id},
                           {"correlation_id", m.external_id}, {"type", m.type}});
        fresh.push_back({info.clinic_id, it->second.conversation_id, it->second.message_id,
                         info.access_token, std::move(m)});
      }
      rows += req.statuses.size();
      req.responder->respond(200, R"({"status":"ok"})");
    }
#ifdef ATENDEAI_TEST_HOOKS
    // Test hook: die after the inbound commit and its 200, before any reply exists.
    if (!fresh.empty() && std::getenv("ATENDEAI_TEST_CRASH_AFTER_INGEST")) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // let the 200 leave
      std::_Exit(137);
    }
#endif
    if (!fresh.empty())
      self->send(node->router(), process_atom::value, std::move(fresh));
    std::map<std::string, const reply_record*> by_inbound; ///< by the inbound id, or the staff reply's own id
    for (auto& r : b.replies)
      by_inbound[r.in_message_id] = &r;
    for (auto& [i, message_id] : result.acknowledged)
      if (!message_id.empty())
        by_inbound[message_id] = &b.replies[i];
    for (auto& o : result.outbox) {
      auto rec = by_inbound.find(o.in_reply_to.empty() && by_inbound.count(o.message_id) ? o.message_id : o.in_reply_to);
      outbox_item item{o.clinic_id, o.outbox_id, o.message_id, o.conversation_id, o.account_id,
                       o.recipient, rec != by_inbound.end() ? rec->second->access_token : std::string{},
                       o.payload, 0,
                       rec != by_inbound.end() ? rec->second->correlation_id : std::string{}};
      outbox_depth->add(1);
      self->send(node->sender_for(o.conversation_id), deliver_atom::value, std::move(item));
    }
    for (auto& d : b.deliveries)
      if (d.status != "pending")
        outbox_depth->add(-1);
    for (auto& [i, message_id] : result.acknowledged)
      if (b.replies[i].on_commit)
        b.replies[i].on_commit(true, message_id);
    rows += b.replies.size() + b.deliveries.size();
    batch_rows_hist->observe(static_cast<double>(rows));
  }

  /// Gives up on writes that could not be committed.
  void fail(batch b, core::error_code code) {
    // Not acknowledged: Meta retries, and nothing acknowledged is lost.
    auto body = core::error_body(code, "the message could not be stored; retry later").dump();
    for (auto& req : b.ingests) {
      rejected->inc(req.messages.size());
      req.responder->respond(core::http_status(code), body);
    }
    if (b.replies.empty() && b.deliveries.empty())
      return;
    if (code == core::error_code::database_unavailable) {
      // Replies and delivery outcomes have no requester to retry them: the conversation
      // already counts its message as handled (it would drop the sweep's redelivery as a
      // duplicate) and the sender already delivered. Keep them, in order, until
      // PostgreSQL is back. Within one flush the failed parts come in batch order and
      // nothing else arrives meanwhile, so appending keeps each conversation's order.
      core::log_event(spdlog::level::warn, "batch_requeued",
                      {{"writer", index}, {"replies", b.replies.size()}, {"deliveries", b.deliveries.size()}});
      pending_rows += b.replies.size() + b.deliveries.size();
      for (auto& r : b.replies)
        pending.replies.push_back(std::move(r));
      for (auto& d : b.deliveries)
        pending.deliveries.push_back(std::move(d));
      if (!timer_armed) {
        timer_armed = true;
        self->delayed_send(self, std::chrono::milliseconds(500), flush_atom::value);
      }
      return;
    }
    // A write that fails on its own (not the database being away) is given up: its
    // inbound message stays unanswered and its outbox row pending.
    core::log_event(spdlog::level::err, "batch_dropped",
                    {{"writer", index}, {"replies", b.replies.size()}, {"deliveries", b.deliveries.size()}});
    for (auto& r : b.replies)
      if (r.on_commit)
        r.on_commit(false, {});
  }

  std::string inspect() const {
    return nlohmann::json{{"kind", name},
                          {"index", index},
                          {"pending_items", pending.items()},
                          {"pending_rows", pending_rows},
                          {"batches_committed", batches_committed},
                          {"batches_failed", batches_failed}}
      .dump();
  }
};

batch_writer_actor::behavior_type batch_writer(batch_writer_actor::stateful_pointer<batch_writer_state> self,
                                               node_context_ptr node, int index) {
  auto& st = self->state;
  st.self = self;
  st.node = node;
  st.index = index;
  st.db = std::make_unique<persistence::db_session>(app_target(node->cfg));
  st.init();
  return {
    [self](ingest_atom, resolved_webhook& req) {
      for (auto& m : req.messages)
        ATENDEAI_CRASH_ONCE_IF_MARKED("ATENDEAI_TEST_CRASH_WRITER_MARKER", m.second.text);
      auto rows = req.messages.size() + req.statuses.size();
      self->state.pending.ingests.push_back(std::move(req));
      self->state.add(rows);
    },
    [self](record_atom, reply_record& r) {
      self->state.pending.replies.push_back(std::move(r));
      self->state.add(1);
    },
    [self](delivered_atom, delivery_record& d) {
      self->state.pending.deliveries.push_back(std::move(d));
      self->state.add(1);
    },
    [self](flush_atom) {
      self->state.timer_armed = false;
      self->state.flush();
    },
    [self](drain_atom) {
      self->state.flush();
      return true;
    },
    [self](inspect_atom) { return self->state.inspect(); },
  };
}

batch_writer_actor spawn_batch_writer(caf::actor_system& sys, node_context_ptr node, int index) {
  return sys.spawn<caf::detached>(batch_writer, node, index);
}

} // namespace atendeai::actors
