#include "actors/clinic.hpp"

#include <deque>
#include <map>
#include <unordered_map>
#include <optional>

#include <caf/all.hpp>

#include "actors/actor_metrics.hpp"
#include "actors/appointment_flow.hpp"
#include "actors/conversation.hpp"
#include "actors/inspection.hpp"
#include "core/clinic_agenda.hpp"
#include "core/log.hpp"
#include "core/phone.hpp"
#include "core/supervision.hpp"
#include "core/waitlist.hpp"

namespace atendeai::actors {

struct clinic_state {
  static constexpr const char* name = "clinic";
  clinic_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  std::string clinic_id;
  clinic_profile_ptr profile;
  bool loading = false;
  bool agenda_loaded = false;
  bool reloading = false;     ///< a reload is reading; new messages wait for it
  bool reload_again = false;  ///< a change arrived while reading: read once more
  std::deque<stored_message> waiting; ///< messages that arrived before the profile and agenda
  /// Admin API requests that arrived before them: slot queries and staff changes.
  std::deque<std::pair<core::slot_query, caf::typed_response_promise<slot_list>>> queries_waiting;
  std::deque<std::pair<persistence::staff_change, caf::typed_response_promise<staff_answer>>> changes_waiting;
  std::deque<staff_action> staff_waiting; ///< staff actions that arrived meanwhile
  std::deque<core::due_reminder> reminders_waiting; ///< due reminders that arrived meanwhile
  /// Every child still to send its down message (conversations and flows, also those
  /// already forgotten by the maps below), by address: a down message is matched in
  /// O(log n), whatever the number of live children.
  struct child {
    bool flow = false;
    std::string conversation_id;
  };
  std::map<caf::actor_addr, child> children;
  bool replay_on_ready = false;           ///< restarted after a crash: replay unanswered messages
  std::unique_ptr<core::restart_intensity> restarts; ///< of its conversations and flows
  std::map<std::string, conversation_actor> conversations;
  std::map<std::string, appointment_flow_actor> flows; ///< open booking flows by conversation
  /// Conversations whose patient was erased (LGPD) → how ("anonymise" | "restrict"): their
  /// live actors are gone and a message still ingested for one is not answered.
  std::unordered_map<std::string, std::string> erased;
  uint64_t processed = 0;
  actor_kind_metrics conversation_metrics;
  actor_kind_metrics flow_metrics;

  /// The agenda and its rules: active appointments from today on, absences, closures
  /// (from PostgreSQL), holds (memory only) and each live conversation's patient number.
  /// Asked and changed only here, in mailbox order; this actor carries out its decisions.
  std::optional<core::clinic_agenda> agenda;
  uint64_t bookings = 0;
  uint64_t refused = 0;
  uint64_t staff_changes = 0; ///< admin API changes (their holds' owners)

  // -- loading ----------------------------------------------------------------

  bool ready() const { return profile && agenda_loaded; }

  void load() {
    loading = true;
    self->request(node->reader_for(clinic_id), std::chrono::seconds(10), load_atom::value, clinic_id)
      .then(
        [=](const clinic_profile_ptr& p) {
          if (!p) {
            loading = false;
            core::log_event(spdlog::level::warn, "clinic_unknown", {{"clinic_id", clinic_id}, {"dropped", waiting.size()}});
            waiting.clear();
            self->quit();
            return;
          }
          profile = p;
          agenda->set_profile(p);
          load_agenda();
        },
        [=](const caf::error& err) { retry_load("clinic_load_failed", err); });
  }

  /// Asks the reader for the agenda from a day back (whatever "today" is in the clinic's
  /// zone is covered).
  auto ask_agenda() {
    auto from = node->clock->now() - std::chrono::hours(24);
    return self->request(node->reader_for(clinic_id), std::chrono::seconds(10), agenda_atom::value, clinic_id,
                         ms(from));
  }

  void take_agenda(persistence::agenda_data& d) {
    agenda->load(std::move(d.appointments), std::move(d.absences), std::move(d.closures));
    for (const auto& h : d.holds) // open waitlist offers keep their time after a restart
      agenda->hold(h.owner, h.slot, now(), h.expires_at);
  }

  void load_agenda() {
    loading = true;
    ask_agenda()
      .then(
        [=](persistence::agenda_data& d) {
          loading = false;
          take_agenda(d);
          agenda_loaded = true;
          if (reload_again) // a change committed while this load was reading
            return reload();
          drain();
        },
        [=](const caf::error& err) { retry_load("agenda_load_failed", err); });
  }

  /// The clinic's data changed (admin API): reads profile and agenda again. Bookings and
  /// flows keep being served meanwhile; patients' new messages wait for the new data, so
  /// the first message after a change is answered with it.
  void reload() {
    if (loading || reloading) {
      reload_again = true;
      return;
    }
    if (!ready())
      return; // the first load is yet to come and will read the change
    reload_again = false;
    reloading = true;
    self->request(node->reader_for(clinic_id), std::chrono::seconds(10), load_atom::value, clinic_id)
      .then(
        [=](const clinic_profile_ptr& p) {
          if (!p) { // deactivated: its patients are no longer answered
            core::log_event(spdlog::level::info, "clinic_deactivated", {{"clinic_id", clinic_id}});
            waiting.clear();
            self->quit();
            return;
          }
          profile = p;
          agenda->set_profile(p);
          ask_agenda().then(
            [=](persistence::agenda_data& d) {
              take_agenda(d);
              reloaded();
            },
            [=](const caf::error& err) { reloaded(&err); });
        },
        [=](const caf::error& err) { reloaded(&err); });
  }

  /// A reload ended (`err`: it failed, the data in memory stays): serve what waited.
  void reloaded(const caf::error* err = nullptr) {
    reloading = false;
    if (err)
      core::log_event(spdlog::level::warn, "clinic_reload_failed",
                      {{"clinic_id", clinic_id}, {"error", caf::to_string(*err)}});
    else
      node->metrics->counter_with("atendeai_clinic_reloads_total", "Clinic actors that reloaded their data", {}).inc();
    if (reload_again)
      return reload();
    drain();
  }

  void retry_load(const char* what, const caf::error& err) {
    // The messages are durable; try again shortly.
    core::log_event(spdlog::level::warn, what, {{"clinic_id", clinic_id}, {"error", caf::to_string(err)}});
    self->delayed_send(self, std::chrono::seconds(1), load_atom::value);
    loading = false;
  }

  // -- routing ----------------------------------------------------------------

  void process(stored_message m) {
    if (!m.message_id.empty())
      waiting.push_back(std::move(m));
    if (reloading)
      return; // drained when the new data is in
    if (!ready_or_load())
      return; // drained when the data is in
    drain();
  }

