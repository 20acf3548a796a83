#include "actors/membership.hpp"

#include <functional>
#include <map>
#include <set>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "core/log.hpp"
#include "persistence/database.hpp"
#include "persistence/redis.hpp"

namespace atendeai::actors {

namespace {

core::cluster_member to_member(const node_identity& id) {
  return {id.id, id.cluster_address, id.http_address, id.started_ms};
}

/// Splits "host:port"; port 0 when malformed.
std::pair<std::string, uint16_t> split_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return {address, 0};
  try {
    auto port = std::stoi(address.substr(colon + 1));
    return {address.substr(0, colon), static_cast<uint16_t>(port > 0 && port < 65536 ? port : 0)};
  } catch (const std::exception&) {
    return {address, 0};
  }
}

} // namespace

struct membership_state {
  static constexpr const char* name = "membership";
  membership_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  core::cluster_member me;
  /// Peers that connected to us and introduced their node actor, by id.
  std::map<std::string, std::pair<core::cluster_member, cluster_node_actor>> hellos;
  node_identity identity;         ///< ours, told to the peers we connect to
  caf::strong_actor_ptr endpoint; ///< our published node actor, introduced to them
  std::string key_prefix; ///< "<cluster.name>:cluster:"
  std::unique_ptr<persistence::redis_client> redis;
  bool redis_ok = true;
  std::vector<core::cluster_member> heartbeats; ///< last read from Redis (kept while it is away)
  std::map<std::string, core::cluster_member> seeds; ///< connected seeds by address
  std::map<std::string, cluster_node_actor> seed_handles;
  std::map<std::string, std::pair<core::cluster_member, cluster_node_actor>> peers; ///< by id
  std::set<core::suspicion> suspected;
  /// Peers whose link went down while they were not leaving (no user_shutdown), with
  /// the time by which they must introduce themselves again: they stay in the view, so
  /// the router holds their clinics' messages instead of taking the clinics over.
  std::map<std::string, std::pair<core::cluster_member, std::chrono::steady_clock::time_point>> relinking;
  std::set<std::string> connecting; ///< addresses with a connection attempt under way
  std::vector<core::cluster_member> last_view;
  std::set<std::string> last_connected;
  bool published = false;
  bool last_redis_ok = true;
  core::gauge* members_gauge = nullptr;

  // -- work -------------------------------------------------------------------

  std::string node_key(const std::string& id) const { return key_prefix + "node:" + id; }
  std::string set_key() const { return key_prefix + "nodes"; }

  /// One heartbeat: write ours, read everyone's, contact seeds and peers, publish.
  void beat() {
    heartbeat();
    contact_seeds();
    reconnect_suspected();
    greet();
    relink_pending();
    update();
    self->delayed_send(self, std::chrono::milliseconds(node->cfg.cluster.heartbeat_ms), tick_atom::value);
  }

  void heartbeat() {
    try {
      if (!redis)
        redis = persistence::redis_client::connect(node->cfg.redis.url, node->cfg.redis.timeout_ms);
      redis->command({"SET", node_key(me.id), core::member_to_json(me), "PX",
                      std::to_string(node->cfg.cluster.dead_after_ms)});
      redis->command({"SADD", set_key(), me.id});
      auto ids = redis->command_list({"SMEMBERS", set_key()});
      std::vector<std::string> mget{"MGET"};
      for (auto& id : ids)
        mget.push_back(node_key(id));
      std::vector<core::cluster_member> live;
      for (auto& text : redis->command_list(mget))
        if (auto m = core::member_from_json(text))
          live.push_back(std::move(*m));
      // Ids whose heartbeat expired leave the index (they add themselves back when alive).
      for (auto& id : ids) {
        bool alive = id == me.id;
        for (auto& m : live)
          alive = alive || m.id == id;
        if (!alive)
          redis->command({"SREM", set_key(), id});
      }
      heartbeats = std::move(live);
      if (!redis_ok)
        core::log_event(spdlog::level::info, "cluster_redis_back", {});
      redis_ok = true;
      // Suspicions end when their incarnation's heartbeat is gone.
      for (auto it = suspected.begin(); it != suspected.end();) {
        bool present = false;
        for (auto& m : heartbeats)
          present = present || (m.id == it->first && m.started_ms == it->second);
        it = present ? std::next(it) : suspected.erase(it);
      }
    } catch (const std::exception& e) {
      redis.reset();
      node->metrics->counter_with("atendeai_cluster_heartbeat_failures_total", "Heartbeats that could not reach Redis")
        .inc();
      if (redis_ok)
        core::log_event(spdlog::level::warn, "cluster_redis_unavailable",
                        {{"error", e.what()}, {"effect", "keeping the last known view"}});
      redis_ok = false;
    }
  }

