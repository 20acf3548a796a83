#include "actors/gateway.hpp"

#include <caf/all.hpp>

#include "actors/node.hpp"

namespace atendeai::actors {

struct gateway::impl {
  router_actor router;
  health_actor health;
};

gateway::gateway(node_actors& actors)
  : impl_(std::make_shared<impl>(impl{actors.context->router, actors.health})) {}

void gateway::ingest(webhook_request req) const {
  caf::anon_send(impl_->router, ingest_atom::value, std::move(req));
}

void gateway::health(std::shared_ptr<http_responder> responder) const {
  caf::anon_send(impl_->health, health_atom::value, std::move(responder));
}

} // namespace atendeai::actors