  void drain() {
    if (replay_on_ready) {
      replay_on_ready = false;
      replay({});
    }
    while (!staff_waiting.empty()) {
      staff(std::move(staff_waiting.front()));
      staff_waiting.pop_front();
    }
    while (!reminders_waiting.empty()) {
      remind(std::move(reminders_waiting.front()));
      reminders_waiting.pop_front();
    }
    while (!waiting.empty()) {
      route(std::move(waiting.front()));
      waiting.pop_front();
    }
    while (!queries_waiting.empty()) {
      auto [q, rp] = std::move(queries_waiting.front());
      queries_waiting.pop_front();
      answer_slots(q, rp);
    }
    while (!changes_waiting.empty()) {
      auto [c, rp] = std::move(changes_waiting.front());
      changes_waiting.pop_front();
      apply_staff(std::move(c), to_promise(rp));
    }
  }

  /// The live conversation actor, spawned (and monitored) when there is none; `fresh`
  /// when the conversation was just created (it has no memory to read).
  conversation_actor& conversation_for(const std::string& conversation_id, bool fresh = false) {
    auto it = conversations.find(conversation_id);
    if (it == conversations.end()) {
      auto handle = spawn_conversation(self->system(), node, profile, caf::actor_cast<clinic_actor>(self), clinic_id,
                                       conversation_id, fresh);
      self->monitor(handle);
      children.emplace(handle.address(), child{false, conversation_id});
      conversation_metrics.on_spawn();
      it = conversations.emplace(conversation_id, handle).first;
    }
    return it->second;
  }

  void route(stored_message m) {
    if (auto it = erased.find(m.conversation_id); it != erased.end()) {
      drop_erased(m.conversation_id, it->second);
      return;
    }
    ++processed;
    m.profile = profile; // a live conversation answers with the clinic's current data
    agenda->note_phone(m.conversation_id, core::contact_phone(m.msg.channel, m.msg.contact));
    auto& handle = conversation_for(m.conversation_id, m.new_conversation && !m.redelivery && !m.replayed);
    self->send(handle, process_atom::value, std::move(m));
  }

  /// A message of an erased patient's conversation that was being ingested while the
  /// erasure committed is not answered; the erasure runs once more behind it, through
  /// the conversation's writer (idempotent), so its text does not stay.
  void drop_erased(const std::string& conversation_id, const std::string& mode) {
    core::log_event(spdlog::level::info, "erased_conversation_message_dropped",
                    {{"clinic_id", clinic_id}, {"conversation_id", conversation_id}});
    self->send(node->writer_for(conversation_id), record_atom::value, erasure_record(clinic_id, conversation_id, mode));
  }

  /// An erasure of a patient: their conversations are remembered as erased, their booking
  /// flows and every live conversation but the one carrying the erasure stop (that one
  /// writes it and stops itself), and the agenda forgets their number.
  void note_erasure(const staff_action& a) {
    for (const auto& id : a.conversation_ids) {
      erased[id] = a.erase_mode;
      agenda->forget_phone(id);
      if (auto f = flows.find(id); f != flows.end()) {
        self->send_exit(f->second, caf::exit_reason::user_shutdown);
        flows.erase(f);
      }
      if (id == a.conversation_id)
        continue;
      if (auto c = conversations.find(id); c != conversations.end()) {
        self->send_exit(c->second, caf::exit_reason::user_shutdown);
        conversations.erase(c);
      }
    }
  }

