#include "actors/db_reader.hpp"

#include <caf/all.hpp>

#include "core/log.hpp"
#include "persistence/agenda.hpp"
#include "persistence/clinics.hpp"
#include "persistence/database.hpp"
#include "persistence/pipeline.hpp"

namespace atendeai::actors {

persistence::db_target app_target(const config::config& cfg) {
  return {cfg.database.url, cfg.database.connect_timeout_s, cfg.database.app_role};
}

namespace {

/// A stored-but-unanswered row as the message its conversation handles.
stored_message stored_from(persistence::unanswered_row& row) {
  return {row.clinic_id, row.conversation_id, row.message_id, row.access_token, core::inbound_from_json(row.payload)};
}

} // namespace

struct db_reader_state {
  static constexpr const char* name = "db_reader";
  db_reader_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  std::unique_ptr<persistence::db_session> db;

  // -- work -------------------------------------------------------------------

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
    [self](resolve_atom, const std::string& channel, const std::string& account) {
      return self->state.read("resolve_channel", [&](pqxx::connection& c) {
        channel_info info;
        if (auto owner = persistence::resolve_channel(c, channel, account)) {
          info.found = true;
          info.clinic_id = owner->clinic_id;
          info.access_token = owner->access_token;
        }
        return info;
      });
    },
    [self](load_atom, const std::string& clinic_id) {
      return self->state.read("load_clinic", [&](pqxx::connection& c) {
        auto profile = persistence::load_clinic(c, clinic_id);
        return profile ? std::make_shared<const core::clinic_profile>(std::move(*profile)) : clinic_profile_ptr{};
      });
    },
    [self](memory_atom, const std::string& clinic_id, const std::string& conversation_id) {
      auto window = self->state.node->cfg.conversation.memory_window;
      return self->state.read("load_memory", [&](pqxx::connection& c) {
        auto mem = persistence::load_conversation_memory(c, clinic_id, conversation_id, window);
        conversation_snapshot snap;
        snap.state = core::conversation_state_from_json(mem.state);
        snap.known_contact = mem.known_contact;
        snap.memory = std::move(mem.messages);
        snap.recent_external_ids = std::move(mem.recent_external_ids);
        return snap;
      });
    },
    [self](recover_atom, int32_t min_age_s, bool with_outbox) {
      const int limit = 5000;
      return self->state.read("recovery_scan", [&](pqxx::connection& c) {
        recovery_work work;
        for (auto& row : persistence::unanswered_inbound(c, min_age_s, limit))
          work.unanswered.push_back(stored_from(row));
        if (with_outbox)
          for (auto& row : persistence::pending_outbox(c, limit))
            work.pending.push_back({row.clinic_id, row.outbox_id, row.message_id, row.conversation_id,
                                    row.account_id, row.recipient, row.access_token, row.payload,
                                    row.attempts, ""});
        return work;
      });
    },
    [self](recover_atom, const std::string& clinic_id, const std::string& conversation_id) {
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
    [self](staff_atom, const std::string& clinic_id, const persistence::staff_change& change, int64_t now_ms) {
      return self->state.read("staff_change", [&](pqxx::connection& c) {
        return persistence::apply_staff_change(c, clinic_id, change, core::instant{std::chrono::milliseconds{now_ms}});
      });
    },
  };
}

db_reader_actor spawn_db_reader(caf::actor_system& sys, node_context_ptr node) {
  return sys.spawn<caf::detached>(db_reader, node);
}

} // namespace atendeai::actors
