#include "actors/cluster.hpp"

#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>

#include "actors/membership.hpp"
#include "core/log.hpp"

namespace atendeai::actors {

void configure_cluster(caf::actor_system_config& cfg, const config::cluster_settings& cluster) {
  cfg.load<caf::io::middleman>();
  if (cluster.tls()) {
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = cluster.tls_cert;
    cfg.openssl_key = cluster.tls_key;
    cfg.openssl_cafile = cluster.tls_ca;
  }
  cfg.add_message_type<cluster_message>("atendeai::cluster_message");
  cfg.add_message_type<std::vector<cluster_message>>("std::vector<atendeai::cluster_message>");
  cfg.add_message_type<node_identity>("atendeai::node_identity");
  cfg.add_message_type<forwarded_api>("atendeai::forwarded_api");
  cfg.add_message_type<forwarded_reply>("atendeai::forwarded_reply");
}

node_identity local_identity(const config::config& cfg, int64_t started_ms) {
  return {cfg.node.id, cfg.cluster.host + ":" + std::to_string(cfg.cluster.port),
          cfg.http.host + ":" + std::to_string(cfg.http.port), started_ms};
}

// -- the published endpoint ---------------------------------------------------------

struct cluster_node_state {
  static constexpr const char* name = "cluster_node";
  cluster_node_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  node_identity identity;
  std::vector<api_worker_actor> workers; ///< serve forwarded admin API requests (never empty)
  size_t next_worker = 0;

  // -- work -------------------------------------------------------------------

  /// The next admin API worker for forwarded requests (their own pool, started with
  /// the node: they block, like the HTTP side's workers, and stop with this actor).
  const api_worker_actor& worker() { return workers[next_worker++ % workers.size()]; }

  /// Forwarded messages back into this node's model; malformed ones are logged and left
  /// to the sweep (they are durable).
  std::vector<stored_message> unwire(std::vector<cluster_message>& batch, const std::string& from) {
    std::vector<stored_message> out;
    out.reserve(batch.size());
    for (auto& m : batch) {
      auto payload = nlohmann::json::parse(m.payload, nullptr, false);
      if (!payload.is_object()) {
        core::log_event(spdlog::level::warn, "cluster_message_malformed",
                        {{"clinic_id", m.clinic_id}, {"from", from}});
        continue;
      }
      stored_message s{m.clinic_id, m.conversation_id, m.message_id, core::inbound_from_json(payload)};
      s.redelivery = m.redelivery;
      s.new_conversation = m.new_conversation;
      out.push_back(std::move(s));
    }
    node->metrics->counter_with("atendeai_cluster_messages_total", "Messages forwarded between nodes",
                                {{"direction", "received"}})
      .inc(out.size());
    return out;
  }
};

cluster_node_actor::behavior_type cluster_node(cluster_node_actor::stateful_pointer<cluster_node_state> self,
                                               node_context_ptr node, node_identity identity,
                                               std::vector<api_worker_actor> api_workers) {
  self->state.self = self;
  self->state.node = std::move(node);
  self->state.identity = std::move(identity);
  self->state.workers = std::move(api_workers);
  self->attach_functor([pool = self->state.workers] {
    for (auto& w : pool)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  });
  return {
    [self](forwarded_atom, std::vector<cluster_message>& batch, const std::string& from) {
      auto local = self->state.unwire(batch, from);
      if (!local.empty())
        self->send(self->state.node->router(), forwarded_atom::value, std::move(local));
    },
    [self](whois_atom) { return self->state.identity; },
    [self](api_atom, forwarded_api& f) -> caf::delegated<forwarded_reply> {
      return self->delegate(self->state.worker(), api_atom::value, std::move(f));
    },
    [self](reload_atom, const std::string& clinic_id, const std::string& from) {
      self->send(self->state.node->router(), reload_atom::value, clinic_id, from);
    },
    [self](inspect_atom, inspect_query& q) -> caf::delegated<std::string> {
      return self->delegate(self->state.node->router(), inspect_atom::value, std::move(q));
    },
    [self](hello_atom, node_identity& id, caf::strong_actor_ptr& peer) {
      if (auto m = self->state.node->membership.at(0))
        self->send(m, hello_atom::value, std::move(id), std::move(peer));
    },
  };
}

cluster_actors start_cluster(caf::actor_system& sys, node_context_ptr node, node_identity identity,
                             std::vector<api_worker_actor> api_workers) {
  auto endpoint = sys.spawn(cluster_node, node, identity, std::move(api_workers));
  auto port_number = static_cast<uint16_t>(node->cfg.cluster.port);
  auto host = node->cfg.cluster.host.c_str();
  auto port = node->cfg.cluster.tls() ? caf::openssl::publish(endpoint, port_number, host, true)
                                      : sys.middleman().publish(endpoint, port_number, host, true);
  if (!port) {
    caf::anon_send_exit(endpoint, caf::exit_reason::user_shutdown);
    throw std::runtime_error("configuration: cluster.port: cannot listen on " + identity.cluster_address + ": "
                             + sys.render(port.error()));
  }
  core::log_event(spdlog::level::info, "cluster_listening",
                  {{"address", identity.cluster_address}, {"seeds", node->cfg.cluster.seeds},
                   {"tls", node->cfg.cluster.tls()}});
  return {endpoint, spawn_membership(sys, node, std::move(identity), caf::actor_cast<caf::strong_actor_ptr>(endpoint))};
}

} // namespace atendeai::actors
