#pragma once
/// Cluster decisions as pure functions: which live node owns a clinic (rendezvous
/// hashing) and which nodes form the live view (Redis heartbeats, seeds, suspicions).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace atendeai::core {

/// A stable 64-bit hash of `node_id` and `key` together (FNV-1a then a splitmix64
/// finaliser): the same on every node, build and platform.
uint64_t rendezvous_score(const std::string& node_id, const std::string& key);

/// The node that owns `key` (a clinic id) among `nodes`: the highest score wins, ties
/// go to the smaller id. Empty when `nodes` is empty. Adding or removing a node moves
/// only the keys that node wins or held.
std::string rendezvous_owner(const std::string& key, const std::vector<std::string>& nodes);

/// A node as it announces itself in its heartbeat.
struct cluster_member {
  std::string id;
  std::string cluster_address; ///< host:port of its published node actor
  std::string http_address;    ///< host:port of its HTTP server
  int64_t started_ms = 0;      ///< incarnation: changes at every start

  bool operator==(const cluster_member& o) const {
    return id == o.id && cluster_address == o.cluster_address && http_address == o.http_address
           && started_ms == o.started_ms;
  }
};

/// The JSON a heartbeat stores, and back (nullopt for anything malformed).
std::string member_to_json(const cluster_member& m);
std::optional<cluster_member> member_from_json(const std::string& text);

/// A member whose connection went down: excluded until its heartbeat shows another
/// incarnation or disappears.
using suspicion = std::pair<std::string /*id*/, int64_t /*started_ms*/>;

/// The live view: `self`, every member with a live heartbeat and every connected seed,
/// minus the suspected incarnations; one entry per id (self's own entry wins, then the
/// newest incarnation), sorted by id.
std::vector<cluster_member> live_view(const cluster_member& self, const std::vector<cluster_member>& heartbeats,
                                      const std::vector<cluster_member>& seeds, const std::set<suspicion>& suspected);

/// The suspected incarnations whose heartbeat goes on and that this node (`self`) must
/// try to connect to again: a link can go down while both nodes live (a route through a
/// node that left, a broken connection), and a live incarnation left suspected would
/// stay out of the view for good, its clinics owned twice. Both sides try (a second link
/// between two nodes is harmless); the suspicion ends when that incarnation answers, or
/// introduces itself. A dead node refuses the connection and stays out until its
/// heartbeat expires.
std::vector<cluster_member> to_reconnect(const cluster_member& self, const std::vector<cluster_member>& heartbeats,
                                         const std::set<suspicion>& suspected);

/// The ids of a view, in its order.
std::vector<std::string> member_ids(const std::vector<cluster_member>& view);

} // namespace atendeai::core