  /// A staff reply or release goes to the live conversation (re-created if passivated).
  /// When that actor stopped just before taking it (its passivation raced the action),
  /// the action goes once more, to a fresh actor.
  void staff(staff_action a, bool again = false) {
    if (!ready_or_load()) {
      staff_waiting.push_back(std::move(a));
      return;
    }
    if (a.what == staff_action::kind::erase && !again)
      note_erasure(a);
    auto conversation_id = a.conversation_id;
    auto handle = conversation_for(conversation_id);
    self->request(handle, std::chrono::seconds(60), staff_atom::value, a)
      .then([](bool) {},
            [=](caf::error& err) mutable {
              if (again || err != caf::sec::request_receiver_down) {
                core::log_event(spdlog::level::warn, "staff_action_failed",
                                {{"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                                 {"error", caf::to_string(err)}});
                if (a.receipt)
                  a.receipt->settle(false);
                return;
              }
              auto it = conversations.find(conversation_id);
              if (it != conversations.end() && it->second == handle)
                conversations.erase(it);
              staff(std::move(a), true);
            });
  }

  /// Hands the unanswered messages of a conversation (or of the whole clinic when "")
  /// to fresh actors: what a crashed actor was handling is not lost. The fresh actor has
  /// not seen them (its memory holds answered messages only), so its dedupe still holds.
  void replay(const std::string& conversation_id) {
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), replay_atom::value, clinic_id, conversation_id)
      .then(
        [=](std::vector<stored_message>& batch) {
          if (!batch.empty())
            core::log_event(spdlog::level::info, "replayed_after_crash",
                            {{"clinic_id", clinic_id}, {"conversation_id", conversation_id}, {"count", batch.size()}});
          node->metrics->counter_with("atendeai_recovered_total", "Work resumed after a crash or stall",
                                      {{"kind", "replayed"}})
            .inc(batch.size());
          for (auto& m : batch) {
            m.replayed = true;
            process(std::move(m));
          }
        },
        [=](const caf::error& err) {
          // The periodic sweep of the router picks them up later.
          core::log_event(spdlog::level::warn, "replay_failed",
                          {{"clinic_id", clinic_id}, {"error", caf::to_string(err)}});
        });
  }

  // -- booking flows ----------------------------------------------------------

  /// Hands a conversation's message to its flow (spawned on demand); the flow stops
  /// itself once it has no open state, and is forgotten here at once.
  caf::typed_response_promise<flow_reply> flow(flow_request req) {
    auto rp = self->make_response_promise<flow_reply>();
    if (!ready()) {
      rp.deliver(caf::make_error(caf::sec::request_receiver_down));
      return rp;
    }
    auto conversation_id = req.conversation_id;
    auto it = flows.find(conversation_id);
    if (it == flows.end()) {
      auto handle = spawn_appointment_flow(self->system(), node, profile, caf::actor_cast<clinic_actor>(self),
                                           conversation_id);
      self->monitor(handle);
      children.emplace(handle.address(), child{true, conversation_id});
      flow_metrics.on_spawn();
      it = flows.emplace(conversation_id, handle).first;
    }
    auto handle = it->second;
    req.profile = profile;
    self->request(handle, caf::infinite, flow_atom::value, std::move(req))
      .then(
        [=](flow_reply& r) mutable {
          if (r.flow.is_null())
            forget_flow(conversation_id, handle);
          rp.deliver(std::move(r));
        },
        [=](caf::error& err) mutable {
          forget_flow(conversation_id, handle);
          rp.deliver(std::move(err));
        });
    return rp;
  }

  void forget_flow(const std::string& conversation_id, const appointment_flow_actor& handle) {
    auto it = flows.find(conversation_id);
    if (it != flows.end() && it->second == handle)
      flows.erase(it);
  }

  /// A flow timed out: its conversation tells the patient and forgets the flow, woken up
  /// (from its stored memory) when it had passivated meanwhile.
  void expired(flow_expiry e) {
    flows.erase(e.conversation_id);
    auto& conversation = conversation_for(e.conversation_id);
    self->send(conversation, expired_atom::value, std::move(e));
  }

  // -- the agenda -------------------------------------------------------------

  core::instant now() const { return node->clock->now(); }
  /// An instant as the milliseconds since the epoch the reader's messages carry.
  static int64_t ms(core::instant t) { return static_cast<int64_t>(t.time_since_epoch().count()); }

  agenda_snapshot snapshot(const std::string& conversation_id) {
    auto t = now();
    agenda->release_expired_holds(t);
    agenda_snapshot s;
    s.view = agenda->view(t);
    s.patient_appointments = agenda->patient_appointments(conversation_id, t);
    return s;
  }

  clinic_answer answer(core::clinic_result::outcome what, const std::string& conversation_id,
                       std::optional<core::appointment> a = std::nullopt) {
    clinic_answer ans;
    ans.result.what = what;
    ans.result.appointment = std::move(a);
    ans.snapshot = snapshot(conversation_id);
    return ans;
  }

  /// The answer to a decision the agenda made alone (no write): refused, not found or
  /// already done (`done` then).
  clinic_answer settled(const core::agenda_decision& d, const std::string& conversation_id,
                        core::clinic_result::outcome done) {
    switch (d.verdict) {
      case core::agenda_verdict::refused:
        ++refused;
        if (d.reason == core::agenda_reason::unreadable)
          core::log_event(spdlog::level::warn, "slot_check_failed", {{"clinic_id", clinic_id}, {"error", d.detail}});
        return answer(core::clinic_result::outcome::slot_taken, conversation_id);
      case core::agenda_verdict::not_found:
        return answer(core::clinic_result::outcome::not_found, conversation_id);
      case core::agenda_verdict::done:
      case core::agenda_verdict::granted:
        break;
    }
    return answer(done, conversation_id, d.appointment);
  }

  clinic_answer hold(const std::string& conversation_id, const std::string& owner, const core::slot& s) {
    auto d = agenda->hold(owner, s, now());
    return settled(d, conversation_id, core::clinic_result::outcome::booked); // booked = held
  }

  void release(const std::string& owner, const core::slot& s) { agenda->release(owner, s); }

  void count_booking(const char* what) {
    node->metrics
      ->counter_with("atendeai_appointments_total", "Appointment changes (chat and admin API)", {{"change", what}})
      .inc();
  }

  /// An appointment as PostgreSQL stored it goes into the agenda. A booked or moved one
  /// gets its reminders planned (at its new time: the old time's are skipped when due);
  /// a staff `change` (created, moved, cancelled) is also told to the patient.
  void recorded(const persistence::agenda_entry& e, bool plan, const std::string& change = {}) {
    // A time it leaves (cancelled, moved away) goes to the waitlist.
    if (const auto* before = agenda->find(e.appointment.id)) {
      const auto& a = before->appointment;
      const bool moved = e.appointment.active() &&
                         (a.start != e.appointment.start || a.professional_id != e.appointment.professional_id);
      if (a.active() && (moved || e.appointment.status == core::appointment_status::cancelled))
        freed({a.professional_id, a.service_id, a.start, a.end});
    }
    agenda->record(e);
    if (plan || !change.empty())
      self->send(node->reader_for(clinic_id), plan_atom::value, clinic_id, e.appointment.id, change,
                 ms(now()));
  }

  /// The notice a staff change gives the patient ("" for none: attended, no-show).
  static std::string notice_of(persistence::staff_action a) {
    switch (a) {
      case persistence::staff_action::create: return "created";
      case persistence::staff_action::reschedule: return "moved";
      case persistence::staff_action::cancel: return "cancelled";
      default: return {};
    }
  }

  void log_write_failed(const char* what, const caf::error& err) {
    core::log_event(spdlog::level::warn, "agenda_write_failed",
                    {{"clinic_id", clinic_id}, {"what", what}, {"error", caf::to_string(err)}});
  }

  /// Where the outcome of a booking goes: the flow's promise, or a waitlist offer's answer.
  using answer_done = std::function<void(caf::expected<clinic_answer>)>;

  /// An outcome delivered to a promise (a value or the error).
  template <class T>
  static std::function<void(caf::expected<T>)> to_promise(caf::typed_response_promise<T> rp) {
    return [rp](caf::expected<T> a) mutable {
      if (a)
        rp.deliver(std::move(*a));
      else
        rp.deliver(std::move(a.error()));
    };
  }

  caf::typed_response_promise<clinic_answer> book(const std::string& conversation_id, const std::string& owner,
                                                  const core::slot& s) {
    auto rp = self->make_response_promise<clinic_answer>();
    book_then(conversation_id, owner, s, to_promise(rp));
    return rp;
  }

  void book_then(const std::string& conversation_id, const std::string& owner, const core::slot& s, answer_done done) {
    auto d = agenda->book(conversation_id, owner, s, now());
    if (d.verdict != core::agenda_verdict::granted) {
      done(settled(d, conversation_id, core::clinic_result::outcome::booked));
      return;
    }
    // The agenda holds the slot from everyone else while PostgreSQL writes.
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), book_atom::value, clinic_id, conversation_id, s)
      .then(
        [=](persistence::agenda_write& w) mutable {
          agenda->end_write(owner, s);
          switch (w.outcome) {
            case persistence::agenda_outcome::ok: {
              recorded(*w.entry, true);
              ++bookings;
              count_booking("booked");
              core::log_event(spdlog::level::info, "appointment_booked",
                              {{"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                               {"appointment_id", w.entry->appointment.id}});
              done(answer(core::clinic_result::outcome::booked, conversation_id, w.entry->appointment));
              return;
            }
            case persistence::agenda_outcome::slot_taken:
              // Another node or a staff write got there first (the database's guard).
              ++refused;
              count_booking("refused_by_database");
              done(answer(core::clinic_result::outcome::slot_taken, conversation_id));
              return;
            case persistence::agenda_outcome::not_found:
              done(answer(core::clinic_result::outcome::not_found, conversation_id));
              return;
          }
        },
        [=](caf::error& err) mutable {
          // The write may still commit: its hold keeps the slot until it expires.
          log_write_failed("book", err);
          done(std::move(err));
        });
  }

  caf::typed_response_promise<clinic_answer> reschedule(const std::string& conversation_id, const std::string& owner,
                                                        const std::string& appointment_id, const core::slot& s) {
    auto rp = self->make_response_promise<clinic_answer>();
    auto d = agenda->reschedule(conversation_id, owner, appointment_id, s, now());
    if (d.verdict != core::agenda_verdict::granted) {
      rp.deliver(settled(d, conversation_id, core::clinic_result::outcome::rescheduled));
      return rp;
    }
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), reschedule_atom::value, clinic_id,
                  appointment_id, s)
      .then(
        [=](persistence::agenda_write& w) mutable {
          agenda->end_write(owner, s);
          if (w.outcome == persistence::agenda_outcome::ok) {
            recorded(*w.entry, true);
            count_booking("rescheduled");
            rp.deliver(answer(core::clinic_result::outcome::rescheduled, conversation_id, w.entry->appointment));
          } else if (w.outcome == persistence::agenda_outcome::slot_taken) {
            ++refused;
            rp.deliver(answer(core::clinic_result::outcome::slot_taken, conversation_id));
          } else {
            agenda->forget(appointment_id);
            rp.deliver(answer(core::clinic_result::outcome::not_found, conversation_id));
          }
        },
        [=](caf::error& err) mutable {
          // The write may still commit: its hold keeps the slot until it expires.
          log_write_failed("reschedule", err);
          rp.deliver(std::move(err));
        });
    return rp;
  }

