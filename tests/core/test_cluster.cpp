// Cluster decisions: rendezvous ownership (deterministic, spread, minimal movement on
// join/leave), the live view built from heartbeats, seeds and suspicions, and which
// admin API routes run on a clinic's owner node.

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/cluster.hpp"
#include "core/rbac.hpp"

using namespace atendeai::core;

namespace {

std::vector<std::string> clinic_ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back("00000000-0000-4000-8000-" + std::to_string(100000000000 + i));
  return ids;
}

} // namespace

TEST_CASE("rendezvous: no nodes own nothing, one node owns everything", "[cluster][rendezvous]") {
  CHECK(rendezvous_owner("clinic-a", {}).empty());
  for (auto& c : clinic_ids(50))
    CHECK(rendezvous_owner(c, {"n1"}) == "n1");
}

TEST_CASE("rendezvous: the owner does not depend on the order of the nodes", "[cluster][rendezvous]") {
  for (auto& c : clinic_ids(200)) {
    auto a = rendezvous_owner(c, {"n1", "n2", "n3"});
    CHECK(a == rendezvous_owner(c, {"n3", "n1", "n2"}));
    CHECK(a == rendezvous_owner(c, {"n2", "n3", "n1"}));
  }
}

TEST_CASE("rendezvous: scores are stable values (the same on every node and build)", "[cluster][rendezvous]") {
  // Pinned: a change of hash would move every clinic of a running cluster at upgrade.
  // Every pin but the empty one runs the hash over both strings.
  CHECK(rendezvous_score("", "") == 0x55ebe004cae0ab71ULL);
  CHECK(rendezvous_score("n1", "clinic") == 0xc63e5b31cfbbce97ULL);
  CHECK(rendezvous_score("n2", "clinic") == 0xb2c3759c4bc875c5ULL);
  CHECK(rendezvous_score("node-a", "00000000-0000-4000-8000-00000000c001") == 0x617d10378a6fdc9eULL);
  // The separator: ("ab","c") and ("a","bc") differ.
  CHECK(rendezvous_score("ab", "c") == 0x1459a4cfe7bce634ULL);
  CHECK(rendezvous_score("a", "bc") == 0x197adb5a2c369e26ULL);
  // And so the owners of a running cluster's clinics.
  auto ids = clinic_ids(5);
  std::vector<std::string> owners;
  for (auto& c : ids)
    owners.push_back(rendezvous_owner(c, {"n1", "n2", "n3"}));
  CHECK(owners == std::vector<std::string>{"n2", "n2", "n3", "n3", "n3"});
}

TEST_CASE("rendezvous: 3 nodes share 3000 clinics roughly evenly", "[cluster][rendezvous]") {
  std::map<std::string, int> owned;
  for (auto& c : clinic_ids(3000))
    ++owned[rendezvous_owner(c, {"n1", "n2", "n3"})];
  REQUIRE(owned.size() == 3);
  for (auto& [node, n] : owned) {
    INFO(node << " owns " << n);
    CHECK(n > 800);
    CHECK(n < 1200);
  }
}

TEST_CASE("rendezvous: a node leaving moves only its own clinics", "[cluster][rendezvous]") {
  int moved = 0;
  for (auto& c : clinic_ids(3000)) {
    auto before = rendezvous_owner(c, {"n1", "n2", "n3"});
    auto after = rendezvous_owner(c, {"n1", "n2"});
    if (before == "n3") {
      CHECK(after != "n3");
      ++moved;
    } else {
      CHECK(after == before);
    }
  }
  CHECK(moved > 0);
}

TEST_CASE("rendezvous: a node joining takes clinics only for itself, about its share", "[cluster][rendezvous]") {
  int taken = 0;
  for (auto& c : clinic_ids(3000)) {
    auto before = rendezvous_owner(c, {"n1", "n2"});
    auto after = rendezvous_owner(c, {"n1", "n2", "n3"});
    if (after != before) {
      CHECK(after == "n3");
      ++taken;
    }
  }
  CHECK(taken > 800);
  CHECK(taken < 1200);
}

TEST_CASE("members: heartbeat JSON round-trips and malformed entries are refused", "[cluster][membership]") {
  cluster_member m{"n2", "127.0.0.1:4202", "127.0.0.1:8082", 1732350000123};
  auto back = member_from_json(member_to_json(m));
  REQUIRE(back);
  CHECK(*back == m);
  CHECK_FALSE(member_from_json("not json"));
  CHECK_FALSE(member_from_json("[]"));
  CHECK_FALSE(member_from_json(R"({"cluster":"h:1","started_ms":1})"));
  CHECK_FALSE(member_from_json(R"({"id":"","cluster":"h:1","started_ms":1})"));
  CHECK_FALSE(member_from_json(R"({"id":"n1","cluster":"h:1","started_ms":"1"})"));
  CHECK_FALSE(member_from_json(R"({"id":"n1","started_ms":1})"));
}

