#include "actors/router.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include <caf/all.hpp>

#include "actors/actor_metrics.hpp"
#include "actors/clinic.hpp"
#include "core/cluster.hpp"
#include "actors/inspection.hpp"
#include "actors/test_hooks.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/supervision.hpp"

namespace atendeai::actors {

struct router_state {
  static constexpr const char* name = "router";
  router_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  std::map<std::string, clinic_actor> clinics;
  size_t next_writer = 0;
  actor_kind_metrics clinic_metrics;
  core::gauge* outbox_depth = nullptr;

  // The cluster (cluster.port set): each clinic lives on its rendezvous owner.
  bool clustered = false;
  bool view_known = false;
  std::vector<std::string> members; ///< live node ids, this node included
  std::vector<core::cluster_member> member_info; ///< the same members as announced
  std::map<std::string, cluster_node_actor> peers;
  /// Stored messages of owners in the view but not connected yet, with when they came.
  std::map<std::string, std::deque<std::pair<std::chrono::steady_clock::time_point, stored_message>>> held;
  uint64_t forwarded = 0;
  uint64_t received = 0;
  int32_t recover_later_age = 0; ///< a joining node's one-off sweep, when > 0
  core::instant started_at;
  std::unique_ptr<core::restart_intensity> restarts; ///< of its clinics

  // -- work -------------------------------------------------------------------

  /// Looks the metrics up once; the clinic series exist (at 0) before the first clinic.
  void init() {
    auto& m = *node->metrics;
    clinic_metrics = actor_kind_metrics::of(m, "clinic");
    outbox_depth = &m.gauge_with("atendeai_outbox_depth", "Outbox rows committed and not yet delivered");
  }

  clinic_actor& clinic_for(const std::string& clinic_id, bool restarted = false) {
    auto it = clinics.find(clinic_id);
    if (it != clinics.end())
      return it->second;
    auto handle = spawn_clinic(self->system(), node, caf::actor_cast<router_actor>(self), clinic_id, restarted);
    self->monitor(handle);
    clinic_metrics.on_spawn();
    return clinics.emplace(clinic_id, handle).first->second;
  }

  // -- ownership --------------------------------------------------------------

  const std::string& self_id() const { return node->cfg.node.id; }

  /// The node that owns a clinic under `view` (this node while there is no view).
  std::string owner_of(const std::string& clinic_id, const std::vector<std::string>& view) const {
    auto owner = core::rendezvous_owner(clinic_id, view);
    return owner.empty() ? self_id() : owner;
  }
  bool owns(const std::string& clinic_id) const {
    return !clustered || owner_of(clinic_id, members) == self_id();
  }

  /// Messages held per owner at most; more are left to the owner's sweep at once.
  static constexpr size_t max_held_per_owner = 1000;

  /// Stored messages to their clinics: here when this node owns the clinic, else to the
  /// owner's node actor; held while the owner is in the view but not connected yet
  /// (never answered here: that would be a second live conversation). A message lost
  /// with a dying owner stays unanswered in PostgreSQL and is taken over by the clinic's
  /// next owner.
  void process(std::vector<stored_message> batch) {
    for (auto& m : batch)
      ATENDEAI_CRASH_ONCE_IF_MARKED("ATENDEAI_TEST_CRASH_ROUTER_MARKER", m.msg.text);
    std::map<std::string, std::vector<cluster_message>> remote;
    auto now = std::chrono::steady_clock::now();
    for (auto& m : batch)
      route(std::move(m), now, remote, true);
    forward(remote);
  }

