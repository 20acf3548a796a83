#include "actors/db_reader.hpp"

#include <caf/all.hpp>

#include "core/log.hpp"
#include "persistence/agenda.hpp"
#include "persistence/catalogue.hpp"
#include "persistence/clinics.hpp"
#include "persistence/database.hpp"
#include "persistence/jobs.hpp"
#include "persistence/pipeline.hpp"
#include "persistence/privacy.hpp"
#include "persistence/waitlist.hpp"

namespace atendeai::actors {

namespace {

/// How long a claimed job stays its node's before another may run it (the node died).
constexpr std::chrono::seconds job_lease{120};
/// Claims of one job before it is given up.
constexpr int job_max_attempts = 5;
/// Jobs claimed per scheduler tick.
constexpr int jobs_per_claim = 500;

core::instant instant_ms(int64_t ms) { return core::instant{std::chrono::milliseconds{ms}}; }

/// A stored-but-unanswered row as the message its conversation handles.
stored_message stored_from(persistence::unanswered_row& row) {
  return {row.clinic_id, row.conversation_id, row.message_id, core::inbound_from_json(row.payload)};
}

/// A memory request waiting for the reader's next batch read.
struct memory_wait {
  persistence::memory_request request;
  caf::typed_response_promise<conversation_snapshot> promise;
};

} // namespace

struct db_reader_state {
  static constexpr const char* name = "db_reader";
  db_reader_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  std::unique_ptr<persistence::db_session> db;
  std::vector<memory_wait> memory_waiting; ///< read together once the mailbox is read
  bool memory_queued = false;              ///< a flush message is in the mailbox
  persistence::sweep_marks marks;          ///< where this reader's next sweep starts

  // -- work -------------------------------------------------------------------

  /// Queues a memory request; the requests waiting are read in one statement once the
  /// mailbox holds nothing older than this one.
  caf::typed_response_promise<conversation_snapshot> memory(std::string clinic_id, std::string conversation_id) {
    auto promise = self->make_response_promise<conversation_snapshot>();
    memory_waiting.push_back({{std::move(clinic_id), std::move(conversation_id)}, promise});
    if (!memory_queued) {
      memory_queued = true;
      self->send(self, flush_atom::value);
    }
    return promise;
  }

  void read_memories() {
    memory_queued = false;
    auto waiting = std::exchange(memory_waiting, {});
    std::vector<persistence::memory_request> requests;
    requests.reserve(waiting.size());
    for (auto& w : waiting)
      requests.push_back(w.request);
    auto window = node->cfg.conversation.memory_window;
    try {
      auto mems = db->run([&](pqxx::connection& c) { return persistence::load_conversation_memories(c, requests, window); });
      for (size_t i = 0; i < waiting.size(); ++i) {
        conversation_snapshot snap;
        snap.state = core::conversation_state_from_json(mems[i].state);
        snap.known_contact = mems[i].known_contact;
        snap.memory = std::move(mems[i].messages);
        snap.recent_external_ids = std::move(mems[i].recent_external_ids);
        snap.reply_channel = std::move(mems[i].reply_channel);
        snap.reply_account = std::move(mems[i].reply_account);
        snap.reply_contact = std::move(mems[i].reply_contact);
        waiting[i].promise.deliver(std::move(snap));
      }
    } catch (const std::exception& e) {
      core::log_event(spdlog::level::warn, "db_read_failed", {{"what", "load_memory"}, {"error", e.what()}});
      node->metrics->counter_with("atendeai_db_errors_total", "PostgreSQL errors", {{"op", "load_memory"}}).inc();
      db->reset();
      for (auto& w : waiting)
        w.promise.deliver(caf::make_error(caf::sec::runtime_error, std::string("load_memory: ") + e.what()));
    }
  }

