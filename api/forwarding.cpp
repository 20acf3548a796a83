/// Admin API in a cluster: a request whose route talks to a clinic's live actors
/// (core::placement::owner) runs on the clinic's rendezvous owner, so that one clinic
/// actor serialises its agenda and one conversation actor holds each conversation.
///
/// The node that took the HTTP request has already checked token, rate limit, role and
/// tenant; it passes the whole request (forwarded_api) to the owner's cluster_node actor,
/// which runs it through its own admin API worker (token, role and tenant again; the rate
/// limit was counted once, at the entry) and answers status, body and headers, which the
/// entry node writes. A forwarded request is never forwarded again (two views that
/// disagree for a moment cannot bounce it).
#include "api/forwarding.hpp"

#include <caf/all.hpp>

#include "core/cluster.hpp"
#include "core/log.hpp"

namespace atendeai::api {

using namespace actors; // the cluster's typed interfaces and messages

namespace {

/// Longer than any owner-side wait (a clinic actor 35 s, a staff commit 15 s), so the
/// owner's own refusal arrives before this one.
constexpr auto forward_timeout = std::chrono::seconds(40);

/// This node's view of the cluster, asked of the router (empty when it does not answer).
cluster_view current_view(api_call& call) {
  caf::scoped_actor self{*call.w.system};
  cluster_view out;
  self->request(call.w.node->router(), std::chrono::seconds(5), view_atom::value)
    .receive([&](cluster_view& v) { out = std::move(v); }, [&](const caf::error&) {});
  return out;
}

[[noreturn]] void owner_unavailable(api_call& call, const std::string& owner, const char* why) {
  call.w.count("atendeai_api_forwarded_total", "Admin API requests passed to the clinic's owner node",
               {{"outcome", "unavailable"}});
  core::log_event(spdlog::level::warn, "api_owner_unavailable",
                  {{"op", call.r.route->op}, {"owner", owner}, {"why", why}, {"request_id", call.r.request_id}});
  api_failure f{core::error_code::service_unavailable,
                "node " + owner + ", which owns this clinic, is unavailable (" + why + "); retry", "", 1};
  f.extra = {{"node", owner}, {"retryable", true}};
  throw f;
}

} // namespace

bool forward_to_owner(api_call& call, const std::string& clinic_id) {
  if (clinic_id.empty() || call.r.route->runs_on != core::placement::owner || !call.r.forwarded_from.empty()
      || call.w.node->cfg.cluster.port == 0)
    return false;
  auto view = current_view(call);
  auto owner = core::rendezvous_owner(clinic_id, core::member_ids(view.members));
  const auto& self_id = call.w.node->cfg.node.id;
  if (owner.empty() || owner == self_id)
    return false;
  auto peer = view.peers.find(owner);
  if (peer == view.peers.end())
    owner_unavailable(call, owner, "not connected yet");
  caf::scoped_actor self{*call.w.system};
  bool answered = false;
  self->request(peer->second, forward_timeout, api_atom::value, to_forwarded(call.r, self_id))
    .receive(
      [&](forwarded_reply& reply) {
        answered = true;
        std::vector<std::pair<std::string, std::string>> headers(reply.headers.begin(), reply.headers.end());
        if (headers.empty())
          call.r.responder->respond(reply.status, std::move(reply.body), reply.content_type.c_str());
        else
          call.r.responder->respond_with(reply.status, std::move(reply.body), std::move(headers));
      },
      [&](const caf::error&) {});
  if (!answered)
    owner_unavailable(call, owner, "no answer in time");
  call.w.count("atendeai_api_forwarded_total", "Admin API requests passed to the clinic's owner node",
               {{"outcome", "answered"}});
  return true;
}

forwarded_api to_forwarded(const api_request& r, const std::string& from_node) {
  return {r.route->op, r.params, r.query, r.authorization, r.body, r.ip, r.request_id, from_node};
}

api_request from_forwarded(forwarded_api f, std::shared_ptr<http_responder> responder) {
  api_request r;
  r.responder = std::move(responder);
  r.route = core::find_api_route(f.op);
  r.params = std::move(f.params);
  r.query = std::move(f.query);
  r.authorization = std::move(f.authorization);
  r.body = std::move(f.body);
  r.ip = std::move(f.ip);
  r.request_id = std::move(f.request_id);
  r.forwarded_from = f.from_node.empty() ? std::string("unknown") : std::move(f.from_node);
  return r;
}

void captured_response::respond(int status, std::string body, const char* content_type) {
  if (answered_)
    return;
  answered_ = true;
  reply_.status = status;
  reply_.body = std::move(body);
  reply_.content_type = content_type ? content_type : "application/json";
}

void captured_response::respond_with(int status, std::string body,
                                     std::vector<std::pair<std::string, std::string>> headers) {
  if (answered_)
    return;
  respond(status, std::move(body));
  for (auto& [name, value] : headers)
    reply_.headers[name] = value;
}

forwarded_reply captured_response::reply() const {
  if (answered_)
    return reply_;
  forwarded_reply out;
  out.body = core::error_body(core::error_code::internal_error, "internal error").dump();
  return out;
}

} // namespace atendeai::api
