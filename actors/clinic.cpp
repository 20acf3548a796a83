#include "actors/clinic.hpp"

#include <deque>
#include <map>

#include <caf/all.hpp>

#include "actors/conversation.hpp"
#include "core/log.hpp"

namespace atendeai::actors {

struct clinic_state {
  static constexpr const char* name = "clinic";
  clinic_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  std::string clinic_id;
  clinic_profile_ptr profile;
  bool loading = false;
  std::deque<stored_message> waiting; ///< messages that arrived before the profile
  std::map<std::string, conversation_actor> conversations;
  uint64_t processed = 0;

  // -- work -------------------------------------------------------------------

  void load() {
    loading = true;
    self->request(node->reader_for(clinic_id), std::chrono::seconds(10), load_atom::value, clinic_id)
      .then(
        [=](const clinic_profile_ptr& p) {
          loading = false;
          if (!p) {
            core::log_event(spdlog::level::warn, "clinic_unknown", {{"clinic_id", clinic_id}, {"dropped", waiting.size()}});
            waiting.clear();
            self->quit();
            return;
          }
          profile = p;
          while (!waiting.empty()) {
            route(std::move(waiting.front()));
            waiting.pop_front();
          }
        },
        [=](const caf::error& err) {
          // The messages are durable; try again shortly.
          core::log_event(spdlog::level::warn, "clinic_load_failed",
                          {{"clinic_id", clinic_id}, {"error", caf::to_string(err)}});
          self->delayed_send(self, std::chrono::seconds(1), process_atom::value, stored_message{});
          loading = false;
        });
  }

  void process(stored_message m) {
    if (!m.message_id.empty())
      waiting.push_back(std::move(m));
    if (!profile) {
      if (!loading)
        load();
      return;
    }
    while (!waiting.empty()) {
      route(std::move(waiting.front()));
      waiting.pop_front();
    }
  }

  void route(stored_message m) {
    ++processed;
    auto it = conversations.find(m.conversation_id);
    if (it == conversations.end()) {
      auto handle = spawn_conversation(self->system(), node, profile, m.clinic_id, m.conversation_id);
      self->monitor(handle);
      node->metrics->counter_with("atendeai_actors_spawned_total", "Actors spawned", {{"kind", "conversation"}}).inc();
      node->metrics->gauge_with("atendeai_actors_live", "Live actors", {{"kind", "conversation"}}).add(1);
      it = conversations.emplace(m.conversation_id, handle).first;
    }
    self->send(it->second, process_atom::value, std::move(m));
  }

  void on_down(const caf::down_msg& msg) {
    for (auto it = conversations.begin(); it != conversations.end(); ++it) {
      if (it->second.address() != msg.source)
        continue;
      node->metrics->gauge_with("atendeai_actors_live", "Live actors", {{"kind", "conversation"}}).add(-1);
      if (msg.reason) {
        // Its unanswered message is durable: the sweep hands it to a fresh actor,
        // which rebuilds its memory from PostgreSQL.
        core::log_event(spdlog::level::err, "actor_crashed",
                        {{"kind", "conversation"}, {"clinic_id", clinic_id}, {"conversation_id", it->first},
                         {"reason", caf::to_string(msg.reason)}});
        node->metrics->counter_with("atendeai_actors_restarted_total", "Actors that stopped abnormally",
                                    {{"kind", "conversation"}})
          .inc();
      } else {
        node->metrics->counter_with("atendeai_actors_passivated_total", "Actors stopped when idle",
                                    {{"kind", "conversation"}})
          .inc();
      }
      conversations.erase(it);
      return;
    }
  }

  std::string inspect() const {
    return nlohmann::json{{"kind", name},
                          {"clinic_id", clinic_id},
                          {"loaded", profile != nullptr},
                          {"conversations", conversations.size()},
                          {"waiting", waiting.size()},
                          {"processed", processed}}
      .dump();
  }
};

clinic_actor::behavior_type clinic(clinic_actor::stateful_pointer<clinic_state> self, node_context_ptr node,
                                   std::string clinic_id) {
  self->state.self = self;
  self->state.node = std::move(node);
  self->state.clinic_id = std::move(clinic_id);
  self->set_down_handler([self](caf::down_msg& msg) { self->state.on_down(msg); });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [_, conversation] : self->state.conversations)
      self->send_exit(conversation, msg.reason);
    self->quit(msg.reason);
  });
  self->state.load();
  return {
    [self](process_atom, stored_message& m) { self->state.process(std::move(m)); },
    [self](inspect_atom) { return self->state.inspect(); },
  };
}

clinic_actor spawn_clinic(caf::actor_system& sys, node_context_ptr node, std::string clinic_id) {
  return sys.spawn(clinic, node, std::move(clinic_id));
}

} // namespace atendeai::actors