  /// One message: handled here, added to `remote` for its connected owner, or held
  /// (`fresh`: not held before, counted once).
  void route(stored_message m, std::chrono::steady_clock::time_point since,
             std::map<std::string, std::vector<cluster_message>>& remote, bool fresh) {
    auto owner = clustered ? owner_of(m.clinic_id, members) : self_id();
    if (owner == self_id()) {
      handle_here(std::move(m));
    } else if (peers.count(owner)) {
      core::json_text msg;
      core::write_json(msg, m.msg);
      remote[owner].push_back({m.clinic_id, m.conversation_id, m.message_id, msg.take(), m.redelivery,
                               m.new_conversation});
    } else {
      hold(owner, std::move(m), since, fresh);
    }
  }

  void count_held(const char* outcome, size_t n) {
    node->metrics->counter_with("atendeai_cluster_held_total",
                                "Stored messages held for a clinic owner not connected yet, by outcome",
                                {{"outcome", outcome}})
      .inc(n);
  }

  /// Keeps a message until its owner connects or the view changes; past the bound it is
  /// left to the owner's sweep (it is durable).
  void hold(const std::string& owner, stored_message m, std::chrono::steady_clock::time_point since, bool fresh) {
    auto& q = held[owner];
    if (q.size() >= max_held_per_owner) {
      count_held("left_to_sweep", 1);
      core::log_event(spdlog::level::warn, "held_message_left_to_sweep",
                      {{"clinic_id", m.clinic_id}, {"conversation_id", m.conversation_id}, {"owner", owner},
                       {"why", "too many held"}});
      return;
    }
    if (q.empty())
      self->delayed_send(self, std::chrono::milliseconds(node->cfg.cluster.dead_after_ms), held_atom::value, owner);
    q.emplace_back(since, std::move(m));
    if (fresh)
      count_held("held", 1);
  }

  /// The view or the connections changed: every held message goes where it belongs now.
  void release_held() {
    if (held.empty())
      return;
    auto all = std::move(held);
    held.clear();
    std::map<std::string, std::vector<cluster_message>> remote;
    for (auto& [_, q] : all)
      for (auto& [since, m] : q)
        route(std::move(m), since, remote, false);
    forward(remote);
  }

