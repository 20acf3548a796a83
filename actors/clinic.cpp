#include "actors/clinic.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include <caf/all.hpp>

#include "actors/actor_metrics.hpp"
#include "actors/appointment_flow.hpp"
#include "actors/conversation.hpp"
#include "core/agenda_rules.hpp"
#include "actors/inspection.hpp"
#include "core/log.hpp"
#include "core/phone.hpp"
#include "core/supervision.hpp"

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
  std::deque<std::function<void()>> deferred; ///< admin API requests that arrived before them
  std::deque<staff_action> staff_waiting; ///< staff actions that arrived meanwhile
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
  uint64_t processed = 0;
  actor_kind_metrics conversation_metrics;
  actor_kind_metrics flow_metrics;

  // The agenda: active appointments from today on, absences, closures (from PostgreSQL)
  // and holds (memory only). Changed only here, in mailbox order.
  std::vector<persistence::agenda_entry> booked;
  std::vector<core::absence> absences;
  std::vector<core::closure> closures;
  std::vector<core::hold> holds;
  /// Each live conversation's patient number (E.164), from its messages: their
  /// appointments are found by it whoever booked them, on whichever channel.
  std::map<std::string, std::string> phones;
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
          load_agenda();
        },
        [=](const caf::error& err) { retry_load("clinic_load_failed", err); });
  }

  /// Asks the reader for the agenda from a day back (whatever "today" is in the clinic's
  /// zone is covered).
  auto ask_agenda() {
    auto from = node->clock->now() - std::chrono::hours(24);
    return self->request(node->reader_for(clinic_id), std::chrono::seconds(10), agenda_atom::value, clinic_id,
                         static_cast<int64_t>(from.time_since_epoch().count()));
  }

  void take_agenda(persistence::agenda_data& d) {
    booked = std::move(d.appointments);
    for (auto& e : booked)
      if (!e.conversation_id.empty() && !e.patient_phone.empty())
        phones.emplace(e.conversation_id, e.patient_phone);
    absences = std::move(d.absences);
    closures = std::move(d.closures);
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
    self->delayed_send(self, std::chrono::seconds(1), process_atom::value, stored_message{});
    loading = false;
  }

  // -- routing ----------------------------------------------------------------

  void process(stored_message m) {
    if (!m.message_id.empty())
      waiting.push_back(std::move(m));
    if (reloading)
      return; // drained when the new data is in
    if (!ready()) {
      if (!loading)
        profile ? load_agenda() : load();
      return;
    }
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
    while (!waiting.empty()) {
      route(std::move(waiting.front()));
      waiting.pop_front();
    }
    while (!deferred.empty()) {
      auto f = std::move(deferred.front());
      deferred.pop_front();
      f();
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
    ++processed;
    m.profile = profile; // a live conversation answers with the clinic's current data
    if (auto phone = core::contact_phone(m.msg.channel, m.msg.contact); !phone.empty())
      phones[m.conversation_id] = phone;
    auto& handle = conversation_for(m.conversation_id, m.new_conversation && !m.redelivery && !m.replayed);
    self->send(handle, process_atom::value, std::move(m));
  }

  /// A staff reply or release goes to the live conversation (re-created if passivated).
  /// When that actor stopped just before taking it (its passivation raced the action),
  /// the action goes once more, to a fresh actor.
  void staff(staff_action a, bool again = false) {
    if (!ready()) {
      staff_waiting.push_back(std::move(a));
      if (!loading)
        profile ? load_agenda() : load();
      return;
    }
    auto conversation_id = a.conversation_id;
    auto handle = conversation_for(conversation_id);
    self->request(handle, std::chrono::seconds(60), staff_atom::value, a)
      .then([](bool) {},
            [=](caf::error& err) mutable {
              if (again || err != caf::sec::request_receiver_down) {
                core::log_event(spdlog::level::warn, "staff_action_failed",
                                {{"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                                 {"error", caf::to_string(err)}});
                if (a.done)
                  a.done(false, {});
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
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), recover_atom::value, clinic_id, conversation_id)
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

  void prune(core::instant t) {
    holds.erase(std::remove_if(holds.begin(), holds.end(), [&](const core::hold& h) { return !h.live(t); }),
                holds.end());
  }

  core::agenda_view view(core::instant t) {
    prune(t);
    core::agenda_view v;
    v.appointments.reserve(booked.size());
    for (auto& e : booked)
      v.appointments.push_back(e.appointment);
    v.holds = holds;
    v.absences = absences;
    v.closures = closures;
    return v;
  }

  /// The contacts behind a conversation, as far as its bookings tell.
  std::set<std::string> contacts_of(const std::string& conversation_id) const {
    std::set<std::string> out;
    for (auto& e : booked)
      if (e.conversation_id == conversation_id)
        out.insert(e.appointment.contact_id);
    return out;
  }

  /// The conversation's patient owns this appointment: booked in it, by one of its
  /// contacts, or for its patient's number (staff, another channel, the other form of a
  /// Brazilian mobile).
  bool owns(const std::string& conversation_id, const persistence::agenda_entry& e) const {
    if (e.conversation_id == conversation_id)
      return true;
    if (auto p = phones.find(conversation_id); p != phones.end() && p->second == e.patient_phone)
      return true;
    return contacts_of(conversation_id).count(e.appointment.contact_id) > 0;
  }

  agenda_snapshot snapshot(const std::string& conversation_id) {
    auto t = now();
    agenda_snapshot s;
    s.view = view(t);
    for (auto& e : booked)
      if (e.appointment.active() && e.appointment.start >= t && owns(conversation_id, e))
        s.patient_appointments.push_back(e.appointment);
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

  /// True when `s` is one of the free slots (policy, hours, agenda) for `owner`.
  bool bookable(const core::slot& s, const std::string& owner, const std::string& moving_id, core::instant t) {
    try {
      const auto* tz = core::clinic_zone(*profile);
      auto day = core::local_date(tz, s.start);
      core::slot_query q;
      q.service_id = s.service_id;
      q.professional_id = s.professional_id;
      q.from = day;
      q.to = day;
      q.ignore_hold_owner = owner;
      if (!moving_id.empty())
        q.ignore_appointment_id = moving_id;
      auto free = core::free_slots(*profile, q, view(t), t);
      return std::find(free.begin(), free.end(), s) != free.end();
    } catch (const std::exception& e) {
      core::log_event(spdlog::level::warn, "slot_check_failed", {{"clinic_id", clinic_id}, {"error", e.what()}});
      return false;
    }
  }

  bool held_by(const std::string& owner, const core::slot& s, core::instant t) const {
    return std::any_of(holds.begin(), holds.end(),
                       [&](const core::hold& h) { return h.owner == owner && h.slot == s && h.live(t); });
  }

  void drop_hold(const std::string& owner, const core::slot& s) {
    holds.erase(std::remove_if(holds.begin(), holds.end(),
                               [&](const core::hold& h) { return h.owner == owner && h.slot == s; }),
                holds.end());
  }

  void put_hold(const std::string& owner, const core::slot& s, core::instant t) {
    drop_hold(owner, s);
    holds.push_back({s, t + std::chrono::minutes(node->cfg.flow.hold_minutes), owner});
  }

  clinic_answer hold(const std::string& conversation_id, const std::string& owner, const core::slot& s) {
    auto t = now();
    if (!held_by(owner, s, t) && !bookable(s, owner, {}, t)) {
      ++refused;
      return answer(core::clinic_result::outcome::slot_taken, conversation_id);
    }
    put_hold(owner, s, t);
    return answer(core::clinic_result::outcome::booked, conversation_id);
  }

  void release(const std::string& owner, const core::slot& s) { drop_hold(owner, s); }

  persistence::agenda_entry* find_booked(const std::string& appointment_id) {
    for (auto& e : booked)
      if (e.appointment.id == appointment_id)
        return &e;
    return nullptr;
  }

  void count_booking(const char* what) {
    node->metrics
      ->counter_with("atendeai_appointments_total", "Appointment changes (chat and admin API)", {{"change", what}})
      .inc();
  }

  void log_write_failed(const char* what, const caf::error& err) {
    core::log_event(spdlog::level::warn, "agenda_write_failed",
                    {{"clinic_id", clinic_id}, {"what", what}, {"error", caf::to_string(err)}});
  }

  caf::typed_response_promise<clinic_answer> book(const std::string& conversation_id, const std::string& owner,
                                                  const core::slot& s) {
    auto rp = self->make_response_promise<clinic_answer>();
    auto t = now();
    // A repeated book (a flow resumed after a restart) is already done.
    for (auto& e : booked)
      if (e.conversation_id == conversation_id && e.appointment.professional_id == s.professional_id &&
          e.appointment.start == s.start && e.appointment.active()) {
        rp.deliver(answer(core::clinic_result::outcome::booked, conversation_id, e.appointment));
        return rp;
      }
    if (!held_by(owner, s, t) && !bookable(s, owner, {}, t)) {
      ++refused;
      rp.deliver(answer(core::clinic_result::outcome::slot_taken, conversation_id));
      return rp;
    }
    // The hold keeps the slot from everyone else while PostgreSQL writes.
    put_hold(owner, s, t);
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), book_atom::value, clinic_id, conversation_id, s)
      .then(
        [=](persistence::agenda_write& w) mutable {
          drop_hold(owner, s);
          switch (w.outcome) {
            case persistence::agenda_outcome::ok: {
              booked.push_back(*w.entry);
              ++bookings;
              count_booking("booked");
              core::log_event(spdlog::level::info, "appointment_booked",
                              {{"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                               {"appointment_id", w.entry->appointment.id}});
              rp.deliver(answer(core::clinic_result::outcome::booked, conversation_id, w.entry->appointment));
              return;
            }
            case persistence::agenda_outcome::slot_taken:
              // Another node or a staff write got there first (the database's guard).
              ++refused;
              count_booking("refused_by_database");
              rp.deliver(answer(core::clinic_result::outcome::slot_taken, conversation_id));
              return;
            case persistence::agenda_outcome::not_found:
              rp.deliver(answer(core::clinic_result::outcome::not_found, conversation_id));
              return;
          }
        },
        [=](caf::error& err) mutable {
          log_write_failed("book", err);
          rp.deliver(std::move(err));
        });
    return rp;
  }

  caf::typed_response_promise<clinic_answer> reschedule(const std::string& conversation_id, const std::string& owner,
                                                        const std::string& appointment_id, const core::slot& s) {
    auto rp = self->make_response_promise<clinic_answer>();
    auto t = now();
    auto* e = find_booked(appointment_id);
    if (!e || !owns(conversation_id, *e)) {
      rp.deliver(answer(core::clinic_result::outcome::not_found, conversation_id));
      return rp;
    }
    if (e->appointment.professional_id == s.professional_id && e->appointment.start == s.start) {
      rp.deliver(answer(core::clinic_result::outcome::rescheduled, conversation_id, e->appointment));
      return rp;
    }
    if (!held_by(owner, s, t) && !bookable(s, owner, appointment_id, t)) {
      ++refused;
      rp.deliver(answer(core::clinic_result::outcome::slot_taken, conversation_id));
      return rp;
    }
    put_hold(owner, s, t);
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), reschedule_atom::value, clinic_id,
                  appointment_id, s)
      .then(
        [=](persistence::agenda_write& w) mutable {
          drop_hold(owner, s);
          if (w.outcome == persistence::agenda_outcome::ok) {
            if (auto* moved = find_booked(appointment_id))
              *moved = *w.entry;
            else
              booked.push_back(*w.entry);
            count_booking("rescheduled");
            rp.deliver(answer(core::clinic_result::outcome::rescheduled, conversation_id, w.entry->appointment));
          } else if (w.outcome == persistence::agenda_outcome::slot_taken) {
            ++refused;
            rp.deliver(answer(core::clinic_result::outcome::slot_taken, conversation_id));
          } else {
            forget_booked(appointment_id);
            rp.deliver(answer(core::clinic_result::outcome::not_found, conversation_id));
          }
        },
        [=](caf::error& err) mutable {
          log_write_failed("reschedule", err);
          rp.deliver(std::move(err));
        });
    return rp;
  }

  void forget_booked(const std::string& appointment_id) {
    booked.erase(std::remove_if(booked.begin(), booked.end(),
                                [&](const persistence::agenda_entry& e) { return e.appointment.id == appointment_id; }),
                 booked.end());
  }

  caf::typed_response_promise<clinic_answer> cancel(const std::string& conversation_id,
                                                    const std::string& appointment_id) {
    auto rp = self->make_response_promise<clinic_answer>();
    auto* e = find_booked(appointment_id);
    if (!e || !owns(conversation_id, *e)) {
      rp.deliver(answer(core::clinic_result::outcome::not_found, conversation_id));
      return rp;
    }
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), cancel_atom::value, clinic_id,
                  appointment_id, std::string("cancelled by the patient in chat"))
      .then(
        [=](persistence::agenda_write& w) mutable {
          // Cancelled (or no longer active): it leaves the agenda either way.
          forget_booked(appointment_id);
          if (w.outcome == persistence::agenda_outcome::ok) {
            count_booking("cancelled");
            auto a = w.entry->appointment;
            rp.deliver(answer(core::clinic_result::outcome::cancelled, conversation_id, a));
          } else {
            rp.deliver(answer(core::clinic_result::outcome::not_found, conversation_id));
          }
        },
        [=](caf::error& err) mutable {
          log_write_failed("cancel", err);
          rp.deliver(std::move(err));
        });
    return rp;
  }

  // -- the admin API ----------------------------------------------------------

  /// Runs `f` once the profile and agenda are loaded (at once when they are).
  void when_ready(std::function<void()> f) {
    if (ready()) {
      f();
      return;
    }
    deferred.push_back(std::move(f));
    if (!loading)
      profile ? load_agenda() : load();
  }

  /// The free slots of a query from the in-memory agenda: what the chat would offer.
  caf::typed_response_promise<slot_list> slots(core::slot_query q) {
    auto rp = self->make_response_promise<slot_list>();
    when_ready([=]() mutable {
      auto t = now();
      slot_list out;
      out.timezone = profile->timezone;
      // The query's service (and professional) must exist: the same checks as a booking.
      if (q.professional_id) {
        core::slot probe;
        if (auto r = core::make_slot(*profile, q.service_id, *q.professional_id, t, probe)) {
          out.field = r->field;
          out.message = r->message;
        }
      } else if (std::none_of(profile->services.begin(), profile->services.end(),
                              [&](const core::service& s) { return s.id == q.service_id && s.active; })) {
        out.field = "service_id";
        out.message = "no such active service in this clinic";
      }
      if (!out.field.empty()) {
        rp.deliver(std::move(out));
        return;
      }
      try {
        out.slots = core::free_slots(*profile, q, view(t), t);
      } catch (const std::exception& e) {
        rp.deliver(caf::make_error(caf::sec::runtime_error, e.what()));
        return;
      }
      rp.deliver(std::move(out));
    });
    return rp;
  }

  /// A staff change, serialised with the chat's holds and bookings: the time is checked
  /// against the in-memory agenda and held while PostgreSQL writes the row and its audit.
  caf::typed_response_promise<staff_answer> staff(persistence::staff_change c) {
    auto rp = self->make_response_promise<staff_answer>();
    when_ready([=]() mutable { apply_staff(std::move(c), rp); });
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

  /// A refused time: 409 with the nearest free slots, or 422 naming the field.
  staff_answer refusal(const core::agenda_refusal& r, const core::slot& wanted, const std::string& moving,
                       core::instant t) {
    auto a = refusal(r.conflict ? core::error_code::conflict : core::error_code::validation_failed, r.message, r.field);
    if (r.conflict && wanted.end > wanted.start) {
      ++refused;
      a.alternatives = core::alternative_slots(*profile, wanted, view(t), t, 5, moving);
    }
    return a;
  }

  void apply_staff(persistence::staff_change c, caf::typed_response_promise<staff_answer> rp) {
    using persistence::staff_action;
    auto t = now();
    std::string moving;
    bool checked = false;
    if (c.action == staff_action::create || c.action == staff_action::reschedule) {
      std::string service = c.slot.service_id;
      std::string professional = c.slot.professional_id;
      auto* e = c.action == staff_action::reschedule ? find_booked(c.appointment_id) : nullptr;
      if (e) {
        if (auto r = core::check_transition(e->appointment, core::agenda_change::reschedule, t)) {
          rp.deliver(refusal(*r, {}, {}, t));
          return;
        }
        moving = c.appointment_id;
        service = e->appointment.service_id;
        if (professional.empty())
          professional = e->appointment.professional_id;
      }
      // An appointment not in the agenda (past, inactive or unknown): PostgreSQL says which.
      if (c.action == staff_action::create || e) {
        core::slot s;
        try {
          if (auto r = core::make_slot(*profile, service, professional, c.slot.start, s)) {
            rp.deliver(refusal(*r, {}, {}, t));
            return;
          }
          if (auto r = core::check_slot(*profile, s, view(t), t, moving)) {
            rp.deliver(refusal(*r, s, moving, t));
            return;
          }
        } catch (const std::exception& ex) {
          rp.deliver(caf::make_error(caf::sec::runtime_error, ex.what()));
          return;
        }
        c.slot = s;
        checked = true;
      } else {
        c.slot = {};
      }
    }
    // The hold keeps the time from every chat and API request while PostgreSQL writes.
    const std::string owner = "staff:" + std::to_string(++staff_changes);
    if (checked)
      put_hold(owner, c.slot, t);
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), staff_atom::value, clinic_id, c,
                  static_cast<int64_t>(t.time_since_epoch().count()))
      .then(
        [=](persistence::staff_write& w) mutable {
          if (checked)
            drop_hold(owner, c.slot);
          if (w.outcome == persistence::agenda_outcome::not_found) {
            rp.deliver(refusal(core::error_code::not_found, "no such appointment", {}));
          } else if (!w.refused.empty()) {
            rp.deliver(refusal(core::error_code::conflict, w.refused, "status"));
          } else if (w.outcome == persistence::agenda_outcome::slot_taken) {
            // Another node got there first (the database's guard).
            count_booking("refused_by_database");
            rp.deliver(refusal({true, "starts_at", "this time was just booked"}, c.slot, moving, now()));
          } else {
            const auto& entry = w.record->entry;
            forget_booked(entry.appointment.id);
            if (entry.appointment.active())
              booked.push_back(entry);
            count_booking(staff_change_name(c.action));
            core::log_event(spdlog::level::info, "appointment_changed_by_staff",
                            {{"clinic_id", clinic_id}, {"appointment_id", entry.appointment.id},
                             {"change", staff_change_name(c.action)}, {"correlation_id", c.by.request_id}});
            staff_answer a;
            a.ok = true;
            a.record = std::move(w.record);
            a.timezone = profile->timezone;
            rp.deliver(std::move(a));
          }
        },
        [=](caf::error& err) mutable {
          if (checked)
            drop_hold(owner, c.slot);
          log_write_failed("staff_change", err);
          rp.deliver(std::move(err));
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
    if (!flow) {
      // The map may already hold a newer actor for this conversation (this one was
      // forgotten when it stopped racing a staff action).
      if (auto it = conversations.find(conversation_id); it != conversations.end() && it->second.address() == msg.source)
        conversations.erase(it);
      // A conversation stops normally only when idle (passivation).
      conversation_metrics.on_down(static_cast<bool>(msg.reason), !msg.reason);
      if (!msg.reason) {
        if (!flows.count(conversation_id))
          phones.erase(conversation_id); // its next message tells it again
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
      phones.erase(conversation_id); // neither is live: its next message tells it again
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
                          {"appointments", booked.size()},
                          {"holds", holds.size()},
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
    [self](expired_atom, flow_expiry& e) { self->state.expired(std::move(e)); },
    [self](reload_atom) { self->state.reload(); },
    [self](slots_atom, core::slot_query& q) { return self->state.slots(std::move(q)); },
    [self](staff_atom, persistence::staff_change& c) { return self->state.staff(std::move(c)); },
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
