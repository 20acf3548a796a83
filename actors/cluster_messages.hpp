#pragma once
/// Values that cross the cluster (CAF middleman): plain structs with an `inspect`,
/// announced with add_message_type on every node (announce_cluster_types). Plus the
/// node-local view of the cluster the membership actor hands to the router.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

#include "core/cluster.hpp"

namespace atendeai::actors {

/// An inbound message committed to PostgreSQL, handed to its clinic's owner node.
/// The payload is the stored JSON form of the message (core::to_json); the access
/// token is the channel's own (empty: the deployment's default).
struct cluster_message {
  std::string clinic_id;
  std::string conversation_id;
  std::string message_id;
  std::string access_token;
  std::string payload;
  bool redelivery = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_message& x) {
  return f(caf::meta::type_name("cluster_message"), x.clinic_id, x.conversation_id, x.message_id, x.access_token,
           x.payload, x.redelivery);
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

} // namespace atendeai::actors
