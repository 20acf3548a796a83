#include "core/cluster.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

namespace atendeai::core {

namespace {

uint64_t fnv1a(uint64_t h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

} // namespace

uint64_t rendezvous_score(const std::string& node_id, const std::string& key) {
  uint64_t h = fnv1a(0xcbf29ce484222325ULL, node_id);
  h = fnv1a(h ^ 0xff, key); // a separator byte: ("ab","c") and ("a","bc") differ
  return splitmix64(h);
}

std::string rendezvous_owner(const std::string& key, const std::vector<std::string>& nodes) {
  std::string best;
  uint64_t best_score = 0;
  for (auto& n : nodes) {
    auto s = rendezvous_score(n, key);
    if (best.empty() || s > best_score || (s == best_score && n < best)) {
      best = n;
      best_score = s;
    }
  }
  return best;
}

std::string member_to_json(const cluster_member& m) {
  return nlohmann::json{{"id", m.id}, {"cluster", m.cluster_address}, {"http", m.http_address},
                        {"started_ms", m.started_ms}}
    .dump();
}

std::optional<cluster_member> member_from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string() || j["id"].get<std::string>().empty()
      || !j.contains("cluster") || !j["cluster"].is_string() || !j.contains("started_ms")
      || !j["started_ms"].is_number_integer())
    return std::nullopt;
  cluster_member m;
  m.id = j["id"].get<std::string>();
  m.cluster_address = j["cluster"].get<std::string>();
  m.http_address = j.value("http", std::string{});
  m.started_ms = j["started_ms"].get<int64_t>();
  return m;
}

std::vector<cluster_member> live_view(const cluster_member& self, const std::vector<cluster_member>& heartbeats,
                                      const std::vector<cluster_member>& seeds, const std::set<suspicion>& suspected) {
  std::map<std::string, cluster_member> by_id;
  auto consider = [&](const cluster_member& m) {
    if (m.id.empty() || m.id == self.id || suspected.count({m.id, m.started_ms}))
      return;
    auto it = by_id.find(m.id);
    if (it == by_id.end() || m.started_ms > it->second.started_ms)
      by_id[m.id] = m;
  };
  for (auto& m : heartbeats)
    consider(m);
  for (auto& m : seeds)
    consider(m);
  by_id[self.id] = self;
  std::vector<cluster_member> out;
  for (auto& [_, m] : by_id)
    out.push_back(m);
  return out;
}

std::vector<cluster_member> to_reconnect(const cluster_member& self, const std::vector<cluster_member>& heartbeats,
                                         const std::set<suspicion>& suspected) {
  std::vector<cluster_member> out;
  for (auto& m : heartbeats)
    if (m.id != self.id && suspected.count({m.id, m.started_ms}))
      out.push_back(m);
  return out;
}

std::vector<std::string> member_ids(const std::vector<cluster_member>& view) {
  std::vector<std::string> ids;
  for (auto& m : view)
    ids.push_back(m.id);
  return ids;
}

} // namespace atendeai::core