  /// A write on one of the patient's own active appointments (cancel, confirm): refused
  /// unless the conversation's patient owns it; `write` asks the reader, `stored` takes a
  /// changed appointment into the agenda, `done` is the answer then (one no longer active
  /// leaves the agenda: not_found).
  template <class Write, class Stored>
  caf::typed_response_promise<clinic_answer> own_write(const std::string& conversation_id,
                                                       const std::string& appointment_id,
                                                       core::clinic_result::outcome done, const char* what,
                                                       Write write, Stored stored) {
    auto rp = self->make_response_promise<clinic_answer>();
    auto d = agenda->cancel(conversation_id, appointment_id); // the patient's own, active one
    if (d.verdict != core::agenda_verdict::granted) {
      rp.deliver(settled(d, conversation_id, done));
      return rp;
    }
    write().then(
      [=](persistence::agenda_write& w) mutable {
        if (w.outcome == persistence::agenda_outcome::ok) {
          stored(*w.entry);
          count_booking(what);
          rp.deliver(answer(done, conversation_id, w.entry->appointment));
        } else {
          agenda->forget(appointment_id);
          rp.deliver(answer(core::clinic_result::outcome::not_found, conversation_id));
        }
      },
      [=](caf::error& err) mutable {
        log_write_failed(what, err);
        rp.deliver(std::move(err));
      });
    return rp;
  }

  caf::typed_response_promise<clinic_answer> cancel(const std::string& conversation_id,
                                                    const std::string& appointment_id) {
    return own_write(
      conversation_id, appointment_id, core::clinic_result::outcome::cancelled, "cancelled",
      [=] {
        return self->request(node->reader_for(clinic_id), std::chrono::seconds(30), cancel_atom::value, clinic_id,
                             appointment_id, std::string("cancelled by the patient in chat"));
      },
      [this](const persistence::agenda_entry& e) { recorded(e, false); });
  }

  /// The patient confirmed their appointment (answering a reminder or a notice).
  caf::typed_response_promise<clinic_answer> confirm(const std::string& conversation_id,
                                                     const std::string& appointment_id) {
    return own_write(
      conversation_id, appointment_id, core::clinic_result::outcome::confirmed, "confirmed",
      [=] {
        return self->request(node->reader_for(clinic_id), std::chrono::seconds(30), confirm_atom::value, clinic_id,
                             appointment_id);
      },
      [this](const persistence::agenda_entry& e) { recorded(e, false); });
  }

  // -- reminders --------------------------------------------------------------

  /// A due reminder claimed by this node: decided by core::plan_reminder with the
  /// clinic's profile, then sent through its conversation, held for quiet hours or
  /// skipped (the job ends with why).
  void remind(core::due_reminder r) {
    if (!ready_or_load()) {
      reminders_waiting.push_back(std::move(r));
      return;
    }
    if (r.kind == "retention") { // run by the claim itself (db_reader); claimed here only racing another node
      finish_job(r.job_id, "pending", "claimed before its run", now());
      return;
    }
    if (r.kind == "no_show") {
      mark_no_show(std::move(r));
      return;
    }
    if (r.kind == "waitlist_offer") {
      offer_freed(std::move(r));
      return;
    }
    if (r.kind == "waitlist_hold") {
      end_hold(std::move(r));
      return;
    }
    auto count = [&](const std::string& outcome) { count_proactive(*node->metrics, r.kind, outcome); };
    core::reminder_plan p;
    try {
      p = core::plan_reminder(r, *profile, now());
    } catch (const std::exception& e) {
      p.what = core::reminder_plan::action::skip;
      p.reason = std::string("failed: ") + e.what();
    }
    switch (p.what) {
      case core::reminder_plan::action::skip:
        count("skipped_" + p.reason.substr(0, p.reason.find(':')));
        finish_job(r.job_id, "skipped", p.reason);
        return;
      case core::reminder_plan::action::hold:
        count("held_quiet_hours");
        finish_job(r.job_id, "pending", "held for quiet hours", p.hold_until);
        return;
      case core::reminder_plan::action::send:
        break;
    }
    proactive_message m;
    m.job_id = r.job_id;
    m.account_id = r.account_id;
    m.recipient = r.contact;
    m.window_until = r.window_until;
    m.interactive = std::move(p.interactive);
    m.templated = std::move(p.templated);
    if (!p.no_template.empty())
      m.no_template = p.no_template;
    m.appointment_id = p.answerable ? r.appointment_id : std::string{};
    m.kind = r.kind;
    self->send(conversation_for(r.conversation_id), remind_atom::value, std::move(m));
  }

  /// Ends a job (done, skipped or failed, with why) or puts it back until `due` (pending).
  void finish_job(const std::string& job_id, const char* state, const std::string& outcome, core::instant due = {}) {
    self->send(node->reader_for(clinic_id), finish_atom::value, clinic_id, job_id, std::string(state), outcome,
               ms(due));
  }

