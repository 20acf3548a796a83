#include "actors/appointment_flow.hpp"

#include <caf/all.hpp>

#include "core/agenda.hpp"
#include "core/log.hpp"
#include "core/waitlist.hpp"

namespace atendeai::actors {

struct appointment_flow_state {
  static constexpr const char* name = "appointment_flow";
  appointment_flow_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  clinic_profile_ptr profile;
  clinic_actor clinic;
  std::string conversation_id;
  bool started = false;             ///< the state was taken from the first request
  core::flow_state flow;            ///< the current state
  core::flow_state before;          ///< the state before the event in progress
  agenda_snapshot agenda;           ///< the clinic's agenda as last seen
  caf::typed_response_promise<flow_reply> pending; ///< the conversation waiting
  bool busy = false;                ///< an event is in progress
  uint64_t events = 0;
  core::instant checked_at{}; ///< the clock's "now" when the flow last looked for its expiry

  // -- work -------------------------------------------------------------------

  std::chrono::minutes expiry() const { return std::chrono::minutes(node->cfg.flow.expiry_minutes); }

  /// What a transition needs; slots come from the last agenda seen.
  core::flow_context context() {
    core::flow_context ctx{*profile, node->clock->now(), {}, agenda.patient_appointments, expiry()};
    ctx.find_slots = [this, now = ctx.now](const core::slot_query& q) {
      return core::free_slots(*profile, q, agenda.view, now);
    };
    return ctx;
  }

  caf::typed_response_promise<flow_reply> on_request(flow_request req) {
    auto rp = self->make_response_promise<flow_reply>();
    if (busy) {
      // The conversation waits for each answer, so this is a second conversation
      // actor for one id (a crash and restart raced): refuse rather than interleave.
      rp.deliver(caf::make_error(caf::sec::request_timeout));
      return rp;
    }
    busy = true;
    pending = rp;
    ++events;
    if (req.profile)
      profile = req.profile; // the clinic's current data (it may have changed since the flow began)
    if (!started) {
      started = true;
      try {
        flow = req.flow.is_object() ? core::flow_state_from_json(req.flow) : fresh(req.lang);
      } catch (const std::exception& e) {
        core::log_event(spdlog::level::warn, "flow_state_unreadable",
                        {{"clinic_id", profile->id}, {"conversation_id", conversation_id}, {"error", e.what()}});
        flow = fresh(req.lang);
      }
    }
    before = flow;
    self->request(clinic, std::chrono::seconds(10), agenda_atom::value, conversation_id)
      .await(
        [this, req](agenda_snapshot& snap) {
          agenda = std::move(snap);
          // After a restart in the middle of a booking: finish what was asked of the
          // clinic first; its outcome is this message's reply.
          if (auto action = core::pending_action(flow)) {
            carry_out({*action}, 0, {});
            return;
          }
          step(req.message);
        },
        [this](caf::error& err) { fail(err); });
    return rp;
  }

  core::flow_state fresh(const std::string& lang) {
    return core::new_flow(conversation_id, node->clock->now(), lang == "en" ? "en" : "pt-BR");
  }

  /// One patient message through the transition function.
  void step(const core::patient_message& msg) {
    auto ctx = context();
    // A flow left silent past its expiry (its timer died with a node) ends quietly
    // before the new message is read; the new message then starts afresh if it asks.
    if (!core::is_terminal(flow.step) && !flow.awaiting_clinic && ctx.now >= core::flow_expires_at(flow, expiry())) {
      auto t = core::next_flow_state(flow, core::expiry_tick{}, ctx);
      flow = t.state;
      for (auto& a : t.actions)
        if (a.kind == core::flow_action_kind::release_hold && a.slot)
          self->send(clinic, release_atom::value, flow.hold_owner, *a.slot);
    }
    core::flow_transition t;
    try {
      t = core::next_flow_state(flow, msg, ctx);
    } catch (const std::exception& e) {
      fail(caf::make_error(caf::sec::runtime_error, e.what()));
      return;
    }
    if (!t.consumed) {
      finish(false, {});
      return;
    }
    flow = std::move(t.state);
    carry_out(std::move(t.actions), 0, std::move(t.messages));
  }

