#pragma once
/// Values that cross the cluster (CAF middleman): plain structs with an `inspect`,
/// announced with add_message_type on every node (announce_cluster_types). Plus the
/// node-local view of the cluster the membership actor hands to the router.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

#include "core/cluster.hpp"

namespace atendeai::actors {

/// An inbound message committed to PostgreSQL, handed to its clinic's owner node.
/// The payload is the stored JSON form of the message (core::to_json). No access token
/// travels: the owner's sender looks it up.
struct cluster_message {
  std::string clinic_id;
  std::string conversation_id;
  std::string message_id;
  std::string payload;
  bool redelivery = false;
  bool new_conversation = false; ///< its ingest created the conversation: no memory to read
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_message& x) {
  return f(caf::meta::type_name("cluster_message"), x.clinic_id, x.conversation_id, x.message_id, x.payload,
           x.redelivery, x.new_conversation);
}

/// A node's identity as its published node actor reports it (seeds are asked for it).
struct node_identity {
  std::string id;
  std::string cluster_address;
  std::string http_address;
  int64_t started_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_identity& x) {
  return f(caf::meta::type_name("node_identity"), x.id, x.cluster_address, x.http_address, x.started_ms);
}

/// An admin API request passed whole to the node that owns its clinic (see
/// api/forwarding.cpp): the route by its operation name, the parts of the request the
/// API reads, and the node it came from. The owner runs it through its own admin API
/// worker (token, role and tenant checked again) and never forwards it further.
struct forwarded_api {
  std::string op;                            ///< core::api_route::op
  std::map<std::string, std::string> params; ///< path parameters
  std::map<std::string, std::string> query;  ///< query string
  std::string authorization;
  std::string body;
  std::string ip;
  std::string request_id;
  std::string from_node;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_api& x) {
  return f(caf::meta::type_name("forwarded_api"), x.op, x.params, x.query, x.authorization, x.body, x.ip,
           x.request_id, x.from_node);
}

/// The owner's answer to a forwarded_api, written by the node that took the request.
struct forwarded_reply {
  int32_t status = 500;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers; ///< e.g. Retry-After
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_reply& x) {
  return f(caf::meta::type_name("forwarded_reply"), x.status, x.body, x.content_type, x.headers);
}

} // namespace atendeai::actors
