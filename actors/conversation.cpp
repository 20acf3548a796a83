#include "actors/conversation.hpp"

#include <cstdlib>
#include <algorithm>
#include <optional>
#include <utility>
#include <vector>
#include <stdexcept>

#include <caf/all.hpp>
#include <date/tz.h>

#include "actors/actor_metrics.hpp"
#include "core/conversation.hpp"
#include "core/faq.hpp"
#include "core/language_model.hpp"
#include "core/log.hpp"
#include "core/password.hpp"
#include "core/privacy.hpp"
#include "core/reminders.hpp"
#include "core/waitlist.hpp"
#include "core/slots.hpp"
#include "core/understanding.hpp"
#include "core/whatsapp.hpp"
#include "persistence/audit.hpp"

namespace atendeai::actors {

/// One message of the memory window.
struct memory_line {
  bool outbound = false;
  std::string text;
};

/// Where a conversation's unprompted messages go: the channel of its last inbound one.
struct reply_target {
  std::string channel;
  std::string account_id;
  std::string recipient;
};

struct conversation_state_holder {
  static constexpr const char* name = "conversation";
  conversation_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  clinic_profile_ptr profile;
  clinic_actor clinic;
  std::string clinic_id;
  std::string conversation_id;
  bool loaded = false;
  bool known_contact = false;
  core::conversation_state state;
  std::string written_state; ///< the state as last loaded or handed to a writer (JSON)
  // Resident for as long as the patient may write again: kept small (vectors allocate
  // nothing while empty, where a std::deque allocates a 512-byte block at once).
  std::vector<memory_line> memory;      ///< the window, oldest first
  std::vector<uint64_t> recent_ids;     ///< hashes of the last inbound wamids, oldest first
  std::vector<stored_message> waiting;  ///< messages that arrived before the memory
  std::vector<staff_action> staff_waiting; ///< staff actions that arrived before the memory
  std::optional<flow_expiry> expiry_waiting; ///< a flow's expiry that arrived before the memory
  std::vector<proactive_message> proactive_waiting; ///< reminders that arrived before the memory
  /// End of the 24-hour window from the channel timestamps of the messages seen live
  /// (a reminder also brings PostgreSQL's, for a conversation that just woke up).
  std::optional<core::instant> window_until;
  core::instant last_activity;
  uint64_t handled = 0;
  const date::time_zone* zone = nullptr;
  std::optional<reply_target> last_in; ///< where the last inbound message came from (to write unprompted)
  bool erasure_asked = false; ///< the last reply asked whether to erase the patient's data

  // -- work -------------------------------------------------------------------