  /// Held messages of `owner` older than cluster.dead_after_ms: left to the owner's sweep
  /// (logged and counted); the rest wait for their own deadline.
  void expire_held(const std::string& owner) {
    auto it = held.find(owner);
    if (it == held.end())
      return;
    auto patience = std::chrono::milliseconds(node->cfg.cluster.dead_after_ms);
    auto now = std::chrono::steady_clock::now();
    auto& q = it->second;
    size_t dropped = 0;
    while (!q.empty() && now - q.front().first >= patience) {
      core::log_event(spdlog::level::warn, "held_message_left_to_sweep",
                      {{"clinic_id", q.front().second.clinic_id},
                       {"conversation_id", q.front().second.conversation_id}, {"owner", owner},
                       {"why", "owner not connected in time"}});
      q.pop_front();
      ++dropped;
    }
    if (dropped > 0)
      count_held("left_to_sweep", dropped);
    if (q.empty()) {
      held.erase(it);
      return;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(patience - (now - q.front().first));
    self->delayed_send(self, std::max(wait, std::chrono::milliseconds(1)), held_atom::value, owner);
  }

  /// Sends each owner its messages.
  void forward(std::map<std::string, std::vector<cluster_message>>& remote) {
    for (auto& [owner, wire] : remote) {
      forwarded += wire.size();
      node->metrics->counter_with("atendeai_cluster_messages_total", "Messages forwarded between nodes",
                                  {{"direction", "sent"}})
        .inc(wire.size());
      self->send(peers[owner], forwarded_atom::value, std::move(wire), self_id());
    }
  }

  /// Messages another node forwarded: handled here whatever this node's view says (a
  /// second hop could bounce while two views disagree).
  void process_forwarded(std::vector<stored_message> batch) {
    received += batch.size();
    for (auto& m : batch)
      handle_here(std::move(m));
  }

  void handle_here(stored_message m) {
    self->send(clinic_for(m.clinic_id), process_atom::value, std::move(m));
  }

  /// The members changed: clinics owned elsewhere now are passivated here (their
  /// conversations' writes are already on their way to the writers, which flush now),
  /// and the work of clinics taken over from a departed node is resumed at once.
  void on_view(cluster_view v) {
    auto before = members;
    bool first = !view_known;
    view_known = true;
    members = core::member_ids(v.members);
    member_info = v.members;
    peers = std::move(v.peers);
    release_held(); // an owner may be connected now, or gone
    if (!first && before == members)
      return;
    core::log_event(spdlog::level::info, "ownership_changed", {{"members", members}, {"before", before}});
    hand_off();
    std::set<std::string> departed;
    for (auto& id : before)
      if (std::find(members.begin(), members.end(), id) == members.end())
        departed.insert(id);
    if (first && members.size() == 1) {
      // Alone: every clinic is ours, as on a single node's start.
      recover("start", 0, 0, [](const std::string&) { return true; });
    } else if (first) {
      // Joining: our clinics were served by live nodes until now. Their work in flight
      // finishes there; what they leave unanswered once they see us is picked up after
      // they had time to (no outbox: their senders deliver what they committed).
      auto age = static_cast<int32_t>((node->cfg.cluster.dead_after_ms + 999) / 1000);
      self->delayed_send(self, std::chrono::milliseconds(node->cfg.cluster.dead_after_ms), tick_atom::value);
      recover_later_age = age;
    } else if (!departed.empty()) {
      // Taking over from departed nodes: their unanswered messages and undelivered
      // replies are ours now (a reply they delivered without recording it is sent again:
      // the documented send window).
      recover("takeover", 0, 0, [this, before, departed](const std::string& clinic_id) {
        return departed.count(owner_of(clinic_id, before)) > 0;
      });
    }
  }

  /// Passivates the clinic actors this node does not own.
  void hand_off() {
    size_t moved = 0;
    for (auto it = clinics.begin(); it != clinics.end();) {
      if (owns(it->first)) {
        ++it;
        continue;
      }
      core::log_event(spdlog::level::info, "clinic_handed_off",
                      {{"clinic_id", it->first}, {"owner", owner_of(it->first, members)}});
      self->send_exit(it->second, caf::exit_reason::user_shutdown);
      it = clinics.erase(it);
      ++moved;
    }
    if (moved == 0)
      return;
    node->metrics->counter_with("atendeai_cluster_ownership_moves_total", "Live clinic actors passivated because another node owns them now")
      .inc(moved);
    for (auto& w : node->writers.all())
      self->send(w, flush_atom::value);
  }

  /// A clinic stopped. Unknown clinics stop normally; a crash (or a clinic that gave up
  /// past its restart intensity) is restarted at once, and the fresh clinic replays its
  /// unanswered messages. Past the router's own restart intensity the node gives up.
  void on_down(const caf::down_msg& msg) {
    for (auto it = clinics.begin(); it != clinics.end(); ++it) {
      if (it->second.address() != msg.source)
        continue;
      auto clinic_id = it->first;
      clinics.erase(it);
      clinic_metrics.on_down(static_cast<bool>(msg.reason), false);
      if (!msg.reason)
        return;
      core::log_event(spdlog::level::err, "actor_crashed",
                      {{"kind", "clinic"}, {"clinic_id", clinic_id}, {"reason", caf::to_string(msg.reason)}});
      if (restarts->record(node->clock->now())) {
        core::log_event(spdlog::level::critical, "supervisor_escalates",
                        {{"kind", name}, {"clinic_id", clinic_id},
                         {"max_restarts", node->cfg.supervision.max_restarts},
                         {"window_seconds", node->cfg.supervision.window_seconds}});
        if (node->give_up)
          node->give_up("restart intensity exceeded at the root (clinic " + clinic_id + ")");
        return;
      }
      clinic_for(clinic_id, true);
      return;
    }
  }

  /// A clinic's data changed (admin API, after commit): the live clinic actor reloads its
  /// profile and agenda. (Channel accounts are resolved in SQL by every ingest.) A change
  /// committed here is `broadcast` to every connected peer, which does the same.
  void reload(const std::string& clinic_id, bool broadcast) {
    if (auto it = clinics.find(clinic_id); it != clinics.end())
      self->send(it->second, reload_atom::value);
    for (auto& sender : node->senders.all())
      self->send(sender, reload_atom::value, clinic_id);
    // On every other node the clinic's actor (if it lives there) reloads too.
    if (broadcast)
      for (auto& [_, peer] : peers)
        self->send(peer, reload_atom::value, clinic_id, self_id());
  }

  /// A staff reply or release goes to its clinic (spawned if needed), then its conversation.
  void staff(staff_action a) {
    auto clinic_id = a.clinic_id;
    self->send(clinic_for(clinic_id), staff_atom::value, std::move(a));
  }

  // -- inspection -------------------------------------------------------------

  /// This node as the inspection API shows it.
  nlohmann::json node_snapshot() const {
    auto ids = nlohmann::json::array();
    for (auto& [id, _] : clinics)
      ids.push_back(id);
    auto& m = *node->metrics;
    auto counts = nlohmann::json::object();
    for (auto kind : on_demand_kinds)
      counts[kind] = actor_kind_metrics::of(m, kind).live->value();
    counts["ingest_writer"] = node->ingest_writers.size();
    counts["batch_writer"] = node->writers.size();
    counts["sender"] = node->senders.size();
    counts["db_reader"] = node->readers.size();
    counts["router"] = 1;
    return {{"id", node->cfg.node.id},
            {"address", node->cfg.http.host + ":" + std::to_string(node->cfg.http.port)},
            {"cluster_port", node->cfg.cluster.port},
            {"uptime_s", (node->clock->now() - started_at).count() / 1000},
            {"clinics_owned", ids},
            {"actors", counts}};
  }

  /// Node and actor totals here; a clinic's actors (and single conversations or flows)
  /// from the clinic if it is live here, else {"live": false}. In a cluster the admin API
  /// asks the clinic's owner node (api/forwarding.cpp) and every node for its own
  /// snapshot (peers through their cluster_node).
  caf::typed_response_promise<std::string> inspect(const inspect_query& q) {
    auto rp = self->make_response_promise<std::string>();
    if (q.what == "node") {
      rp.deliver(nlohmann::json{{"nodes", nlohmann::json::array({node_snapshot()})}}.dump());
      return rp;
    }
    if (q.what == "actors") {
      actor_totals(rp);
      return rp;
    }
    auto it = clinics.find(q.clinic_id);
    if (it == clinics.end()) {
      rp.deliver(nlohmann::json{{"live", false}, {"clinic_id", q.clinic_id}}.dump());
      return rp;
    }
    self->request(it->second, std::chrono::seconds(5), inspect_atom::value, q)
      .then([rp](std::string& s) mutable { rp.deliver(std::move(s)); },
            [rp, id = q.clinic_id](const caf::error&) mutable { rp.deliver(busy_entry("clinic", id).dump()); });
    return rp;
  }

  /// Counts per kind and node, mailbox totals (each clinic sums its own actors), restarts.
  void actor_totals(caf::typed_response_promise<std::string> rp) {
    auto snap = node_snapshot();
    auto restarted = nlohmann::json::object();
    auto passivated = nlohmann::json::object();
    for (auto kind : on_demand_kinds) {
      restarted[kind] = actor_kind_metrics::restarted_of(*node->metrics, kind).value();
      passivated[kind] = actor_kind_metrics::passivated_of(*node->metrics, kind).value();
    }
    for (auto kind : service_kinds) // restarted in place by the root supervisor
      restarted[kind] = actor_kind_metrics::restarted_of(*node->metrics, kind).value();
    auto pending = std::make_shared<size_t>(clinics.size());
    auto mailbox = std::make_shared<int64_t>(self->mailbox().size());
    auto busy = std::make_shared<int64_t>(0);
    auto done = [=]() mutable {
      auto per_node = nlohmann::json::object({{"id", snap["id"]}, {"actors", snap["actors"]}});
      rp.deliver(nlohmann::json{{"nodes", nlohmann::json::array({per_node})},
                                {"counts", snap["actors"]},
                                {"mailbox_total", *mailbox},
                                {"busy", *busy},
                                {"restarts", restarted},
                                {"passivated", passivated}}
                   .dump());
    };
    if (clinics.empty()) {
      done();
      return;
    }
    for (auto& [id, handle] : clinics)
      self->request(handle, std::chrono::seconds(5), inspect_atom::value, inspect_query{"summary", id, ""})
        .then(
          [=](const std::string& s) mutable {
            auto j = nlohmann::json::parse(s, nullptr, false);
            *mailbox += j.is_object() ? j.value("mailbox", int64_t{0}) : 0;
            *busy += j.is_object() ? j.value("busy", int64_t{0}) : 0;
            if (--*pending == 0)
              done();
          },
          [=](const caf::error&) mutable {
            ++*busy;
            if (--*pending == 0)
              done();
          });
  }

  /// Periodic sweep: messages stored but never answered go to their conversations
  /// again (only the clinics this node owns); in a cluster also passivates clinics that
  /// are not ours (e.g. spawned for a forwarded message while two views disagreed).
  /// `restarted`: this router replaces a crashed one, whose senders are alive and hold
  /// their outbox rows (only unanswered messages are resumed).
  /// The periodic sweep also resumes outbound messages pending for a minute that no
  /// sender holds (a commit whose acknowledgement was lost with its connection wrote a
  /// row nobody was told of); a sender drops a row it holds already.
  void sweep(bool at_start, bool restarted = false) {
    if (at_start) {
      recover(restarted ? "restart" : "start", 0, restarted ? -1 : 0, [](const std::string&) { return true; });
    } else if (recover_later_age > 0) {
      recover("join", recover_later_age, -1, [](const std::string&) { return true; });
      recover_later_age = 0;
      return; // a one-off tick; the periodic one keeps its own schedule
    } else {
      hand_off();
      recover("periodic", 30, 60, [](const std::string&) { return true; });
    }
    self->delayed_send(self, std::chrono::seconds(at_start ? 30 : 15), tick_atom::value);
  }

  /// Sender #i crashed: the pending outbox rows that were its (by conversation) go to
  /// its successor. Unanswered messages are not asked for.
  void resend(int32_t sender) {
    auto count = node->senders.size();
    recover("sender_restart", -1, 0, [](const std::string&) { return true; },
            [sender, count](const outbox_item& o) {
              return count > 0 && std::hash<std::string>{}(o.conversation_id) % count == static_cast<size_t>(sender);
            });
  }

  /// Asks for stored work (unanswered messages older than `unanswered_min_age_s`, pending
  /// outbound messages older than `pending_min_age_s`; negative: none) and resumes what
  /// belongs to clinics this node owns and `wanted` accepts.
  void recover(const char* why, int32_t unanswered_min_age_s, int32_t pending_min_age_s,
               std::function<bool(const std::string&)> wanted,
               std::function<bool(const outbox_item&)> wanted_row = nullptr) {
    self->request(node->readers.at(0), std::chrono::seconds(30), sweep_atom::value, unanswered_min_age_s,
                  pending_min_age_s)
      .then(
        [=](recovery_work& work) {
          auto keep = [&](const std::string& clinic_id) { return owns(clinic_id) && wanted(clinic_id); };
          work.unanswered.erase(std::remove_if(work.unanswered.begin(), work.unanswered.end(),
                                               [&](const stored_message& m) { return !keep(m.clinic_id); }),
                                work.unanswered.end());
          work.pending.erase(std::remove_if(work.pending.begin(), work.pending.end(),
                                            [&](const outbox_item& o) {
                                              return !keep(o.clinic_id) || (wanted_row && !wanted_row(o));
                                            }),
                             work.pending.end());
          if (!work.unanswered.empty() || !work.pending.empty())
            core::log_event(spdlog::level::info, "recovered_unanswered",
                            {{"count", work.unanswered.size()}, {"outbox", work.pending.size()}, {"why", why}});
          node->metrics->counter_with("atendeai_recovered_total", "Work resumed after a crash or stall",
                                      {{"kind", "unanswered"}})
            .inc(work.unanswered.size());
          for (auto& m : work.unanswered) {
            m.redelivery = true;
            handle_here(std::move(m));
          }
          for (auto& item : work.pending) {
            node->metrics->counter_with("atendeai_recovered_total", "Work resumed after a crash or stall",
                                        {{"kind", "outbox"}})
              .inc();
            outbox_depth->add(1); // its delivery record takes it off again, as for a fresh row
            self->send(node->sender_for(item.conversation_id), deliver_atom::value, std::move(item));
          }
        },
        [=](const caf::error& err) {
          core::log_event(spdlog::level::warn, "recovery_failed", {{"why", why}, {"error", caf::to_string(err)}});
        });
  }

  // -- the durable job scheduler ----------------------------------------------

  uint64_t jobs_tick = 0;      ///< the number of the one timer that counts
  bool jobs_running = false;   ///< a look is waiting for the reader
  bool jobs_again = false;     ///< nudged meanwhile: look once more when it ends

  /// Looks again after `delay` (a timer; a nudge or a newer timer supersedes it).
  void jobs_after(std::chrono::milliseconds delay) {
    self->delayed_send(self, delay, jobs_atom::value, ++jobs_tick);
  }

  /// When to look next: at the next job's due time, at most 30 s from now (a job planned
  /// on another node, a clinic that came to this node), at once when nudged; every
  /// 300 ms on a test clock. An idle database stays idle between looks.
  std::chrono::milliseconds jobs_delay(int64_t next_due_ms) const {
    if (node->clock->jumps())
      return std::chrono::milliseconds(300);
    auto cap = std::chrono::milliseconds(30000);
    if (next_due_ms <= 0)
      return cap;
    auto wait = std::chrono::milliseconds(next_due_ms - node->clock->now().time_since_epoch().count());
    return std::clamp(wait, std::chrono::milliseconds(200), cap);
  }

  /// One look of the scheduler: asks which clinics have due jobs, claims those of the
  /// clinics this node owns (a lease: if this node dies, their next owner runs them once
  /// it ran out) and hands each claimed reminder or notice to its clinic's actor.
  void run_jobs() {
    if (jobs_running) {
      jobs_again = true;
      return;
    }
    if (clustered && !view_known) { // ownership is not known yet
      jobs_after(std::chrono::seconds(1));
      return;
    }
    jobs_running = true;
    auto now_ms = static_cast<int64_t>(node->clock->now().time_since_epoch().count());
    auto done = [this](int64_t next_due_ms) {
      jobs_running = false;
      if (std::exchange(jobs_again, false))
        return run_jobs();
      jobs_after(jobs_delay(next_due_ms));
    };
    auto failed = [this, done](const caf::error& err) {
      core::log_event(spdlog::level::warn, "jobs_claim_failed", {{"error", caf::to_string(err)}});
      done(0);
    };
    self->request(node->readers.at(0), std::chrono::seconds(30), jobs_atom::value, now_ms)
      .then(
        [=](core::due_jobs& found) {
          auto& clinics = found.clinics;
          clinics.erase(std::remove_if(clinics.begin(), clinics.end(), [&](const std::string& c) { return !owns(c); }),
                        clinics.end());
          auto next_due_ms = found.next_due_ms;
          if (clinics.empty())
            return done(next_due_ms);
          self->request(node->readers.at(0), std::chrono::seconds(30), jobs_atom::value, std::move(clinics), now_ms)
            .then(
              [=](std::vector<core::due_reminder>& due) {
                for (auto& r : due)
                  self->send(clinic_for(r.clinic_id), remind_atom::value, std::move(r));
                // A claimed job is marked done at the next look: soon, not at the next due time.
                done(due.empty() ? next_due_ms : now_ms + 1000);
              },
              failed);
        },
        failed);
  }

  std::string inspect() const {
    auto ids = nlohmann::json::array();
    for (auto& [id, _] : clinics)
      ids.push_back(id);
    return nlohmann::json{{"kind", name},         {"clinics", ids},
                          {"members", members}, {"forwarded", forwarded},
                          {"received", received}, {"mailbox", self->mailbox().size()}}
      .dump();
  }
};

router_actor::behavior_type router(router_actor::stateful_pointer<router_state> self, node_context_ptr node,
                                   bool restarted) {
  self->state.self = self;
  self->state.node = node;
  self->state.init();
  self->state.started_at = node->clock->now();
  self->state.restarts = std::make_unique<core::restart_intensity>(
    node->cfg.supervision.max_restarts, std::chrono::seconds(node->cfg.supervision.window_seconds));
  // The supervision series exist from the start (0 until something happens).
  for (auto kind : {"conversation", "appointment_flow"})
    actor_kind_metrics::of(*node->metrics, kind);
  self->set_down_handler([self](caf::down_msg& msg) { self->state.on_down(msg); });
  // Shutting down: the clinics (and through them their conversations) go too, or the
  // actor system would wait for their idle timers before the process can exit.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [_, clinic] : self->state.clinics)
      self->send_exit(clinic, msg.reason);
    self->quit(msg.reason);
  });
  self->state.clustered = node->cfg.cluster.port != 0;
  self->send(self, jobs_atom::value);
  if (self->state.clustered) // the start sweep waits for the first view (ownership)
    self->delayed_send(self, std::chrono::seconds(15), tick_atom::value);
  else
    self->state.sweep(true, restarted);
  return {
    [self](process_atom, std::vector<stored_message>& batch) { self->state.process(std::move(batch)); },
    [self](forwarded_atom, std::vector<stored_message>& batch) { self->state.process_forwarded(std::move(batch)); },
    [self](view_atom, cluster_view& v) { self->state.on_view(std::move(v)); },
    [self](tick_atom) { self->state.sweep(false); },
    [self](jobs_atom) { self->state.run_jobs(); },
    [self](jobs_atom, uint64_t tick) {
      if (tick == self->state.jobs_tick) // an older timer: a nudge or a newer timer took over
        self->state.run_jobs();
    },
    [self](resend_atom, int32_t sender) { self->state.resend(sender); },
    [self](reload_atom, const std::string& clinic_id) { self->state.reload(clinic_id, true); },
    [self](reload_atom, const std::string& clinic_id, const std::string& from) {
      core::log_event(spdlog::level::debug, "clinic_changed_elsewhere", {{"clinic_id", clinic_id}, {"node", from}});
      self->state.reload(clinic_id, false);
    },
    [self](view_atom) { return cluster_view{self->state.member_info, self->state.peers}; },
    [self](held_atom, const std::string& owner) { self->state.expire_held(owner); },
    [self](clinic_atom, const std::string& clinic_id) { return self->state.clinic_for(clinic_id); },
    [self](staff_atom, staff_action& a) { self->state.staff(std::move(a)); },
    [self](inspect_atom) { return self->state.inspect(); },
    [self](inspect_atom, const inspect_query& q) { return self->state.inspect(q); },
  };
}

router_actor spawn_router(caf::actor_system& sys, node_context_ptr node, bool restarted) {
  return sys.spawn(router, node, restarted);
}

} // namespace atendeai::actors