  /// Connects to the seeds not connected yet and learns who they are.
  void contact_seeds() {
    for (auto& address : node->cfg.cluster.seeds) {
      if (address == me.cluster_address || seed_handles.count(address))
        continue;
      connect(address, [this, address](cluster_node_actor handle) {
        self->request(handle, std::chrono::seconds(2), whois_atom::value)
          .then(
            [this, address, handle](const node_identity& id) {
              if (id.id == me.id)
                return; // ourselves under another address
              seeds[address] = to_member(id);
              seed_handles[address] = handle;
              self->monitor(handle);
              self->send(handle, hello_atom::value, identity, endpoint);
              update();
            },
            [address](const caf::error& err) {
              core::log_event(spdlog::level::debug, "cluster_seed_silent",
                              {{"seed", address}, {"error", caf::to_string(err)}});
            });
      });
    }
  }

  /// Introduces this node again to every peer at each heartbeat: a peer that lost its
  /// proxy of our endpoint (CAF drops a node's proxies when a node it once routed
  /// through leaves, while the direct link lives on) gets a fresh one from the hello.
  void greet() {
    for (auto& [_, peer] : peers)
      self->send(peer.second, hello_atom::value, identity, endpoint);
  }

  /// Relinking peers: connected to again at each heartbeat (CAF's middleman hands out
  /// the dropped proxy until it notices it is gone); those that neither answer nor
  /// introduce themselves within cluster.dead_after_ms are suspected: out of the view,
  /// their clinics taken over.
  void relink_pending() {
    auto now = std::chrono::steady_clock::now();
    for (auto it = relinking.begin(); it != relinking.end();) {
      auto m = it->second.first;
      if (now >= it->second.second) {
        suspect(m, "no answer since its link went down");
        it = relinking.erase(it);
        continue;
      }
      ++it;
      relink(m, [this, m] { relink_refused(m, "connection refused"); });
    }
  }

  /// A relinking peer refused a new connection: it is gone.
  void relink_refused(const core::cluster_member& m, const std::string& reason) {
    auto r = relinking.find(m.id);
    if (r == relinking.end() || r->second.first.started_ms != m.started_ms)
      return; // it introduced itself meanwhile
    relinking.erase(r);
    suspect(m, reason);
    update();
  }

  void suspect(const core::cluster_member& m, const std::string& reason) {
    core::log_event(spdlog::level::warn, "cluster_peer_down", {{"peer", m.id}, {"reason", reason}});
    suspected.insert({m.id, m.started_ms});
  }

  /// Links again to suspected incarnations that still beat (core::to_reconnect).
  void reconnect_suspected() {
    for (auto& m : core::to_reconnect(me, heartbeats, suspected))
      relink(m, [] {});
  }

  /// Connects to `m` again; when the same incarnation answers it is a peer again (not
  /// suspected). A link can go down while both nodes live: CAF drops a node's proxies
  /// when a node it once routed through leaves. `refused` runs when no connection could
  /// be made (the node is gone); a connection whose actor does not answer (a proxy CAF
  /// dropped) leaves it to the peer's hello.
  void relink(const core::cluster_member& m, std::function<void()> refused) {
    connect(
      m.cluster_address,
      [this, m](cluster_node_actor handle) {
        self->request(handle, std::chrono::seconds(2), whois_atom::value)
          .then(
            [this, m, handle](const node_identity& id) {
              if (id.id != m.id || id.started_ms != m.started_ms || linked(m))
                return;
              suspected.erase({m.id, m.started_ms});
              relinking.erase(m.id);
              core::log_event(spdlog::level::info, "cluster_peer_relinked", {{"peer", m.id}});
              self->monitor(handle);
              self->send(handle, hello_atom::value, identity, endpoint);
              adopt(m, handle, false);
              update();
            },
            [](const caf::error&) {});
      },
      std::move(refused));
  }

