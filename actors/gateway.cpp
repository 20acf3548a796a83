#include "actors/gateway.hpp"

#include <atomic>

#include <caf/all.hpp>

#include "actors/node.hpp"

namespace atendeai::actors {

struct gateway::impl {
  node_context_ptr node; ///< the router is read per request (the root supervisor may replace it)
  health_actor health;
  std::vector<api_worker_actor> auth;
  std::atomic<size_t> next_auth{0};
  std::shared_ptr<core::clock> clock;
};

gateway::gateway(node_actors& actors) : impl_(std::make_shared<impl>()) {
  impl_->node = actors.context;
  impl_->health = actors.health;
  impl_->auth = actors.auth;
  impl_->clock = actors.context->clock;
}

std::shared_ptr<core::clock> gateway::clock() const {
  return impl_->clock;
}

void gateway::api(api_request req) const {
  if (impl_->auth.empty()) {
    req.responder->respond(503, R"({"error":{"code":"service_unavailable","message":"admin API not running"}})");
    return;
  }
  auto& worker = impl_->auth[impl_->next_auth.fetch_add(1) % impl_->auth.size()];
  caf::anon_send(worker, api_atom::value, std::move(req));
}

void gateway::ingest(webhook_request req) const {
  caf::anon_send(impl_->node->ingest_writer(), ingest_atom::value, std::move(req));
}

bool gateway::holding_too_much() const {
  return impl_->node->holding_too_much();
}

void gateway::health(std::shared_ptr<http_responder> responder) const {
  caf::anon_send(impl_->health, health_atom::value, std::move(responder));
}

} // namespace atendeai::actors