  /// Runs a read; failures are logged and become an error for the requester.
  template <class F>
  auto read(const char* what, F&& f) -> caf::result<decltype(f(std::declval<pqxx::connection&>()))> {
    try {
      return db->run(std::forward<F>(f));
    } catch (const std::exception& e) {
      core::log_event(spdlog::level::warn, "db_read_failed", {{"what", what}, {"error", e.what()}});
      node->metrics->counter_with("atendeai_db_errors_total", "PostgreSQL errors", {{"op", what}}).inc();
      db->reset();
      return caf::make_error(caf::sec::runtime_error, std::string(what) + ": " + e.what());
    }
  }
};

db_reader_actor::behavior_type db_reader(db_reader_actor::stateful_pointer<db_reader_state> self,
                                         node_context_ptr node) {
  self->state.self = self;
  self->state.node = node;
  self->state.db = std::make_unique<persistence::db_session>(app_target(node->cfg));
  return {
    [self](load_atom, const std::string& clinic_id) {
      return self->state.read("load_clinic", [&](pqxx::connection& c) {
        auto profile = persistence::load_clinic(c, clinic_id);
        return profile ? std::make_shared<const core::clinic_profile>(std::move(*profile)) : clinic_profile_ptr{};
      });
    },
    [self](memory_atom, std::string& clinic_id, std::string& conversation_id) {
      return self->state.memory(std::move(clinic_id), std::move(conversation_id));
    },
    [self](flush_atom) { self->state.read_memories(); },
    [self](sweep_atom, int32_t unanswered_min_age_s, int32_t pending_min_age_s) {
      const int limit = 5000;
      auto& st = self->state;
      return st.read("recovery_scan", [&](pqxx::connection& c) {
        auto found = persistence::sweep(c, st.marks, unanswered_min_age_s, pending_min_age_s, limit);
        st.marks = found.next;
        recovery_work work;
        for (auto& row : found.unanswered)
          work.unanswered.push_back(stored_from(row));
        for (auto& row : found.pending)
          work.pending.push_back({row.clinic_id, row.outbound_id, row.outbound_id, row.conversation_id,
                                  row.account_id, row.recipient, row.payload, {}, row.attempts,
                                  row.correlation_id});
        return work;
      });
    },
    [self](replay_atom, const std::string& clinic_id, const std::string& conversation_id) {
      return self->state.read("replay_scan", [&](pqxx::connection& c) {
        std::vector<stored_message> out;
        for (auto& row : persistence::unanswered_of_clinic(c, clinic_id, conversation_id, 5000))
          out.push_back(stored_from(row));
        return out;
      });
    },
    [self](agenda_atom, const std::string& clinic_id, int64_t from_ms) {
      return self->state.read("load_agenda", [&](pqxx::connection& c) {
        return persistence::load_agenda(c, clinic_id, core::instant{std::chrono::milliseconds{from_ms}});
      });
    },
    [self](book_atom, const std::string& clinic_id, const std::string& conversation_id, const core::slot& s) {
      return self->state.read("book_appointment", [&](pqxx::connection& c) {
        return persistence::book_appointment(c, clinic_id, conversation_id, s);
      });
    },
    [self](reschedule_atom, const std::string& clinic_id, const std::string& appointment_id, const core::slot& s) {
      return self->state.read("reschedule_appointment", [&](pqxx::connection& c) {
        return persistence::reschedule_appointment(c, clinic_id, appointment_id, s);
      });
    },
    [self](cancel_atom, const std::string& clinic_id, const std::string& appointment_id, const std::string& reason) {
      return self->state.read("cancel_appointment", [&](pqxx::connection& c) {
        return persistence::cancel_appointment(c, clinic_id, appointment_id, reason);
      });
    },
    [self](token_atom, const std::string& clinic_id, const std::string& account_id) {
      return self->state.read("channel_token", [&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        persistence::set_clinic(tx, clinic_id);
        return persistence::channel_token(tx, clinic_id, "whatsapp", account_id);
      });
    },
    [self](change_atom, const std::string& clinic_id, const persistence::staff_change& change, int64_t now_ms) {
      return self->state.read("staff_change", [&](pqxx::connection& c) {
        return persistence::apply_staff_change(c, clinic_id, change, core::instant{std::chrono::milliseconds{now_ms}});
      });
    },
    [self](confirm_atom, const std::string& clinic_id, const std::string& appointment_id) {
      return self->state.read("confirm_appointment", [&](pqxx::connection& c) {
        return persistence::confirm_appointment(c, clinic_id, appointment_id);
      });
    },
    [self](jobs_atom, int64_t now_ms) {
      return self->state.read("due_jobs", [&](pqxx::connection& c) {
        return persistence::clinics_with_due_jobs(c, instant_ms(now_ms));
      });
    },
    [self](jobs_atom, const std::vector<std::string>& clinics, int64_t now_ms) {
      auto& node = *self->state.node;
      return self->state.read("claim_jobs", [&](pqxx::connection& c) {
        // The clinics' daily retention first (LGPD): done here, counted, never claimed.
        auto anonymised = [&](const char* what, int64_t n) {
          node.metrics
            ->counter_with("atendeai_retention_anonymised_total",
                           "Messages and memories anonymised past their clinic's retention (LGPD)", {{"what", what}})
            .inc(static_cast<uint64_t>(n));
        };
        for (auto& r : persistence::run_retention(c, clinics, instant_ms(now_ms), node.cfg.node.id)) {
          anonymised("messages", r.messages);
          anonymised("memories", r.memories);
          core::log_event(spdlog::level::info, "retention_run",
                          {{"clinic_id", r.clinic_id}, {"messages", r.messages}, {"memories", r.memories}});
        }
        return persistence::claim_reminders(c, clinics, instant_ms(now_ms), node.cfg.node.id, job_lease,
                                            job_max_attempts, jobs_per_claim);
      });
    },
    [self](plan_atom, const std::string& clinic_id, const std::string& appointment_id, const std::string& change,
           int64_t now_ms) {
      // Its failure is logged and counted; the next change of the appointment or of the
      // clinic's settings plans again.
      self->state.read("plan_jobs", [&](pqxx::connection& c) {
        return persistence::plan_jobs(c, clinic_id, appointment_id, change, instant_ms(now_ms));
      });
      if (!change.empty()) // a notice is due at once: the scheduler looks now
        caf::anon_send(self->state.node->router(), jobs_atom::value);
    },
    [self](finish_atom, const std::string& clinic_id, const std::string& job_id, const std::string& state,
           const std::string& outcome, int64_t due_ms) {
      auto now = self->state.node->clock->now();
      // Unfinished (PostgreSQL down): the job's lease runs out and it is claimed again.
      self->state.read("finish_job", [&](pqxx::connection& c) {
        persistence::finish_job(c, clinic_id, job_id, state, outcome, instant_ms(due_ms), now);
        return true;
      });
    },
    [self](waitlist_atom, const std::string& clinic_id, const std::string& conversation_id,
           const core::waitlist_wish& wish, const std::string& lang) {
      return self->state.read("join_waitlist", [&](pqxx::connection& c) {
        return persistence::join_waitlist(c, clinic_id, conversation_id, wish, lang);
      });
    },
    [self](freed_atom, const std::string& clinic_id, const core::slot& freed, int64_t now_ms) {
      // Its failure is logged and counted: the time stays free for anyone to book.
      self->state.read("plan_waitlist_offer", [&](pqxx::connection& c) {
        bool planned = persistence::plan_waitlist_offer(c, clinic_id, freed, instant_ms(now_ms));
        if (planned) // due now: the scheduler looks now
          caf::anon_send(self->state.node->router(), jobs_atom::value);
        return planned;
      });
    },
    [self](waitlist_atom, const std::string& clinic_id, const std::string& conversation_id) {
      return self->state.read("leave_waitlist", [&](pqxx::connection& c) {
        auto left = static_cast<int32_t>(persistence::leave_waitlist(c, clinic_id, conversation_id));
        if (left > 0) // a withdrawn offer's time goes to the next patient now
          caf::anon_send(self->state.node->router(), jobs_atom::value);
        return left;
      });
    },
    [self](waitlist_atom, const std::string& clinic_id, const core::slot& freed, int64_t now_ms) {
      return self->state.read("waitlist_candidates", [&](pqxx::connection& c) {
        return persistence::waitlist_candidates(c, clinic_id, freed, instant_ms(now_ms));
      });
    },
    [self](hold_atom, const std::string& clinic_id, const std::string& entry_id, const core::slot& s,
           int64_t hold_until_ms) {
      return self->state.read("record_waitlist_offer", [&](pqxx::connection& c) {
        return persistence::record_offer(c, clinic_id, entry_id, s, instant_ms(hold_until_ms)).value_or("");
      });
    },
    [self](offer_atom, const std::string& clinic_id, const std::string& offer_id) {
      return self->state.read("load_waitlist_offer", [&](pqxx::connection& c) {
        return persistence::load_offer(c, clinic_id, offer_id).value_or(core::waitlist_offer{});
      });
    },
    [self](consent_atom, const std::string& clinic_id, const std::string& conversation_id, const std::string& event,
           const std::string& legal_basis, const std::string& text_version, const std::string& channel) {
      return self->state.read("record_consent", [&](pqxx::connection& c) {
        persistence::record_consent(c, clinic_id, conversation_id, event, legal_basis, text_version, channel);
        return true;
      });
    },
    [self](offer_atom, const std::string& clinic_id, const std::string& offer_id, const std::string& state,
           const std::string& appointment_id) {
      return self->state.read("close_waitlist_offer", [&](pqxx::connection& c) {
        return persistence::close_offer(c, clinic_id, offer_id, state, appointment_id).value_or(core::waitlist_offer{});
      });
    },
  };
}

db_reader_actor spawn_db_reader(caf::actor_system& sys, node_context_ptr node) {
  return sys.spawn<caf::detached>(db_reader, node);
}

} // namespace atendeai::actors
