#pragma once
/// Admin API in a cluster: a request whose route talks to a clinic's live actors
/// (core::placement::owner) runs on the clinic's rendezvous owner node.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/call.hpp"

namespace atendeai::api {

/// When the call's route runs on its clinic's owner (core::placement::owner in the route
/// table) and another node of the cluster owns `clinic_id` (the call's, or the one a
/// handler found for a conversation or flow): passes the whole request to that node's
/// cluster_node actor, writes its answer and returns true. False when this node serves
/// the request (no cluster, the owner is this node, or the request was forwarded here).
/// Refuses with 503 naming the owner (retryable) when it is in the view but not
/// connected, or does not answer in time.
bool forward_to_owner(api_call& call, const std::string& clinic_id);

/// The wire form of a request (forwarded by `from_node`).
actors::forwarded_api to_forwarded(const api_request& r, const std::string& from_node);
/// A forwarded request as the owner's worker serves it, answered into `responder`.
api_request from_forwarded(actors::forwarded_api f, std::shared_ptr<actors::http_responder> responder);

/// A responder that keeps the answer, for a request forwarded from another node.
class captured_response : public actors::http_responder {
public:
  void respond(int status, std::string body, const char* content_type = "application/json") override;
  void respond_with(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers) override;
  /// The answer (a 500 when the request was never answered).
  actors::forwarded_reply reply() const;

private:
  bool answered_ = false;
  actors::forwarded_reply reply_;
};

} // namespace atendeai::api