  /// Feeds the clinic's answer back into the transition function.
  void feed(const core::clinic_result& r) {
    auto t = core::next_flow_state(flow, r, context());
    flow = std::move(t.state);
    carry_out(std::move(t.actions), 0, std::move(t.messages));
  }

  /// Carries out actions[i..] in order, then answers with `messages`. A refused hold or
  /// an answer to book/reschedule/cancel replaces the messages with the ones of the
  /// transition that the clinic's answer makes.
  void carry_out(std::vector<core::flow_action> actions, size_t i, std::vector<core::outbound_message> messages) {
    const auto& owner = flow.hold_owner;
    for (; i < actions.size(); ++i) {
      const auto& a = actions[i];
      switch (a.kind) {
        case core::flow_action_kind::release_hold:
          if (a.slot)
            self->send(clinic, release_atom::value, owner, *a.slot);
          continue;
        case core::flow_action_kind::hold_slot:
          if (!a.slot)
            continue;
          self->request(clinic, std::chrono::seconds(10), hold_atom::value, conversation_id, owner, *a.slot)
            .await(
              [this, actions, i, messages](clinic_answer& ans) mutable {
                agenda = std::move(ans.snapshot);
                if (ans.result.what == core::clinic_result::outcome::slot_taken)
                  feed(ans.result);
                else
                  carry_out(std::move(actions), i + 1, std::move(messages));
              },
              [this](caf::error& err) { fail(err); });
          return;
        case core::flow_action_kind::book:
          if (!a.slot)
            continue;
          await_result(self->request(clinic, std::chrono::seconds(30), book_atom::value, conversation_id, owner, *a.slot));
          return;
        case core::flow_action_kind::reschedule:
          if (!a.slot)
            continue;
          await_result(self->request(clinic, std::chrono::seconds(30), reschedule_atom::value, conversation_id, owner,
                                     a.appointment_id, *a.slot));
          return;
        case core::flow_action_kind::cancel_appointment:
          await_result(self->request(clinic, std::chrono::seconds(30), cancel_atom::value, conversation_id,
                                     a.appointment_id));
          return;
        case core::flow_action_kind::join_waitlist:
          await_result(self->request(clinic, std::chrono::seconds(30), waitlist_atom::value, conversation_id,
                                     core::waitlist_wish_of(flow), flow.lang));
          return;
        case core::flow_action_kind::confirm_appointment:
          await_result(self->request(clinic, std::chrono::seconds(30), confirm_atom::value, conversation_id,
                                     a.appointment_id));
          return;
      }
    }
    finish(true, std::move(messages));
  }

  template <class Handle>
  void await_result(Handle&& h) {
    h.await(
      [this](clinic_answer& ans) {
        agenda = std::move(ans.snapshot);
        feed(ans.result);
      },
      [this](caf::error& err) { fail(err); });
  }

  void finish(bool consumed, std::vector<core::outbound_message> messages) {
    flow_reply r;
    r.consumed = consumed;
    if (!messages.empty()) {
      // The transition function says at most one; join defensively rather than drop.
      r.reply = std::move(messages.front());
      for (size_t k = 1; k < messages.size(); ++k)
        r.reply->text += "\n\n" + messages[k].text;
    }
    // Nothing open (ended, or never started): the conversation forgets the flow and
    // this actor stops; the clinic forgets it when it sees the null state.
    const bool open = !core::is_terminal(flow.step) && flow.step != core::flow_step::start;
    r.flow = open ? core::to_json(flow) : nlohmann::json();
    r.lang = flow.lang;
    busy = false;
    pending.deliver(std::move(r));
    if (!open) {
      self->quit();
      return;
    }
    schedule_expiry();
  }