  /// A due automatic no-show: the appointment, still neither attended nor cancelled past
  /// its end + the clinic's grace, is marked no_show like a staff marking (checked and
  /// audited the same way, by the system); skipped with why when it no longer applies. A
  /// write that fails leaves the job running: claimed again when its lease runs out.
  void mark_no_show(core::due_reminder r) {
    auto count = [this](const std::string& outcome) { count_proactive(*node->metrics, "no_show", outcome); };
    if (auto why = core::no_show_skip(r, now())) {
      if (*why == "early") {
        finish_job(r.job_id, "pending", "not yet", r.ends_at + std::chrono::minutes(r.after_minutes));
        return;
      }
      count("skipped_" + *why);
      finish_job(r.job_id, "skipped", *why);
      return;
    }
    persistence::staff_change c;
    c.action = persistence::staff_action::no_show;
    c.appointment_id = r.appointment_id;
    c.by.role = "system";
    c.by.request_id = "job:" + r.job_id;
    apply_staff(std::move(c), [this, job = r.job_id, count](caf::expected<staff_answer> a) {
      if (!a)
        return; // logged by apply_staff; the lease brings the job back
      if (a->ok) {
        count("marked");
        finish_job(job, "done", "marked no_show");
      } else {
        count("skipped_refused");
        finish_job(job, "skipped", a->message);
      }
    });
  }

  // -- the waitlist -----------------------------------------------------------

  void count_waitlist(const char* event) {
    node->metrics
      ->counter_with("atendeai_waitlist_total", "Waitlist events: joined, offered, accepted, declined, expired",
                     {{"event", event}})
      .inc();
  }

