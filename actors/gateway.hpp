#pragma once
/// What the HTTP layer may ask of the actor system, without CAF headers: hands requests
/// to the right actor and lets it answer through an http_responder. The requests are
/// only declared here; a caller builds them with actors/messages.hpp (webhook_request)
/// and actors/api_request.hpp.

#include <memory>

#include "core/clock.hpp"

namespace atendeai::actors {

class http_responder;
struct api_request;
struct node_actors;
struct webhook_request;

/// A thin, copyable front to the node's actors; safe to call from any thread.
class gateway {
public:
  explicit gateway(node_actors& actors);
  /// A parsed webhook: made durable by an ingest writer, then answered through its responder.
  void ingest(webhook_request req) const;
  /// True while the replies kept through a PostgreSQL outage are past their bound: new
  /// webhooks are refused (503) until they are written.
  bool holding_too_much() const;
  /// /health: answered through the responder.
  void health(std::shared_ptr<http_responder> responder) const;
  /// An admin API request: checked and served by an admin API worker (api/worker.hpp).
  void api(api_request req) const;
  /// The node's clock (test builds move a test clock through it).
  std::shared_ptr<core::clock> clock() const;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace atendeai::actors