  /// Connects to the node actor at `address` through the middleman actor, without
  /// blocking the heartbeat (an unreachable host gives up after dead_after_ms); `done`
  /// gets the handle. One attempt per address at a time.
  void connect(const std::string& address, std::function<void(cluster_node_actor)> done,
               std::function<void()> failed = {}) {
    auto target = split_address(address);
    if (target.second == 0) {
      if (failed)
        failed();
      return;
    }
    if (!connecting.insert(address).second)
      return; // the attempt under way answers
    auto& sys = self->system();
    auto mm = node->cfg.cluster.tls() ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
    self->request(mm, std::chrono::milliseconds(node->cfg.cluster.dead_after_ms), caf::connect_atom::value,
                  target.first, target.second)
      .then(
        [this, address, done, failed](const caf::node_id&, const caf::strong_actor_ptr& ptr,
                                      const std::set<std::string>& ifs) {
          connecting.erase(address);
          auto expected = self->system().message_types(caf::detail::type_list<cluster_node_actor>{});
          if (!ptr || ifs != expected) {
            core::log_event(spdlog::level::warn, "cluster_connect_refused",
                            {{"address", address}, {"reason", "not an atendeai node actor"}});
            if (failed)
              failed();
            return;
          }
          done(caf::actor_cast<cluster_node_actor>(ptr));
        },
        [this, address, failed](const caf::error& err) {
          connecting.erase(address);
          if (failed)
            failed();
          // Unreachable, or refused by the TLS handshake (a certificate of another CA).
          node->metrics->counter_with("atendeai_cluster_connect_failures_total", "Failed connections to cluster peers")
            .inc();
          core::log_event(spdlog::level::debug, "cluster_connect_failed",
                          {{"address", address}, {"error", caf::to_string(err)}});
        });
  }

  /// True when this incarnation of `m` is a connected peer, or introduced itself.
  bool linked(const core::cluster_member& m) const {
    auto p = peers.find(m.id);
    auto h = hellos.find(m.id);
    return (p != peers.end() && p->second.first.started_ms == m.started_ms)
           || (h != hellos.end() && h->second.first.started_ms == m.started_ms);
  }

  /// True when `address` is one of our connected seeds (the link exists already).
  bool seed_address(const std::string& address) const { return seed_handles.count(address) > 0; }

  /// `m` is a connected peer from now on, through `handle` (monitored already).
  void adopt(const core::cluster_member& m, cluster_node_actor handle, bool introduced) {
    relinking.erase(m.id);
    peers[m.id] = {m, std::move(handle)};
    core::log_event(spdlog::level::info, "cluster_peer_connected",
                    {{"peer", m.id}, {"address", m.cluster_address}, {"introduced", introduced}});
  }

  /// A peer connected to us and introduced its node actor: our link to it, used once
  /// the peer is in the view (its hello may come before its heartbeat is read).
  void introduced(const node_identity& id, cluster_node_actor handle) {
    if (!handle || id.id == me.id)
      return;
    auto known = [&](const auto& map) { // this incarnation through this very proxy: a greeting
      auto it = map.find(id.id);
      return it != map.end() && it->second.first.started_ms == id.started_ms
             && caf::actor_cast<caf::strong_actor_ptr>(it->second.second) == caf::actor_cast<caf::strong_actor_ptr>(handle);
    };
    if (known(peers) || known(hellos))
      return;
    suspected.erase({id.id, id.started_ms}); // it linked to us again: alive
    if (auto r = relinking.find(id.id); r != relinking.end() && r->second.first.started_ms <= id.started_ms)
      relinking.erase(r);
    self->monitor(handle);
    hellos[id.id] = {to_member(id), std::move(handle)};
    update();
  }

  /// Recomputes the view, starts connecting to new peers, drops departed ones, and
  /// tells the router when members, connections or Redis's state changed.
  void update() {
    std::vector<core::cluster_member> seed_members;
    for (auto& [_, m] : seeds)
      seed_members.push_back(m);
    auto view = core::live_view(me, heartbeats, seed_members, suspected);
    std::set<std::string> ids;
    for (auto& m : view) {
      ids.insert(m.id);
      if (m.id == me.id)
        continue;
      auto it = peers.find(m.id);
      if (it != peers.end() && it->second.first.started_ms == m.started_ms)
        continue;
      // One link per pair of nodes: the node with the greater id connects and introduces
      // itself (hello); the other waits for that (a seed link counts as well).
      if (auto h = hellos.find(m.id); h != hellos.end() && h->second.first.started_ms == m.started_ms) {
        adopt(m, h->second.second, true);
        continue;
      }
      if (relinking.count(m.id) || (m.id > me.id && !seed_address(m.cluster_address)))
        continue;
      connect(m.cluster_address, [this, m](cluster_node_actor handle) {
        self->send(handle, hello_atom::value, identity, endpoint);
        self->monitor(handle);
        adopt(m, std::move(handle), false);
        update(); // drops it again if it left meanwhile
      });
    }
    for (auto it = peers.begin(); it != peers.end();)
      it = ids.count(it->first) ? std::next(it) : peers.erase(it);
    publish(std::move(view));
  }