  void fail(const caf::error& err) {
    core::log_event(spdlog::level::warn, "flow_failed",
                    {{"clinic_id", profile->id}, {"conversation_id", conversation_id}, {"error", caf::to_string(err)}});
    flow = before;
    busy = false;
    pending.deliver(err);
    // The clinic forgets this flow on the error; the next message re-creates it from the
    // state its conversation persisted.
    self->quit();
  }

  void schedule_expiry() {
    if (core::is_terminal(flow.step))
      return;
    auto wait = core::flow_expires_at(flow, expiry()) - node->clock->now();
    if (node->clock->jumps()) // a test clock may jump ahead: look again soon
      wait = std::min<std::chrono::milliseconds>(wait, std::chrono::milliseconds(500));
    self->delayed_send(self, std::max<std::chrono::milliseconds>(wait, std::chrono::seconds(1)) + std::chrono::milliseconds(50),
                       tick_atom::value);
  }

  /// The patient stayed silent: release the hold and tell them (through the clinic
  /// and the conversation), then the clinic stops this actor.
  void tick() {
    if (busy || core::is_terminal(flow.step) || flow.awaiting_clinic)
      return;
    auto ctx = context();
    checked_at = ctx.now;
    if (ctx.now < core::flow_expires_at(flow, expiry())) {
      schedule_expiry();
      return;
    }
    auto t = core::next_flow_state(flow, core::expiry_tick{}, ctx);
    flow = std::move(t.state);
    for (auto& a : t.actions)
      if (a.kind == core::flow_action_kind::release_hold && a.slot)
        self->send(clinic, release_atom::value, flow.hold_owner, *a.slot);
    flow_expiry e{conversation_id, std::nullopt};
    if (!t.messages.empty())
      e.message = std::move(t.messages.front());
    core::log_event(spdlog::level::info, "flow_expired",
                    {{"clinic_id", profile->id}, {"conversation_id", conversation_id}});
    self->send(clinic, expired_atom::value, std::move(e));
    self->quit();
  }

  std::string inspect() const {
    return nlohmann::json{{"kind", name},
                          {"id", conversation_id},
                          {"clinic_id", profile->id},
                          {"conversation_id", conversation_id},
                          {"node", node->cfg.node.id},
                          {"live", true},
                          {"status", busy ? "working" : "waiting"},
                          {"state", core::to_json(flow)},
                          {"busy", busy},
                          {"events", events},
                          {"mailbox", self->mailbox().size()},
                          {"last_activity", core::format_iso(flow.last_activity)},
                          {"checked_at", checked_at == core::instant{} ? nlohmann::json() : nlohmann::json(core::format_iso(checked_at))}}
      .dump();
  }
};

appointment_flow_actor::behavior_type appointment_flow(appointment_flow_actor::stateful_pointer<appointment_flow_state> self,
                                                       node_context_ptr node, clinic_profile_ptr profile,
                                                       clinic_actor clinic, std::string conversation_id) {
  auto& st = self->state;
  st.self = self;
  st.node = std::move(node);
  st.profile = std::move(profile);
  st.clinic = std::move(clinic);
  st.conversation_id = std::move(conversation_id);
  return {
    [self](flow_atom, flow_request& req) { return self->state.on_request(std::move(req)); },
    [self](tick_atom) { self->state.tick(); },
    [self](inspect_atom) { return self->state.inspect(); },
  };
}

appointment_flow_actor spawn_appointment_flow(caf::actor_system& sys, node_context_ptr node,
                                              clinic_profile_ptr profile, clinic_actor clinic,
                                              std::string conversation_id) {
  return sys.spawn(appointment_flow, std::move(node), std::move(profile), std::move(clinic),
                   std::move(conversation_id));
}

} // namespace atendeai::actors