  /// The flow's patient joins the waitlist (joining again keeps their place).
  caf::typed_response_promise<clinic_answer> join_waitlist(const std::string& conversation_id,
                                                           const core::waitlist_wish& wish, const std::string& lang) {
    auto rp = self->make_response_promise<clinic_answer>();
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), waitlist_atom::value, clinic_id,
                  conversation_id, wish, lang)
      .then(
        [=](std::string& entry_id) mutable {
          count_waitlist("joined");
          core::log_event(spdlog::level::info, "waitlist_joined",
                          {{"clinic_id", clinic_id}, {"conversation_id", conversation_id}, {"entry_id", entry_id}});
          rp.deliver(answer(core::clinic_result::outcome::waitlisted, conversation_id));
        },
        [=](caf::error& err) mutable {
          log_write_failed("join_waitlist", err);
          rp.deliver(std::move(err));
        });
    return rp;
  }

  /// A time of the agenda became free: a job offers it to the waitlist (planned only
  /// while someone waits; durable, so a node lost meanwhile loses no offer).
  void freed(const core::slot& s) {
    if (s.start > now())
      self->send(node->reader_for(clinic_id), freed_atom::value, clinic_id, s, ms(now()));
  }

  /// A due waitlist_offer job: the freed time goes to the first patient waiting who can
  /// take it (held for them), unless it is past or taken; in quiet hours it waits for
  /// their end (unless the time starts before).
  void offer_freed(core::due_reminder r) {
    auto t = now();
    if (r.freed.start <= t) {
      finish_job(r.job_id, "skipped", "past");
      return;
    }
    if (auto until = core::quiet_until(r.settings, core::zone_or_default(profile->timezone), t);
        until && *until < r.freed.start) {
      finish_job(r.job_id, "pending", "held for quiet hours", *until);
      return;
    }
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), waitlist_atom::value, clinic_id, r.freed,
                  ms(t))
      .then(
        [this, r](core::waitlist_round& round) {
          offer_to(std::make_shared<core::waitlist_round>(std::move(round)), 0, r.freed, r.job_id);
        },
        [this](caf::error& err) { log_write_failed("waitlist_candidates", err); }); // the lease brings it back
  }

  /// Offers `freed` to candidates[i..]: the first one it fits, who can be written to,
  /// whose hold the agenda grants and whose offer PostgreSQL records.
  void offer_to(std::shared_ptr<core::waitlist_round> round, size_t i, core::slot freed, std::string job_id) {
    auto t = now();
    for (; i < round->candidates.size(); ++i) {
      const auto& c = round->candidates[i];
      if (c.opted_out || c.account_id.empty() || c.contact.empty() ||
          (!core::window_open(c.window_until, t) && !c.template_allowed))
        continue;
      std::optional<core::slot> s;
      try {
        s = core::waitlist_slot_for(c, freed, *profile);
      } catch (const std::exception&) {
      }
      const auto until = t + std::chrono::minutes(node->cfg.scheduling.waitlist_hold_minutes);
      if (!s || agenda->hold(core::waitlist_hold_owner(c.entry_id), *s, t, until).verdict != core::agenda_verdict::granted)
        continue; // not for them, or no longer free for this service
      self->request(node->reader_for(clinic_id), std::chrono::seconds(30), hold_atom::value, clinic_id, c.entry_id,
                    *s, ms(until))
        .then(
          [=](std::string& offer_id) {
            if (offer_id.empty()) { // removed meanwhile, or the time is held for someone else
              agenda->release(core::waitlist_hold_owner(c.entry_id), *s);
              offer_to(round, i + 1, freed, job_id);
              return;
            }
            count_waitlist("offered");
            finish_job(job_id, "done", "offered");
            auto text = core::offer_message(*profile, c, *s, until, offer_id, round->notice_template,
                                            round->notice_language);
            proactive_message m;
            m.job_id = offer_id; // its cause: sent once
            m.offer_id = offer_id;
            m.kind = "waitlist";
            m.account_id = c.account_id;
            m.recipient = c.contact;
            m.window_until = c.window_until;
            m.interactive = std::move(text.interactive);
            if (c.template_allowed)
              m.templated = std::move(text.templated);
            else
              m.no_template = "no_opt_in";
            core::log_event(spdlog::level::info, "waitlist_offered",
                            {{"clinic_id", clinic_id}, {"entry_id", c.entry_id}, {"offer_id", offer_id}});
            self->send(conversation_for(c.conversation_id), remind_atom::value, std::move(m));
          },
          [=](caf::error& err) {
            agenda->release(core::waitlist_hold_owner(c.entry_id), *s);
            log_write_failed("waitlist_offer", err); // the job's lease brings it back
          });
      return;
    }
    finish_job(job_id, "skipped", "no_candidate");
  }

  /// A due waitlist_hold job: an offer still open when its hold ends expires, and one
  /// withdrawn by staff ends; either way its time goes to the next patient.
  void end_hold(core::due_reminder r) {
    auto reader = node->reader_for(clinic_id);
    self->request(reader, std::chrono::seconds(30), offer_atom::value, clinic_id, r.offer_id)
      .then(
        [this, r, reader](core::waitlist_offer& o) {
          if (o.id.empty() || (o.state != "offered" && o.state != "withdrawn")) {
            finish_job(r.job_id, "skipped", o.id.empty() ? "gone" : "answered");
            return;
          }
          if (o.state == "withdrawn") {
            pass_on(o);
            finish_job(r.job_id, "done", "withdrawn");
            return;
          }
          if (o.hold_until > now()) {
            finish_job(r.job_id, "pending", "held", o.hold_until);
            return;
          }
          self->request(reader, std::chrono::seconds(30), offer_atom::value, clinic_id, o.id, std::string("expired"),
                        std::string{})
            .then(
              [this, r](core::waitlist_offer& closed) {
                if (!closed.id.empty()) {
                  count_waitlist("expired");
                  pass_on(closed);
                }
                finish_job(r.job_id, "done", closed.id.empty() ? "answered" : "expired");
              },
              [this](caf::error& err) { log_write_failed("waitlist_expiry", err); });
        },
        [this](caf::error& err) { log_write_failed("waitlist_expiry", err); });
  }

  /// An offer that ended unanswered or declined: its hold goes and its time is offered to
  /// the next patient.
  void pass_on(const core::waitlist_offer& o) {
    agenda->release(core::waitlist_hold_owner(o.entry_id), o.slot);
    freed(o.slot);
  }

  /// The patient's answer to an offer: take it (booked through the agenda like any other
  /// booking) or decline it (the next patient is offered it). "" when the offer is not this
  /// conversation's.
  caf::typed_response_promise<std::string> answer_offer(const std::string& conversation_id,
                                                        const std::string& offer_id, bool accept) {
    auto rp = self->make_response_promise<std::string>();
    auto reader = node->reader_for(clinic_id);
    self->request(reader, std::chrono::seconds(30), offer_atom::value, clinic_id, offer_id)
      .then(
        [=](core::waitlist_offer& o) mutable {
          if (o.id.empty() || o.conversation_id != conversation_id) {
            rp.deliver(std::string{});
            return;
          }
          const bool en = o.lang.rfind("en", 0) == 0;
          const bool waiting = o.entry_status == "waiting" || o.entry_status == "offered";
          if (o.state != "offered" || o.hold_until <= now()) {
            rp.deliver(core::waitlist_gone_text(en, waiting && o.state != "accepted"));
            return;
          }
          auto close = [=](const std::string& state, const std::string& appointment_id) {
            return self->request(reader, std::chrono::seconds(30), offer_atom::value, clinic_id, o.id, state,
                                 appointment_id);
          };
          if (!accept) {
            close("declined", {}).then(
              [=](core::waitlist_offer& closed) mutable {
                if (!closed.id.empty()) {
                  count_waitlist("declined");
                  pass_on(closed);
                }
                rp.deliver(core::waitlist_declined_text(en));
              },
              [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
            return;
          }
          book_then(conversation_id, core::waitlist_hold_owner(o.entry_id), o.slot, [=](caf::expected<clinic_answer> a) mutable {
            if (!a) {
              rp.deliver(std::move(a.error()));
              return;
            }
            if (a->result.what != core::clinic_result::outcome::booked || !a->result.appointment) {
              // The time went (another node, staff): the entry waits again.
              close("expired", {}).then([](core::waitlist_offer&) {}, [](caf::error&) {});
              rp.deliver(core::waitlist_gone_text(en, true));
              return;
            }
            const auto appointment = *a->result.appointment;
            close("accepted", appointment.id)
              .then(
                [=](core::waitlist_offer&) mutable {
                  count_waitlist("accepted");
                  rp.deliver(core::booking_confirmed_text(*profile, appointment, en ? "en" : "pt-BR"));
                },
                [=](caf::error&) mutable { // booked all the same; the entry is left as it was
                  rp.deliver(core::booking_confirmed_text(*profile, appointment, en ? "en" : "pt-BR"));
                });
          });
        },
        [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }

  // -- the admin API ----------------------------------------------------------

  /// True when the profile and agenda are loaded; else starts loading them (what asked
  /// then waits in its queue, handled by drain()).
  bool ready_or_load() {
    if (ready())
      return true;
    if (!loading)
      profile ? load_agenda() : load();
    return false;
  }

  /// The free slots of a query from the in-memory agenda: what the chat would offer.
  caf::typed_response_promise<slot_list> slots(core::slot_query q) {
    auto rp = self->make_response_promise<slot_list>();
    if (ready_or_load())
      answer_slots(q, rp);
    else
      queries_waiting.emplace_back(std::move(q), rp);
    return rp;
  }

  void answer_slots(const core::slot_query& q, caf::typed_response_promise<slot_list> rp) {
    slot_list out;
    out.timezone = profile->timezone;
    try {
      auto found = agenda->query_slots(q, now());
      out.slots = std::move(found.slots);
      out.field = std::move(found.field);
      out.message = std::move(found.message);
    } catch (const std::exception& e) {
      rp.deliver(caf::make_error(caf::sec::runtime_error, e.what()));
      return;
    }
    rp.deliver(std::move(out));
  }

  /// A staff change, serialised with the chat's holds and bookings: the time is checked
  /// against the in-memory agenda and held while PostgreSQL writes the row and its audit.
  caf::typed_response_promise<staff_answer> staff(persistence::staff_change c) {
    auto rp = self->make_response_promise<staff_answer>();
    if (ready_or_load())
      apply_staff(std::move(c), to_promise(rp));
    else
      changes_waiting.emplace_back(std::move(c), rp);
    return rp;
  }

  staff_answer refusal(core::error_code code, std::string message, std::string field) const {
    staff_answer a;
    a.code = code;
    a.message = std::move(message);
    a.field = std::move(field);
    a.timezone = profile->timezone;
    return a;
  }

  /// A refused time: 409 (with the nearest free slots when the time is taken) or 422
  /// naming the field.
  staff_answer refusal(const core::agenda_refusal& r, std::vector<core::slot> alternatives = {}) const {
    auto a = refusal(r.conflict ? core::error_code::conflict : core::error_code::validation_failed, r.message, r.field);
    a.alternatives = std::move(alternatives);
    return a;
  }

  /// Where the outcome of a staff change goes: the admin API's promise, or the job of an
  /// automatic no-show.
  using staff_done = std::function<void(caf::expected<staff_answer>)>;

  void apply_staff(persistence::staff_change c, staff_done done) {
    using persistence::staff_action;
    auto t = now();
    std::string moving;
    bool checked = false;
    if (c.action == staff_action::create || c.action == staff_action::reschedule) {
      core::staff_time_check check;
      try {
        check = agenda->check_staff_time(c.action == staff_action::reschedule, c.appointment_id, c.slot, t);
      } catch (const std::exception& ex) {
        done(caf::make_error(caf::sec::runtime_error, ex.what()));
        return;
      }
      if (check.refusal) {
        if (check.taken)
          ++refused;
        done(refusal(*check.refusal, std::move(check.alternatives)));
        return;
      }
      moving = check.moving;
      // An appointment not in the agenda (past, inactive or unknown): PostgreSQL says which.
      c.slot = check.slot.value_or(core::slot{});
      checked = check.slot.has_value();
    }
    // The hold keeps the time from every chat and API request while PostgreSQL writes.
    const std::string owner = "staff:" + std::to_string(++staff_changes);
    if (checked)
      agenda->hold_for_write(owner, c.slot, t);
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), change_atom::value, clinic_id, c,
                  ms(t))
      .then(
        [=](persistence::staff_write& w) mutable {
          if (checked)
            agenda->end_write(owner, c.slot);
          if (w.outcome == persistence::agenda_outcome::not_found) {
            done(refusal(core::error_code::not_found, "no such appointment", {}));
          } else if (!w.refused.empty()) {
            done(refusal(core::error_code::conflict, w.refused, "status"));
          } else if (w.outcome == persistence::agenda_outcome::slot_taken) {
            // Another node got there first (the database's guard).
            count_booking("refused_by_database");
            auto alternatives = agenda->alternatives(c.slot, moving, now());
            if (c.slot.end > c.slot.start)
              ++refused;
            done(refusal({true, "starts_at", "this time was just booked"}, std::move(alternatives)));
          } else {
            const auto& entry = w.record->entry;
            recorded(entry, c.action == staff_action::create || c.action == staff_action::reschedule,
                     notice_of(c.action));
            count_booking(staff_change_name(c.action));
            core::log_event(spdlog::level::info, "appointment_changed_by_staff",
                            {{"clinic_id", clinic_id}, {"appointment_id", entry.appointment.id},
                             {"change", staff_change_name(c.action)}, {"correlation_id", c.by.request_id}});
            staff_answer a;
            a.ok = true;
            a.record = std::move(w.record);
            a.timezone = profile->timezone;
            done(std::move(a));
          }
        },
        [=](caf::error& err) mutable {
          if (checked)
            agenda->end_write(owner, c.slot);
          log_write_failed("staff_change", err);
          done(std::move(err));
        });
  }

  static const char* staff_change_name(persistence::staff_action a) {
    switch (a) {
      case persistence::staff_action::create: return "booked_by_staff";
      case persistence::staff_action::reschedule: return "rescheduled_by_staff";
      case persistence::staff_action::cancel: return "cancelled_by_staff";
      case persistence::staff_action::attended: return "attended";
      case persistence::staff_action::no_show: return "no_show";
    }
    return "changed_by_staff";
  }

  // -- supervision ------------------------------------------------------------

  void on_down(const caf::down_msg& msg) {
    auto found = children.find(msg.source);
    if (found == children.end())
      return;
    auto [flow, conversation_id] = std::move(found->second);
    children.erase(found);
    if (erased.count(conversation_id)) { // stopped by an erasure (or stopping itself after it): no restart
      if (auto it = conversations.find(conversation_id); it != conversations.end() && it->second.address() == msg.source)
        conversations.erase(it);
      (flow ? flow_metrics : conversation_metrics).on_down(false, false);
      return;
    }
    if (!flow) {
      // The map may already hold a newer actor for this conversation (this one was
      // forgotten when it stopped racing a staff action).
      if (auto it = conversations.find(conversation_id); it != conversations.end() && it->second.address() == msg.source)
        conversations.erase(it);
      // A conversation stops normally only when idle (passivation).
      conversation_metrics.on_down(static_cast<bool>(msg.reason), !msg.reason);
      if (!msg.reason) {
        if (!flows.count(conversation_id))
          agenda->forget_phone(conversation_id); // its next message tells it again
        return;
      }
      if (crashed("conversation", conversation_id, msg.reason))
        return;
      // Restart: a fresh actor rebuilds its memory from PostgreSQL and gets the
      // messages the dead one had not answered.
      replay(conversation_id);
      return;
    }
    // A flow: it stops itself when it has nothing open (and is forgotten here at once,
    // so it may be found nowhere); after a crash the next message re-creates it from
    // the state its conversation persisted.
    flow_metrics.on_down(static_cast<bool>(msg.reason), false);
    if (auto it = flows.find(conversation_id); it != flows.end() && it->second.address() == msg.source)
      flows.erase(it);
    if (!flows.count(conversation_id) && !conversations.count(conversation_id))
      agenda->forget_phone(conversation_id); // neither is live: its next message tells it again
    if (msg.reason)
      crashed("appointment_flow", conversation_id, msg.reason);
  }

  /// Logs a child's crash (counted by the caller); past the restart intensity this clinic gives up
  /// (its children stop with it) and the router, its supervisor, decides. True when it
  /// gave up.
  bool crashed(const char* kind, const std::string& conversation_id, const caf::error& reason) {
    core::log_event(spdlog::level::err, "actor_crashed",
                    {{"kind", kind}, {"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                     {"reason", caf::to_string(reason)}});
    if (!restarts->record(now()))
      return false;
    core::log_event(spdlog::level::err, "supervisor_escalates",
                    {{"kind", name}, {"clinic_id", clinic_id},
                     {"max_restarts", node->cfg.supervision.max_restarts},
                     {"window_seconds", node->cfg.supervision.window_seconds}});
    auto why = caf::make_error(caf::sec::runtime_error, "restart intensity exceeded in clinic " + clinic_id);
    stop_children(why);
    self->quit(why);
    return true;
  }

  /// Stops every child with `reason` (this clinic is going): they are no longer resident.
  void stop_children(const caf::error& reason) {
    for (auto& [_, conversation] : conversations)
      self->send_exit(conversation, reason);
    for (auto& [_, flow] : flows)
      self->send_exit(flow, reason);
    conversation_metrics.live->add(-static_cast<int64_t>(conversations.size()));
    flow_metrics.live->add(-static_cast<int64_t>(flows.size()));
    conversations.clear();
    flows.clear();
  }

  // -- inspection -------------------------------------------------------------

  /// Its live actors (what = clinic), their totals (summary), or one conversation or flow.
  caf::typed_response_promise<std::string> inspect(const inspect_query& q) {
    auto rp = self->make_response_promise<std::string>();
    auto not_live = [&] { rp.deliver(nlohmann::json{{"live", false}, {"clinic_id", clinic_id}}.dump()); };
    if (q.what == "conversation" || q.what == "flow") {
      auto one = [&](const auto& map, const char* kind) {
        auto it = map.find(q.id);
        if (it == map.end())
          return not_live();
        self->request(it->second, inspect_patience, inspect_atom::value)
          .then([rp](std::string& s) mutable { rp.deliver(std::move(s)); },
                [rp, id = q.id, kind](const caf::error&) mutable { rp.deliver(busy_entry(kind, id).dump()); });
      };
      q.what == "flow" ? one(flows, "appointment_flow") : one(conversations, "conversation");
      return rp;
    }
    auto own = nlohmann::json::parse(inspect());
    std::vector<std::pair<std::string, conversation_actor>> cs(conversations.begin(), conversations.end());
    std::vector<std::pair<std::string, appointment_flow_actor>> fs(flows.begin(), flows.end());
    bool summary = q.what == "summary";
    gather_inspections(self, "conversation", cs, [=](nlohmann::json convs) mutable {
      gather_inspections(self, "appointment_flow", fs, [=](nlohmann::json fls) mutable {
        if (!summary) {
          rp.deliver(nlohmann::json{{"clinic", own}, {"conversations", convs}, {"flows", fls}}.dump());
          return;
        }
        int64_t mailbox = own.value("mailbox", 0);
        int64_t busy = 0;
        for (auto* list : {&convs, &fls})
          for (auto& a : *list) {
            mailbox += a.value("mailbox", 0);
            busy += a.value("status", "") == "busy" ? 1 : 0;
          }
        rp.deliver(nlohmann::json{{"clinic_id", clinic_id},
                                  {"conversations", convs.size()},
                                  {"flows", fls.size()},
                                  {"mailbox", mailbox},
                                  {"busy", busy}}
                     .dump());
      });
    });
    return rp;
  }

  std::string inspect() const {
    return nlohmann::json{{"kind", name},
                          {"id", clinic_id},
                          {"node", node->cfg.node.id},
                          {"status", ready() ? "ready" : "loading"},
                          {"mailbox", self->mailbox().size()},
                          {"restarts_in_window", restarts->recent(now())},
                          {"clinic_id", clinic_id},
                          {"loaded", profile != nullptr},
                          {"agenda_loaded", agenda_loaded},
                          {"reloading", reloading},
                          {"conversations", conversations.size()},
                          {"flows", flows.size()},
                          {"appointments", agenda->appointments().size()},
                          {"holds", agenda->holds().size()},
                          {"bookings", bookings},
                          {"refused", refused},
                          {"waiting", waiting.size()},
                          {"processed", processed}}
      .dump();
  }
};

clinic_actor::behavior_type clinic(clinic_actor::stateful_pointer<clinic_state> self, node_context_ptr node,
                                   router_actor parent, std::string clinic_id, bool restarted) {
  auto& st = self->state;
  st.self = self;
  st.node = std::move(node);
  st.clinic_id = std::move(clinic_id);
  st.replay_on_ready = restarted;
  // Until its profile is loaded the agenda has none to admit against: it refuses.
  st.agenda.emplace(std::make_shared<const core::clinic_profile>(),
                    std::chrono::minutes(st.node->cfg.flow.hold_minutes));
  st.restarts = std::make_unique<core::restart_intensity>(
    st.node->cfg.supervision.max_restarts, std::chrono::seconds(st.node->cfg.supervision.window_seconds));
  st.conversation_metrics = actor_kind_metrics::of(*st.node->metrics, "conversation");
  st.flow_metrics = actor_kind_metrics::of(*st.node->metrics, "appointment_flow");
  // A crashed router is replaced by the root supervisor with a router that knows no
  // clinics: its clinics stop with it (their unanswered messages are swept again).
  self->monitor(parent);
  self->set_down_handler([self, parent = parent.address()](caf::down_msg& msg) {
    if (msg.source == parent) {
      self->state.stop_children(msg.reason);
      self->quit(msg.reason);
      return;
    }
    self->state.on_down(msg);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.stop_children(msg.reason);
    self->quit(msg.reason);
  });
  self->state.load();
  return {
    [self](process_atom, stored_message& m) { self->state.process(std::move(m)); },
    [self](flow_atom, flow_request& req) { return self->state.flow(std::move(req)); },
    [self](agenda_atom, const std::string& conversation_id) { return self->state.snapshot(conversation_id); },
    [self](hold_atom, const std::string& conversation_id, const std::string& owner, const core::slot& s) {
      return self->state.hold(conversation_id, owner, s);
    },
    [self](release_atom, const std::string& owner, const core::slot& s) { self->state.release(owner, s); },
    [self](book_atom, const std::string& conversation_id, const std::string& owner, const core::slot& s) {
      return self->state.book(conversation_id, owner, s);
    },
    [self](reschedule_atom, const std::string& conversation_id, const std::string& owner,
           const std::string& appointment_id, const core::slot& s) {
      return self->state.reschedule(conversation_id, owner, appointment_id, s);
    },
    [self](cancel_atom, const std::string& conversation_id, const std::string& appointment_id) {
      return self->state.cancel(conversation_id, appointment_id);
    },
    [self](confirm_atom, const std::string& conversation_id, const std::string& appointment_id) {
      return self->state.confirm(conversation_id, appointment_id);
    },
    [self](remind_atom, core::due_reminder& r) { self->state.remind(std::move(r)); },
    [self](waitlist_atom, const std::string& conversation_id, const core::waitlist_wish& w, const std::string& lang) {
      return self->state.join_waitlist(conversation_id, w, lang);
    },
    [self](offer_atom, const std::string& conversation_id, const std::string& offer_id, bool accept) {
      return self->state.answer_offer(conversation_id, offer_id, accept);
    },
    [self](expired_atom, flow_expiry& e) { self->state.expired(std::move(e)); },
    [self](reload_atom) { self->state.reload(); },
    [self](slots_atom, core::slot_query& q) { return self->state.slots(std::move(q)); },
    [self](load_atom) { self->state.process({}); },
    [self](change_atom, persistence::staff_change& c) { return self->state.staff(std::move(c)); },
    [self](staff_atom, staff_action& a) { self->state.staff(std::move(a)); },
    [self](inspect_atom) { return self->state.inspect(); },
    [self](inspect_atom, const inspect_query& q) { return self->state.inspect(q); },
  };
}

clinic_actor spawn_clinic(caf::actor_system& sys, node_context_ptr node, router_actor parent, std::string clinic_id,
                          bool restarted) {
  return sys.spawn(clinic, node, std::move(parent), std::move(clinic_id), restarted);
}

} // namespace atendeai::actors