  void publish(std::vector<core::cluster_member> view) {
    std::set<std::string> connected;
    for (auto& [id, _] : peers)
      connected.insert(id);
    if (published && view == last_view && connected == last_connected && redis_ok == last_redis_ok)
      return;
    published = true;
    last_redis_ok = redis_ok;
    if (core::member_ids(view) != core::member_ids(last_view))
      core::log_event(spdlog::level::info, "cluster_view_changed",
                      {{"members", core::member_ids(view)}, {"redis", redis_ok}});
    last_view = view;
    last_connected = connected;
    cluster_view out;
    out.members = view;
    for (auto& [id, peer] : peers)
      out.peers.emplace(id, peer.second);
    members_gauge->set(static_cast<int64_t>(view.size()));
    auto members = nlohmann::json::array();
    for (auto& m : view)
      members.push_back({{"id", m.id}, {"cluster", m.cluster_address}, {"http", m.http_address},
                         {"connected", m.id == me.id || connected.count(m.id) > 0}});
    node->cluster->set({{"enabled", true}, {"node_id", me.id}, {"members", members}, {"redis", redis_ok}});
    // The cluster starts before the router (a taken port must fail the start first): a
    // view sent before the router exists would be lost, and an unchanged view is never
    // sent again, so the next heartbeat publishes it once more.
    if (!node->router()) {
      published = false;
      return;
    }
    self->send(node->router(), view_atom::value, std::move(out));
  }

  /// A peer's or seed's connection went down: that incarnation is out at once.
  void on_down(const caf::down_msg& msg) {
    for (auto it = hellos.begin(); it != hellos.end(); ++it)
      if (it->second.second.address() == msg.source) {
        hellos.erase(it);
        break;
      }
    for (auto it = peers.begin(); it != peers.end(); ++it)
      if (it->second.second.address() == msg.source) {
        auto m = it->second.first;
        peers.erase(it);
        if (msg.reason == caf::exit_reason::user_shutdown) { // it is leaving
          suspect(m, caf::to_string(msg.reason));
          break;
        }
        // A link can go down while the peer lives (see greet): it stays in the view
        // until it introduces itself again, or a new connection is refused (it died), or
        // cluster.dead_after_ms passes. Suspected at once, a live peer would have its
        // clinics owned twice meanwhile.
        relinking[m.id] = {m, std::chrono::steady_clock::now()
                                + std::chrono::milliseconds(node->cfg.cluster.dead_after_ms)};
        relink(m, [this, m, reason = caf::to_string(msg.reason)] { relink_refused(m, reason); });
        break;
      }
    for (auto it = seed_handles.begin(); it != seed_handles.end(); ++it)
      if (it->second.address() == msg.source) {
        // Contacted again at the next heartbeat; suspected only when it is leaving (a
        // lost link to a live seed is the peers' business above).
        auto seed = seeds.find(it->first);
        if (seed != seeds.end()) {
          if (msg.reason == caf::exit_reason::user_shutdown)
            suspected.insert({seed->second.id, seed->second.started_ms});
          seeds.erase(seed);
        }
        seed_handles.erase(it);
        break;
      }
    update();
  }

  /// Leaving: the heartbeat goes at once, so peers take over without waiting for its TTL.
  void leave() {
    try {
      if (redis) {
        redis->command({"DEL", node_key(me.id)});
        redis->command({"SREM", set_key(), me.id});
      }
    } catch (const std::exception&) {
      // The TTL removes it anyway.
    }
  }
};

membership_actor::behavior_type membership(membership_actor::stateful_pointer<membership_state> self,
                                           node_context_ptr node, node_identity identity,
                                           caf::strong_actor_ptr endpoint) {
  auto& st = self->state;
  st.self = self;
  st.node = std::move(node);
  st.me = to_member(identity);
  st.identity = std::move(identity);
  st.endpoint = std::move(endpoint);
  st.key_prefix = st.node->cfg.cluster.name + ":cluster:";
  st.members_gauge = &st.node->metrics->gauge_with("atendeai_cluster_members", "Live cluster members this node sees");
  self->set_down_handler([self](caf::down_msg& msg) { self->state.on_down(msg); });
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) { self->state.beat(); },
    [self](view_atom) {
      self->state.published = false;
      self->state.update();
    },
    [self](drain_atom) {
      self->state.leave();
      return true;
    },
    [self](hello_atom, const node_identity& id, const caf::strong_actor_ptr& peer) {
      self->state.introduced(id, caf::actor_cast<cluster_node_actor>(peer));
    },
  };
}

membership_actor spawn_membership(caf::actor_system& sys, node_context_ptr node, node_identity identity,
                                  caf::strong_actor_ptr endpoint) {
  return sys.spawn<caf::detached>(membership, std::move(node), std::move(identity), std::move(endpoint));
}

} // namespace atendeai::actors