  void load() {
    self->request(node->reader_for(conversation_id), std::chrono::seconds(10), memory_atom::value, clinic_id,
                  conversation_id)
      .then(
        [=](conversation_snapshot& snap) {
          state = std::move(snap.state);
          written_state = durable(state);
          known_contact = snap.known_contact;
          for (auto& m : snap.memory)
            remember(m.first == "out", m.second);
          relearn_language();
          for (auto& id : snap.recent_external_ids)
            seen(id);
          if (!last_in && !snap.reply_contact.empty()) // woken up: unprompted messages still reach the patient
            last_in = reply_target{snap.reply_channel, snap.reply_account, snap.reply_contact};
          ready();
        },
        [=](const caf::error& err) {
          core::log_event(spdlog::level::warn, "conversation_load_failed",
                          {{"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                           {"error", caf::to_string(err)}});
          self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
        });
  }

  /// The memory is in: handle what waited for it.
  void ready() {
    loaded = true;
    if (expiry_waiting)
      flow_expired(*std::exchange(expiry_waiting, std::nullopt));
    for (auto& a : std::exchange(staff_waiting, {}))
      staff(std::move(a));
    for (auto& p : std::exchange(proactive_waiting, {}))
      proactive(std::move(p));
    for (auto& m : std::exchange(waiting, {}))
      handle(std::move(m));
  }

  /// A conversation the ingest just created: its memory is empty, its state the default.
  void start_fresh() {
    written_state = durable(state);
    loaded = true;
  }

  /// The part of the state that cannot be rebuilt from the messages (hand-over, flow,
  /// streaks): a change of it is written with the outbound message it goes with. The
  /// language is not part of it: every message sets it again, and a conversation that
  /// wakes up reads it from its last inbound message.
  static std::string durable(const core::conversation_state& s) {
    auto j = core::to_json(s);
    j.erase("lang");
    return j.dump();
  }

  /// The patient's language from the last inbound message of the memory, when the
  /// stored state did not carry it.
  void relearn_language() {
    if (!state.lang.empty())
      return;
    for (auto it = memory.rbegin(); it != memory.rend(); ++it)
      if (!it->outbound) {
        state.lang = core::understand(it->text, today(), *profile).lang == "en" ? "en" : "";
        return;
      }
  }

  /// A record for this conversation; its state goes along only when its durable part changed.
  reply_record new_record(reply_record::cause_kind kind) {
    reply_record rec;
    rec.kind = kind;
    rec.clinic_id = clinic_id;
    rec.conversation_id = conversation_id;
    rec.state = state;
    auto now = durable(state);
    rec.state_changed = now != written_state;
    written_state = std::move(now);
    return rec;
  }

  /// The reply's text and, rendered once, the channel API's request body.
  void attach_reply(reply_record& rec, core::outbound_message reply) {
    rec.has_reply = true;
    rec.reply = std::move(reply);
    rec.rendered = core::render_whatsapp_message(rec.reply, rec.recipient).dump();
    remember(true, rec.reply.text);
  }

  void remember(bool outbound, std::string text) {
    keep_last(memory, memory_line{outbound, std::move(text)}, static_cast<size_t>(node->cfg.conversation.memory_window));
  }

  /// Records an inbound id; false when it was seen already. Hashes stand for the ids: a
  /// collision within one conversation's last few dozen ids is out of reach in practice,
  /// and the database's unique key is the guard that counts either way.
  bool seen(const std::string& id) {
    auto h = std::hash<std::string>{}(id);
    if (std::find(recent_ids.begin(), recent_ids.end(), h) != recent_ids.end())
      return false;
    keep_last(recent_ids, h, static_cast<size_t>(2 * node->cfg.conversation.memory_window + 10));
    return true;
  }

  /// Appends to a bounded window, dropping the oldest entries past `limit`.
  template <class T>
  static void keep_last(std::vector<T>& window, T value, size_t limit) {
    window.push_back(std::move(value));
    if (window.size() > limit)
      window.erase(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(window.size() - limit));
  }

  date::year_month_day today() {
    if (!zone)
      zone = core::zone_or_default(profile->timezone);
    return core::local_date(zone, node->clock->now());
  }

  void process(stored_message m) {
    last_activity = node->clock->now();
    if (!loaded) {
      waiting.push_back(std::move(m));
      return;
    }
    handle(std::move(m));
  }

  void handle(stored_message m) {
    if (!seen(m.msg.external_id) && !m.redelivery) {
      node->metrics->counter_with("atendeai_conversation_duplicates_total", "Messages a conversation saw twice").inc();
      return;
    }
#ifdef ATENDEAI_TEST_HOOKS
    // Test hooks, on a message's first delivery only (its replay is handled normally).
    auto marked = [&](const char* env) {
      const char* marker = std::getenv(env);
      return marker && *marker && !m.redelivery && !m.replayed && m.msg.text.find(marker) != std::string::npos;
    };
    // Crash this actor while it handles the message.
    if (marked("ATENDEAI_TEST_CRASH_MARKER"))
      throw std::runtime_error("test hook: conversation crash requested");
    // Stay busy for a while before handling it: await an answer that cannot come (the
    // request waits behind the await), without holding a scheduler thread.
    if (marked("ATENDEAI_TEST_STALL_MARKER")) {
      self->request(caf::actor_cast<conversation_actor>(self), std::chrono::seconds(5), inspect_atom::value)
        .await([](std::string&) {}, [this, m](caf::error&) mutable { answer(std::move(m)); });
      return;
    }
#endif
    answer(std::move(m));
  }

  /// Understands a new message and answers it (through the flow when it is the flow's).
  void answer(stored_message m) {
    ++handled;
    if (m.profile && m.profile != profile) { // the clinic's data changed since the last message
      profile = m.profile;
      zone = nullptr;
    }
    if (m.msg.text.empty() && m.msg.reply_id.empty()) {
      if (m.msg.type == "audio")
        return voice_note(std::move(m));
      if (m.msg.type == "image" || m.msg.type == "video" || m.msg.type == "document")
        return media_without_text(std::move(m));
    }
    auto u = core::understand(m.msg.text, today(), *profile, state.lang);
    auto reminded = std::exchange(state.reminded, std::string{}); // answered now, or moved on
    auto offered = std::exchange(state.waitlist_offer, std::string{});
    // "quero sair da lista de espera" (before the opt-out, whose "sair da lista" it contains).
    if (m.msg.reply_id.empty() && !state.flow.is_object() && core::reads_waitlist_leave(m.msg.text)) {
      leave_waitlist(std::move(m), std::move(u));
      return;
    }
    if (core::reads_opt_out(m.msg.text) && !state.flow.is_object() && m.msg.reply_id.empty()) {
      state.opted_out = true;
      node->metrics->counter_with("atendeai_opt_outs_total", "Patients who asked for no proactive messages").inc();
      core::outbound_message bye;
      bye.text = core::opted_out_text(u.lang == "en" || state.lang == "en");
      record(m, u, std::move(bye), "opt_out");
      return;
    }
    state.opted_out = false; // they wrote again
    if (privacy_gate(m, u))
      return;
    // A typed answer to the reminder just sent reads like its button.
    if (!reminded.empty() && m.msg.reply_id.empty() && !state.flow.is_object())
      if (auto a = core::read_reminder_answer(m.msg.text))
        m.msg.reply_id = core::reminder_choice_id(*a, reminded);
    // A typed answer to the waitlist offer just sent reads like its button.
    if (!offered.empty() && m.msg.reply_id.empty() && !state.flow.is_object())
      if (auto a = core::read_waitlist_answer(m.msg.text))
        m.msg.reply_id = core::waitlist_choice_id(*a, offered);
    if (auto choice = core::parse_waitlist_choice(m.msg.reply_id); choice && !state.handoff) {
      answer_offer(std::move(m), std::move(u), *choice);
      return;
    }
    if (for_flow(u, m)) {
      ask_flow(std::move(m), std::move(u));
      return;
    }
    decide(std::move(m), u);
  }

  // -- LGPD -------------------------------------------------------------------

  /// The legal basis the clinic processes its patients' data on.
  const std::string& legal_basis() const {
    return core::legal_basis_of(profile->privacy, node->cfg.privacy.default_legal_basis);
  }

  static core::outbound_message plain(std::string text) {
    core::outbound_message m;
    m.text = std::move(text);
    return m;
  }

  /// The consent request as this patient sees it now (worded for one who said no).
  core::outbound_message consent_ask(bool en) const {
    return core::consent_request(*profile, profile->privacy, en,
                                 state.consent == "refused" || state.consent == "revoked");
  }

  /// Before anything else: a patient asking for their data is handed to staff (who confirm
  /// who they are and send it; never to the chat); under the consent basis a consent
  /// answer or revocation is recorded, and health matters wait for consent (hours, address,
  /// services and goodbyes are answered; a greeting is answered with the request). True
  /// when the message was answered here.
  bool privacy_gate(stored_message& m, const core::understanding& u) {
    if (state.handoff)
      return false;
    const bool en = u.lang == "en" || (u.lang.empty() && state.lang == "en");
    if (erasure_gate(m, u, en))
      return true;
    if (m.msg.reply_id.empty() && core::reads_data_request(m.msg.text)) {
      state.handoff = true;
      state.unknown_streak = 0;
      node->metrics->counter_with("atendeai_handoffs_total", "Conversations handed over to staff").inc();
      node->metrics->counter_with("atendeai_data_requests_total", "Patients asking for their data (LGPD)").inc();
      known_contact = true;
      record(m, u, plain(core::data_request_text(en)), "data_request");
      return true;
    }
    const auto& basis = legal_basis();
    if (basis != "consent")
      return false;
    if (auto e = core::read_consent(m.msg.reply_id, m.msg.text, state.consent_asked)) {
      record_consent(m, u, *e, basis, en);
      return true;
    }
    if (state.consent == "given")
      return false;
    const bool answerable = m.msg.reply_id.empty() && !state.flow.is_object() && core::needs_no_personal_data(u.intent);
    if (answerable && u.intent != core::intent::greeting)
      return false;
    auto ask = consent_ask(en);
    if (answerable) { // a greeting: answered with the request
      auto d = core::decide_reply(u, *profile, state, !known_contact, m.msg.text);
      if (d.reply)
        ask.text = d.reply->text + "\n\n" + ask.text;
    }
    known_contact = true;
    state.consent_asked = true;
    record(m, u, std::move(ask), "consent_request");
    return true;
  }

  /// A patient asking for their data to be erased is asked to confirm (what it means:
  /// erased, or locked where the clinic must keep records); once they confirm, the last
  /// reply goes out and the clinic erases the contact (every conversation of it ends).
  bool erasure_gate(stored_message& m, const core::understanding& u, bool en) {
    const auto& mode = profile->privacy.on_erasure;
    const bool asked = std::exchange(erasure_asked, false);
    if (auto yes = core::read_erasure_answer(m.msg.reply_id, m.msg.text, asked)) {
      known_contact = true;
      record(m, u, plain(core::erasure_answer_text(*yes, mode, en)), *yes ? "erasure_confirmed" : "erasure_cancelled");
      if (*yes) {
        staff_action a;
        a.what = staff_action::kind::erase;
        a.clinic_id = clinic_id;
        a.conversation_id = conversation_id;
        a.erase_mode = mode;
        a.conversation_ids = {conversation_id};
        auto audit = std::make_shared<persistence::audit_entry>();
        audit->clinic_id = clinic_id;
        audit->actor_role = "patient";
        audit->action = "contact.erase";
        audit->target_type = "conversation";
        audit->target_id = conversation_id;
        audit->after = {{"by", "patient"}, {"mode", mode}};
        audit->request_id = m.msg.external_id;
        a.audit = std::move(audit);
        self->send(clinic, staff_atom::value, std::move(a)); // the clinic stops every conversation of the patient
      }
      return true;
    }
    if (m.msg.reply_id.empty() && core::reads_erasure_request(m.msg.text)) {
      erasure_asked = true;
      known_contact = true;
      record(m, u, core::erasure_question(mode, en), "erasure_request");
      return true;
    }
    return false;
  }

  /// The patient's data erased (asked by staff or by the patient): after everything this
  /// conversation wrote (its writer keeps the order), one record erases the contact in
  /// the same transaction as the audit row; the live state goes and the actor stops.
  void erase(staff_action a) {
    auto rec = erasure_record(clinic_id, conversation_id, a.erase_mode);
    rec.audit = std::move(a.audit);
    rec.receipt = std::move(a.receipt);
    self->send(node->writer_for(conversation_id), record_atom::value, std::move(rec));
    node->metrics->counter_with("atendeai_erasures_total", "Patients' data erased or restricted (LGPD)",
                                {{"mode", a.erase_mode}, {"by", a.staff_user_id.empty() ? "patient" : "staff"}})
      .inc();
    core::log_event(spdlog::level::info, "contact_erased",
                    {{"clinic_id", clinic_id}, {"conversation_id", conversation_id}, {"mode", a.erase_mode}});
    state = core::conversation_state{};
    memory.clear();
    waiting.clear();
    last_in.reset();
    self->quit();
  }

  /// Writes a consent event (append-only) and only then answers the patient.
  void record_consent(stored_message m, core::understanding u, core::consent_event e, const std::string& basis,
                      bool en) {
    const std::string event(core::to_string(e));
    const auto version = core::sha256_hex(consent_ask(en).text);
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), consent_atom::value, clinic_id,
                  conversation_id, event, basis, version, m.msg.channel)
      .await(
        [this, m, u, e, event, en](bool) mutable {
          state.consent = event;
          state.consent_asked = false;
          node->metrics
            ->counter_with("atendeai_consent_events_total", "Consent given, refused or revoked (LGPD)",
                           {{"event", event}})
            .inc();
          core::log_event(spdlog::level::info, "consent_recorded",
                          {{"clinic_id", clinic_id}, {"conversation_id", conversation_id}, {"event", event}});
          known_contact = true;
          record(m, u, plain(core::consent_answer_text(e, *profile, en)), "consent_" + event);
        },
        [this, m, u, en](caf::error& err) mutable {
          core::log_event(spdlog::level::warn, "consent_unrecorded",
                          {{"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                           {"error", caf::to_string(err)}});
          record(m, u,
                 plain(en ? "Sorry, I couldn't record your answer just now. Please try again in a moment."
                          : "Desculpe, não consegui registrar sua resposta agora. Tente de novo em instantes."),
                 "consent_failed");
        });
  }

  /// The patient leaves the waitlist(s) they are on; answered once it is written.
  void leave_waitlist(stored_message m, core::understanding u) {
    const bool en = u.lang == "en" || (u.lang.empty() && state.lang == "en");
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), waitlist_atom::value, clinic_id,
                  conversation_id)
      .await(
        [this, m, u, en](int32_t left) mutable {
          known_contact = true;
          record(m, u, plain(core::waitlist_left_text(en, left > 0)), "waitlist_leave");
        },
        [this, m, u](caf::error& err) mutable { answer_without("waitlist_unavailable", std::move(m), u, err); });
  }

  /// The patient took or declined a time offered from the waitlist: the clinic books it
  /// or passes it on; an offer that is not theirs is answered like an unknown message.
  void answer_offer(stored_message m, core::understanding u, std::pair<core::waitlist_answer, std::string> choice) {
    const bool accept = choice.first == core::waitlist_answer::accept;
    self->request(clinic, std::chrono::seconds(60), offer_atom::value, conversation_id, choice.second, accept)
      .await(
        [this, m, u, accept](std::string& text) mutable {
          if (text.empty()) {
            core::understanding unknown;
            unknown.lang = u.lang;
            decide(std::move(m), unknown);
            return;
          }
          core::outbound_message reply;
          reply.text = std::move(text);
          known_contact = true;
          record(m, u, std::move(reply), accept ? "waitlist_accept" : "waitlist_decline");
        },
        [this, m, u](caf::error& err) mutable { answer_without("waitlist_unavailable", std::move(m), u, err); });
  }

  /// True when the message belongs to the booking flow: scheduling intents, interactive
  /// replies, and everything while a flow is open (the flow hands back what is not its).
  bool for_flow(const core::understanding& u, const stored_message& m) const {
    if (state.handoff)
      return false;
    return state.flow.is_object() || !m.msg.reply_id.empty() || u.intent == core::intent::book ||
           u.intent == core::intent::reschedule || u.intent == core::intent::cancel ||
           u.intent == core::intent::my_appointments;
  }

  /// Asks the clinic's flow and waits for its answer before any other message of this
  /// conversation (one reply per message, in order).
  void ask_flow(stored_message m, core::understanding u) {
    flow_request req;
    req.conversation_id = conversation_id;
    req.flow = state.flow;
    req.message.u = u;
    req.message.text = m.msg.text;
    if (!m.msg.reply_id.empty())
      req.message.reply_id = m.msg.reply_id;
    req.lang = state.lang;
    self->request(clinic, std::chrono::seconds(60), flow_atom::value, std::move(req))
      .await(
        [this, m, u](flow_reply& r) mutable {
          if (!r.consumed) {
            state.flow = std::move(r.flow);
            if (core::parse_reminder_choice(m.msg.reply_id)) {
              // Another patient's appointment, a stale or forged payload: changes nothing.
              core::understanding unknown;
              unknown.lang = u.lang;
              decide(std::move(m), unknown);
              return;
            }
            decide(std::move(m), u);
            return;
          }
          if (auto choice = core::parse_reminder_choice(m.msg.reply_id)) {
            // The patient's own answer to a reminder or notice, tapped or typed.
            static const char* answers[] = {"confirm", "reschedule", "cancel"};
            node->metrics
              ->counter_with("atendeai_reminder_answers_total", "Answers to reminders and notices, by choice",
                             {{"answer", answers[static_cast<int>(choice->first)]}})
              .inc();
          }
          state.flow = std::move(r.flow);
          state.lang = r.lang;
          state.unknown_streak = 0;
          state.human_offered = false;
          known_contact = true;
          record(m, u, std::move(r.reply));
        },
        [this, m, u](caf::error& err) mutable {
          // The agenda could not be reached: the usual reply (which is honest about it
          // for scheduling intents); the flow's persisted state stays as it was.
          answer_without("flow_unavailable", std::move(m), u, err);
        });
  }

  /// The clinic could not answer (down, slow): the usual reply, the failure logged.
  void answer_without(const char* event, stored_message m, const core::understanding& u, const caf::error& err) {
    core::log_event(spdlog::level::warn, event,
                    {{"clinic_id", clinic_id}, {"conversation_id", conversation_id}, {"error", caf::to_string(err)}});
    decide(std::move(m), u);
  }

  /// The reply without the flow (greetings, questions, hand-over...): the language model's
  /// when the clinic uses one and the rules do not know the answer, else the rules'.
  void decide(stored_message m, const core::understanding& u) {
    if (wants_model(m, u)) {
      ask_model(std::move(m), u);
      return;
    }
    decide_by_rules(std::move(m), u);
  }

  // -- the language model (optional) ------------------------------------------

  /// The deployment offers a model (ai.enabled) and this clinic chose to use it.
  bool model_on() const { return node->models.size() > 0 && profile->ai_behavior.use_model; }

  /// A typed message the rules did not understand, or a clinic question the clinic's FAQ
  /// does not answer (an FAQ entry is sent as written, without asking anyone).
  bool wants_model(const stored_message& m, const core::understanding& u) const {
    if (!model_on() || state.handoff || m.msg.text.empty() || !m.msg.reply_id.empty() || u.entities.yes_no)
      return false;
    // The language decide_reply matches the FAQ in.
    const std::string lang = u.lang == "en" ? "en" : (profile->language.empty() ? "pt-BR" : profile->language);
    if (u.intent == core::intent::clinic_question)
      return !core::match_faq(profile->faq, m.msg.text, u.topic, lang, core::faq_strictness::clinic_question);
    return u.intent == core::intent::unknown &&
           !core::match_faq(profile->faq, m.msg.text, {}, lang, core::faq_strictness::unknown);
  }

  void count_model_use(const std::string& use) {
    node->metrics->counter_with("atendeai_model_uses_total", "What the language model's answers were used for",
                                {{"use", use}})
      .inc();
  }

  /// The rules answer after all (the model was slow, down, or answered what may not be sent).
  void model_fallback(const std::string& reason, stored_message m, const core::understanding& u) {
    node->metrics
      ->counter_with("atendeai_model_fallbacks_total", "Messages answered by the rules after the model failed, by reason",
                     {{"reason", reason}})
      .inc();
    core::log_event(spdlog::level::info, "model_fallback",
                    {{"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                     {"correlation_id", m.msg.external_id}, {"reason", reason}});
    decide_by_rules(std::move(m), u);
  }

  /// Asks the model (patient's identifiers replaced by placeholders) and waits for it
  /// before any other message of this conversation; medical advice is declined first.
  void ask_model(stored_message m, core::understanding u) {
    const bool en = u.lang == "en";
    if (core::reads_medical_advice(m.msg.text))
      return decline_medical_advice(std::move(m), u, en);
    core::model_question q;
    q.model = node->cfg.ai.model;
    q.max_tokens = node->cfg.ai.max_tokens;
    q.lang = en ? "en" : "pt-BR";
    q.today = today();
    for (auto& line : memory)
      q.history.push_back({line.outbound, line.text});
    q.message = m.msg.text;
    if (!m.msg.contact_name.empty())
      q.names.push_back(m.msg.contact_name);
    model_call call{clinic_id, core::model_request_body(*profile, q).dump()};
    self->request(node->model_for(conversation_id), std::chrono::milliseconds(node->cfg.ai.timeout_ms + 1000),
                  ask_atom::value, std::move(call))
      .await([this, m, u, lang = q.lang](model_result& r) mutable { use_model_answer(std::move(m), u, r, lang); },
             [this, m, u](caf::error&) mutable { model_fallback("timeout", std::move(m), u); });
  }

  /// Carries out the model's verdict: an intent of the rules goes where the rules send it
  /// (the booking flow, the clinic actor); an answer from the clinic's data is sent once
  /// the guardrails pass it; anything else is the rules' answer.
  void use_model_answer(stored_message m, core::understanding u, const model_result& r, const std::string& lang) {
    if (!r.ok())
      return model_fallback(r.outcome, std::move(m), u);
    auto v = core::read_verdict(r.content, *profile);
    if (!v)
      return model_fallback("invalid", std::move(m), u);
    if (v->medical_advice)
      return decline_medical_advice(std::move(m), u, lang == "en");
    if (v->off_topic) {
      count_model_use("off_topic");
      u.intent = core::intent::unknown;
      u.clinic_topic = false; // the clinic's own refusal
      return decide_by_rules(std::move(m), u);
    }
    if (v->intent != core::intent::unknown && v->intent != core::intent::clinic_question) {
      count_model_use("classified");
      u.intent = v->intent;
      if (!u.entities.service && v->service)
        u.entities.service = v->service;
      if (!u.entities.date && v->date)
        u.entities.date = v->date;
      if (!u.entities.time && v->time)
        u.entities.time = v->time;
      if (for_flow(u, m))
        return ask_flow(std::move(m), std::move(u));
      return decide_by_rules(std::move(m), u);
    }
    u.intent = core::intent::clinic_question;
    u.clinic_topic = true;
    u.topic = v->topic.empty() ? "other" : v->topic;
    if (!v->known || v->answer.empty()) {
      count_model_use("not_known");
      return decide_by_rules(std::move(m), u); // "não tenho essa informação" and a human offered
    }
    auto violation = core::answer_violation(v->answer, *profile);
    if (violation.empty()) {
      auto written_in = core::language_of(v->answer);
      if (!written_in.empty() && written_in != lang)
        violation = "language";
    }
    if (!violation.empty())
      return model_fallback("guardrail_" + violation, std::move(m), u);
    count_model_use("answered");
    auto decision = core::generated_reply(u, *profile, state, std::move(v->answer));
    known_contact = true;
    record(m, u, std::move(decision.reply), "clinic_question");
  }

  void decline_medical_advice(stored_message m, const core::understanding& u, bool en) {
    count_model_use("medical_advice");
    state.unknown_streak = 0;
    known_contact = true;
    record(m, u, plain(core::medical_advice_text(en)), "medical_advice");
  }

  /// A voice note: transcribed by the model's provider and answered as the patient's text
  /// when the clinic uses a model; otherwise (or when it cannot be) the patient is kindly
  /// asked to write. Never counted toward the automatic hand-over.
  void voice_note(stored_message m) {
    core::understanding u;
    u.lang = state.lang == "en" ? "en" : "pt-BR";
    const bool en = u.lang == "en";
    if (state.handoff)
      return record(m, u, std::nullopt, "voice_note");
    // The payload is WhatsApp's audio object: {"id", "mime_type", "voice"}.
    std::string media_id;
    if (auto& audio = m.msg.payload; audio.is_object() && audio.contains("id") && audio["id"].is_string())
      media_id = audio["id"].get<std::string>();
    // Under the consent basis, nothing of a patient who has not consented goes to a provider.
    const bool may_send = legal_basis() != "consent" || state.consent == "given";
    if (!model_on() || !node->cfg.ai.transcription || media_id.empty() || !may_send) {
      count_model_use("voice_note_not_transcribed");
      return record(m, u, plain(core::voice_note_text(en)), "voice_note");
    }
    media_call call{clinic_id, m.msg.account_id, std::move(media_id)};
    self->request(node->model_for(conversation_id), std::chrono::milliseconds(3 * node->cfg.ai.timeout_ms + 5000),
                  transcribe_atom::value, std::move(call))
      .await(
        [this, m, u, en](model_result& r) mutable {
          if (r.ok() && r.content.find_first_not_of(" \t\r\n") != std::string::npos) {
            count_model_use("transcribed");
            m.msg.text = core::truncate_utf8(r.content, 4096);
            return answer(std::move(m));
          }
          count_model_use(r.outcome == "too_large" ? "voice_note_too_large" : "voice_note_not_transcribed");
          record(m, u, plain(r.outcome == "too_large" ? core::media_too_large_text(en) : core::voice_note_text(en)),
                 "voice_note");
        },
        [this, m, u, en](caf::error&) mutable {
          count_model_use("voice_note_not_transcribed");
          record(m, u, plain(core::voice_note_text(en)), "voice_note");
        });
  }

  /// An image, video or document without a caption: the patient is asked kindly to write
  /// (a caption is answered as their text); never counted toward the automatic hand-over.
  void media_without_text(stored_message m) {
    core::understanding u;
    u.lang = state.lang == "en" ? "en" : "pt-BR";
    if (state.handoff)
      return record(m, u, std::nullopt, "media");
    record(m, u, plain(core::media_text(u.lang == "en")), "media");
  }

  /// The rules' reply (greetings, questions, hand-over...).
  void decide_by_rules(stored_message m, const core::understanding& u) {
    auto decision = core::decide_reply(u, *profile, state, !known_contact, m.msg.text);
    known_contact = true;
    if (decision.handoff_started)
      node->metrics->counter_with("atendeai_handoffs_total", "Conversations handed over to staff").inc();
    record(m, u, std::move(decision.reply));
  }

  /// Writes the decision for one inbound message (reply, state) through the batch writer.
  void record(const stored_message& m, const core::understanding& u, std::optional<core::outbound_message> reply,
              std::string_view label = {}) {
    remember(false, m.msg.text);
    if (m.msg.timestamp > 0) {
      auto until = core::instant{std::chrono::seconds{m.msg.timestamp}} + core::service_window;
      if (!window_until || until > *window_until)
        window_until = until;
    }
    auto rec = new_record(reply_record::cause_kind::reply);
    rec.touch = !m.new_conversation; // a conversation created with this message is as recent as it
    rec.cause_id = m.message_id;
    rec.intent = label.empty() ? std::string(core::to_string(u.intent)) : std::string(label);
    rec.confidence = u.confidence;
    rec.channel = m.msg.channel;
    rec.account_id = m.msg.account_id;
    rec.recipient = m.msg.contact;
    rec.correlation_id = m.msg.external_id;
    // Under health_protection the first reply carries the privacy notice (LGPD).
    if (reply && !state.notice_shown && legal_basis() == "health_protection" &&
        core::add_privacy_notice(*reply, core::privacy_notice_text(*profile, profile->privacy, state.lang == "en")))
      state.notice_shown = true;
    if (reply && m.msg.type == "audio" && !m.msg.text.empty())
      reply->transcript = m.msg.text; // what the voice note said, for staff
    if (reply)
      attach_reply(rec, std::move(*reply));
    last_in = reply_target{m.msg.channel, m.msg.account_id, m.msg.contact};
    if (spdlog::should_log(spdlog::level::info)) // building the fields costs more than the check
      core::log_event(spdlog::level::info, "message_understood",
                      {{"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                       {"correlation_id", m.msg.external_id}, {"intent", rec.intent},
                       {"confidence", u.confidence}, {"reply", rec.has_reply}, {"handoff", state.handoff},
                       {"flow", state.flow.is_object() ? state.flow.value("step", "") : std::string()}});
    self->send(node->writer_for(conversation_id), record_atom::value, std::move(rec));
  }

  /// The booking flow timed out while the patient was silent: forget it and tell them
  /// (an unprompted message, answering no inbound one).
  void flow_expired(flow_expiry e) {
    if (!loaded) { // woken up by the expiry itself: its memory (with the flow) first
      expiry_waiting = std::move(e);
      return;
    }
    last_activity = node->clock->now();
    if (!state.flow.is_object())
      return;
    state.flow = nullptr;
    auto rec = new_record(last_in && e.message ? reply_record::cause_kind::notice : reply_record::cause_kind::none);
    if (last_in) {
      rec.channel = last_in->channel;
      rec.account_id = last_in->account_id;
      rec.recipient = last_in->recipient;
      if (e.message)
        attach_reply(rec, std::move(*e.message));
    }
    rec.correlation_id = "flow-expired";
    self->send(node->writer_for(conversation_id), record_atom::value, std::move(rec));
  }

  /// A staff member's reply (the assistant stays silent from then on: a human has taken
  /// the conversation over) or the end of a hand-over (the assistant answers again).
  /// Written through the batch writer with its audit row; its receipt is settled after the commit.
  void staff(staff_action a) {
    if (!loaded) {
      staff_waiting.push_back(std::move(a));
      return;
    }
    if (a.what == staff_action::kind::erase) {
      erase(std::move(a));
      return;
    }
    last_activity = node->clock->now();
    bool reply = a.what == staff_action::kind::reply;
    if (reply) {
      state.handoff = true;
    } else {
      state.handoff = false;
      state.unknown_streak = 0;
      state.human_offered = false;
    }
    auto rec = new_record(reply ? reply_record::cause_kind::staff : reply_record::cause_kind::none);
    rec.channel = a.channel;
    rec.account_id = a.account_id;
    rec.recipient = a.recipient;
    rec.staff_user_id = a.staff_user_id;
    rec.correlation_id = reply ? "staff-reply" : "staff-release";
    if (reply) {
      core::outbound_message text;
      text.text = a.text;
      text.templ = std::move(a.templ);
      attach_reply(rec, std::move(text));
    }
    rec.audit = std::move(a.audit);
    rec.receipt = std::move(a.receipt);
    core::log_event(spdlog::level::info, a.what == staff_action::kind::reply ? "staff_reply" : "handoff_released",
                    {{"clinic_id", clinic_id}, {"conversation_id", conversation_id},
                     {"staff_user_id", a.staff_user_id}});
    self->send(node->writer_for(conversation_id), record_atom::value, std::move(rec));
  }

  /// A reminder (or another proactive message): the interactive form inside the 24-hour
  /// window, the clinic's template outside it; its job is its cause (written once).
  void proactive(proactive_message p) {
    if (!loaded) {
      proactive_waiting.push_back(std::move(p));
      return;
    }
    last_activity = node->clock->now();
    auto count = [&](const std::string& outcome) { count_proactive(*node->metrics, p.kind, outcome); };
    auto skip = [&](const std::string& why) {
      count("skipped_" + why);
      if (p.offer_id.empty()) // a waitlist offer not sent ends with its hold, passed on then
        self->send(node->reader_for(clinic_id), finish_atom::value, clinic_id, p.job_id, std::string("skipped"), why,
                   int64_t{0});
    };
    if (state.opted_out)
      return skip("opted_out");
    auto until = p.window_until;
    if (window_until && (!until || *window_until > *until))
      until = window_until;
    core::outbound_message msg;
    bool templated = false;
    if (core::window_open(until, node->clock->now())) {
      msg = std::move(p.interactive);
      if (p.templated.templ && !p.templated.templ->name.empty())
        msg.fallback = p.templated.templ; // the window may have closed after all (Meta's 131047)
    } else if (p.templated.templ && !p.templated.templ->name.empty()) {
      msg = std::move(p.templated);
      templated = true;
    } else {
      return skip(p.no_template);
    }
    state.reminded = p.appointment_id;
    state.waitlist_offer = p.offer_id;
    auto rec = new_record(reply_record::cause_kind::notice);
    rec.cause_id = p.job_id;
    rec.touch = false;
    rec.intent = p.kind == "notify" ? "staff_change_notice" : p.kind == "waitlist" ? "waitlist_offer" : "reminder";
    rec.channel = last_in ? last_in->channel : "whatsapp";
    rec.account_id = p.account_id.empty() && last_in ? last_in->account_id : p.account_id;
    rec.recipient = p.recipient.empty() && last_in ? last_in->recipient : p.recipient;
    rec.correlation_id = rec.intent;
    attach_reply(rec, std::move(msg));
    count(templated ? "sent_template" : "sent_interactive");
    core::log_event(spdlog::level::info, p.kind == "notify" ? "notice_sent" : p.kind == "waitlist" ? "waitlist_offer_sent" : "reminder_sent",
                    {{"clinic_id", clinic_id}, {"conversation_id", conversation_id}, {"job_id", p.job_id},
                     {"template", templated}});
    self->send(node->writer_for(conversation_id), record_atom::value, std::move(rec));
  }

  void tick() {
    if (!loaded) {
      load();
      return;
    }
    auto idle = node->clock->now() - last_activity;
    auto limit = std::chrono::seconds(node->cfg.conversation.idle_timeout_s);
    if (idle >= limit && waiting.empty() && staff_waiting.empty() && proactive_waiting.empty() && !expiry_waiting) {
      self->quit();
      return;
    }
    schedule_tick();
  }

  void schedule_tick() {
    std::chrono::milliseconds period = std::chrono::seconds(std::max(1, node->cfg.conversation.idle_timeout_s / 2));
    if (node->clock->jumps()) // a test clock may jump ahead: look again soon
      period = std::min(period, std::chrono::milliseconds(500));
    self->delayed_send(self, period, tick_atom::value);
  }

  std::string inspect() const {
    auto mem = nlohmann::json::array();
    for (auto& line : memory)
      mem.push_back({{"direction", line.outbound ? "out" : "in"}, {"text", line.text}});
    return nlohmann::json{{"kind", name},
                          {"id", conversation_id},
                          {"clinic_id", clinic_id},
                          {"conversation_id", conversation_id},
                          {"node", node->cfg.node.id},
                          {"live", true},
                          {"status", loaded ? "ready" : "loading"},
                          {"loaded", loaded},
                          {"state", core::to_json(state)},
                          {"handoff", state.handoff},
                          {"flow", state.flow},
                          {"memory", mem},
                          {"handled", handled},
                          {"mailbox", self->mailbox().size()},
                          {"last_activity_ms", last_activity.time_since_epoch().count()}}
      .dump();
  }
};

conversation_actor::behavior_type conversation(conversation_actor::stateful_pointer<conversation_state_holder> self,
                                               node_context_ptr node, clinic_profile_ptr profile,
                                               clinic_actor clinic, std::string clinic_id,
                                               std::string conversation_id, bool fresh) {
  auto& st = self->state;
  st.self = self;
  st.node = std::move(node);
  st.profile = std::move(profile);
  st.clinic = std::move(clinic);
  st.clinic_id = std::move(clinic_id);
  st.conversation_id = std::move(conversation_id);
  st.last_activity = st.node->clock->now();
  if (fresh)
    st.start_fresh();
  else
    st.load();
  st.schedule_tick();
  return {
    [self](process_atom, stored_message& m) { self->state.process(std::move(m)); },
    [self](tick_atom) { self->state.tick(); },
    [self](expired_atom, flow_expiry& e) { self->state.flow_expired(std::move(e)); },
    [self](staff_atom, staff_action& a) {
      self->state.staff(std::move(a));
      return true;
    },
    [self](remind_atom, proactive_message& p) { self->state.proactive(std::move(p)); },
    [self](inspect_atom) { return self->state.inspect(); },
  };
}

conversation_actor spawn_conversation(caf::actor_system& sys, node_context_ptr node, clinic_profile_ptr profile,
                                      clinic_actor clinic, std::string clinic_id, std::string conversation_id,
                                      bool fresh) {
  return sys.spawn(conversation, node, std::move(profile), std::move(clinic), std::move(clinic_id),
                   std::move(conversation_id), fresh);
}

} // namespace atendeai::actors