TEST_CASE("members: the live view is self plus heartbeats and seeds, minus suspicions", "[cluster][membership]") {
  cluster_member self{"n1", "h:1", "h:81", 10};
  cluster_member n2{"n2", "h:2", "h:82", 20};
  cluster_member n3{"n3", "h:3", "h:83", 30};

  SECTION("alone") {
    CHECK(member_ids(live_view(self, {}, {}, {})) == std::vector<std::string>{"n1"});
  }
  SECTION("heartbeats and seeds merge, sorted by id, one entry per id") {
    auto v = live_view(self, {n3, n2}, {n2}, {});
    CHECK(member_ids(v) == std::vector<std::string>{"n1", "n2", "n3"});
  }
  SECTION("self's own entry wins over a stale heartbeat of a previous incarnation") {
    auto v = live_view(self, {cluster_member{"n1", "h:9", "h:89", 1}}, {}, {});
    REQUIRE(v.size() == 1);
    CHECK(v[0] == self);
  }
  SECTION("a suspected incarnation is left out until it restarts") {
    CHECK(member_ids(live_view(self, {n2, n3}, {}, {{"n3", 30}})) == std::vector<std::string>{"n1", "n2"});
    auto restarted = n3;
    restarted.started_ms = 31;
    CHECK(member_ids(live_view(self, {n2, restarted}, {}, {{"n3", 30}}))
          == std::vector<std::string>{"n1", "n2", "n3"});
  }
  SECTION("the newest incarnation of an id wins") {
    auto old = n2;
    old.started_ms = 5;
    old.cluster_address = "h:old";
    auto v = live_view(self, {old, n2}, {}, {});
    REQUIRE(v.size() == 2);
    CHECK(v[1].cluster_address == "h:2");
  }
}

TEST_CASE("members: a suspected incarnation that still beats is linked again", "[cluster][membership]") {
  cluster_member n1{"n1", "h:1", "h:81", 10};
  cluster_member n2{"n2", "h:2", "h:82", 20};
  cluster_member n3{"n3", "h:3", "h:83", 30};
  // n2 and n3 lost their link (a route through n1, which left): both suspect the other.
  CHECK(member_ids(to_reconnect(n3, {n1, n2, n3}, {{"n2", 20}})) == std::vector<std::string>{"n2"});
  CHECK(member_ids(to_reconnect(n2, {n1, n2, n3}, {{"n3", 30}})) == std::vector<std::string>{"n3"});
  CHECK(to_reconnect(n2, {n1, n2}, {{"n2", 20}}).empty()); // never itself
  // Not suspected, or suspected in an incarnation whose heartbeat is gone: nothing to do.
  CHECK(to_reconnect(n3, {n1, n2}, {}).empty());
  auto restarted = n2;
  restarted.started_ms = 21;
  CHECK(to_reconnect(n3, {n1, restarted}, {{"n2", 20}}).empty());
}

TEST_CASE("Admin routes that talk to a clinic's live actors run on its owner node, and only those", "[cluster][rbac]") {
  std::set<std::string> on_owner;
  for (auto& r : api_routes()) {
    if (r.runs_on != placement::owner)
      continue;
    on_owner.insert(r.op);
    INFO(r.op);
    CHECK(r.who == access::bearer);
    // The clinic is known before the handler's work: from the path, or (inspection by
    // conversation or flow id) from the conversation the handler looks up first.
    std::string path = r.path;
    CHECK((path.find("/clinics/:id") != std::string::npos || path.find("/:cid") != std::string::npos
           || path.find("/:fid") != std::string::npos));
  }
  CHECK(on_owner == std::set<std::string>{"slots.list", "appointments.create", "appointments.reschedule",
                                          "appointments.cancel", "appointments.attended", "appointments.no_show",
                                          "conversations.reply", "conversations.release", "inspect.clinic",
                                          "inspect.conversation", "inspect.flow",
                                          // its scheduler is told at once that a held time is free
                                          "waitlist.delete",
                                          // the patient's live actors stop before the erasure
                                          "contacts.erase"});
  // Reads served from PostgreSQL run wherever the request arrives.
  CHECK(find_api_route("appointments.list")->runs_on == placement::any);
  CHECK(find_api_route("services.create")->runs_on == placement::any);
  CHECK(find_api_route("inspect.nodes")->runs_on == placement::any);
}
