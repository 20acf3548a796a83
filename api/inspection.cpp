/// Admin API: live inspection of the node and its actors.
///
/// Every answer comes from the actors themselves: the handler sends an inspect_query to
/// the router, which answers for the node or passes the query to the clinic's actor. In a
/// cluster a clinic's, conversation's or flow's inspection runs on the clinic's owner
/// node (the route table places it there: api/forwarding.cpp), and the nodes and
/// actors views ask every live node for its own snapshot (a node that does not answer in
/// time is listed "busy", one not connected "unreachable"). An actor that does not
/// answer in time is reported "busy". A conversation or flow that is not
/// live (passivated, or never started on this node) is shown from PostgreSQL with
/// "live": false — the state the next message rebuilds it from.
#include "api/call.hpp"
#include "api/forwarding.hpp"
#include "api/validation.hpp"

#include <caf/all.hpp>

#include "persistence/inbox.hpp"
#include "persistence/pipeline.hpp"

namespace atendeai::api {

using namespace actors; // the router's typed interface and its atoms

namespace {

using nlohmann::json;

/// The router's answer to `q`, or a busy entry when it does not come in time.
json ask_router(api_call& call, inspect_query q) {
  caf::scoped_actor self{*call.w.system};
  json out;
  self->request(call.w.node->router(), std::chrono::seconds(10), inspect_atom::value, std::move(q))
    .receive([&](const std::string& s) { out = json::parse(s, nullptr, false); },
             [&](const caf::error&) { out = {{"live", true}, {"status", "busy"}, {"busy", true}}; });
  return out;
}

/// How long a peer node may take to report itself (its router waits up to 5 s on its clinics).
constexpr auto node_patience = std::chrono::seconds(8);

/// Adds the numbers of `from` into `into`, member by member (objects recursively).
void add_numbers(json& into, const json& from) {
  if (!from.is_object())
    return;
  if (!into.is_object())
    into = json::object();
  for (auto& [key, value] : from.items()) {
    if (value.is_number_integer())
      into[key] = into.value(key, int64_t{0}) + value.get<int64_t>();
    else if (value.is_number())
      into[key] = into.value(key, 0.0) + value.get<double>();
    else if (value.is_object())
      add_numbers(into[key], value);
  }
}

/// Every live node's answer: this node's, the peers' (null for one that did not answer
/// in time), and the ids of members not connected.
struct cluster_answers {
  std::string local_id;
  json local;
  std::vector<std::pair<std::string, json>> peers;
  std::vector<std::string> unreachable;
};

/// `what` (node | actors) from every live node: this node's router and each connected
/// peer's node actor, asked at once.
cluster_answers ask_every_node(api_call& call, const std::string& what) {
  cluster_answers out;
  out.local_id = call.w.node->cfg.node.id;
  caf::scoped_actor self{*call.w.system};
  cluster_view view;
  if (call.w.node->cfg.cluster.port != 0)
    self->request(call.w.node->router(), std::chrono::seconds(5), view_atom::value)
      .receive([&](cluster_view& v) { view = std::move(v); }, [&](const caf::error&) {});
  std::vector<std::string> asked;
  for (auto& m : view.members) {
    if (m.id == call.w.node->cfg.node.id)
      continue;
    if (view.peers.count(m.id))
      asked.push_back(m.id);
    else
      out.unreachable.push_back(m.id);
  }
  // Every request goes out before the first answer is awaited: the waits overlap.
  auto local = self->request(call.w.node->router(), std::chrono::seconds(10), inspect_atom::value,
                             inspect_query{what, "", ""});
  std::vector<decltype(self->request(view.peers.begin()->second, node_patience, inspect_atom::value,
                                     inspect_query{}))> pending;
  for (auto& id : asked)
    pending.push_back(self->request(view.peers[id], node_patience, inspect_atom::value, inspect_query{what, "", ""}));
  local.receive([&](const std::string& s) { out.local = json::parse(s, nullptr, false); },
                [&](const caf::error&) { out.local = nullptr; });
  for (size_t i = 0; i < pending.size(); ++i) {
    json answer;
    pending[i].receive([&](const std::string& s) { answer = json::parse(s, nullptr, false); },
                       [&](const caf::error&) { answer = nullptr; });
    out.peers.emplace_back(asked[i], std::move(answer));
  }
  return out;
}

/// The entry of a node that did not report itself.
json absent_node(const std::string& id, const char* status) {
  return {{"id", id}, {"status", status}};
}

bool not_live(const json& j) {
  return j.is_object() && j.value("live", true) == false;
}

/// The clinic of the conversation named by `param`, checked against the caller: a super
/// admin any, anyone else only their own clinic's (404 otherwise, as for unknown ids).
std::pair<std::string, std::string> locate(api_call& call, const char* param, const char* what) {
  auto id = call.id_param(param, what);
  auto clinic = call.w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    return persistence::conversation_clinic(tx, id);
  });
  if (!clinic || (call.p.role != core::role::super_admin && *clinic != call.p.user.clinic_id))
    fail(core::error_code::not_found, std::string("no such ") + what);
  return {*clinic, id};
}

/// A conversation's durable memory (what a fresh actor would load).
persistence::conversation_memory stored_memory(api_call& call, const std::string& clinic,
                                               const std::string& conversation_id) {
  return call.w.db->run([&](pqxx::connection& c) {
    return persistence::load_conversation_memory(c, clinic, conversation_id,
                                                 call.w.node->cfg.conversation.memory_window);
  });
}

/// What the inspection shows of an actor that is not live: its stored state.
json stored_view(const char* kind, const std::string& clinic, const std::string& id) {
  return {{"kind", kind},      {"id", id},       {"clinic_id", clinic},    {"conversation_id", id},
          {"node", nullptr},   {"live", false},  {"status", "passivated"}};
}

/// The nodes of `answers` (each answer's "nodes"), absent ones with their status.
json node_list(const cluster_answers& answers) {
  auto list = json::array();
  auto take = [&](const std::string& id, const json& answer) {
    if (answer.is_object() && answer["nodes"].is_array())
      for (auto& n : answer["nodes"])
        list.push_back(n);
    else
      list.push_back(absent_node(id, "busy"));
  };
  take(answers.local_id, answers.local);
  for (auto& [id, answer] : answers.peers)
    take(id, answer);
  for (auto& id : answers.unreachable)
    list.push_back(absent_node(id, "unreachable"));
  return list;
}

void nodes(api_call& call) {
  auto answers = ask_every_node(call, "node");
  call.reply(200, {{"nodes", node_list(answers)}});
}

/// Totals over the nodes that answered; each node's own counts under "nodes".
void actors(api_call& call) {
  auto answers = ask_every_node(call, "actors");
  json out = answers.local.is_object() ? answers.local : json::object();
  for (auto& [_, answer] : answers.peers)
    if (answer.is_object())
      for (auto key : {"counts", "restarts", "passivated"})
        add_numbers(out[key], answer[key]);
  for (auto& [_, answer] : answers.peers)
    if (answer.is_object())
      for (auto key : {"mailbox_total", "busy"})
        out[key] = out.value(key, int64_t{0}) + answer.value(key, int64_t{0});
  // A node that did not answer counts as busy.
  for (auto& [_, answer] : answers.peers)
    if (!answer.is_object())
      out["busy"] = out.value("busy", int64_t{0}) + 1;
  out["nodes"] = node_list(answers);
  call.reply(200, out);
}

void clinic_actors(api_call& call) {
  auto out = ask_router(call, {"clinic", call.clinic_id, ""});
  if (not_live(out))
    out = {{"clinic", {{"kind", "clinic"}, {"id", call.clinic_id}, {"clinic_id", call.clinic_id}, {"live", false}}},
           {"conversations", json::array()},
           {"flows", json::array()}};
  call.reply(200, out);
}

void conversation(api_call& call) {
  auto [clinic, id] = locate(call, "cid", "conversation");
  if (forward_to_owner(call, clinic))
    return;
  auto live = ask_router(call, {"conversation", clinic, id});
  if (!not_live(live))
    return call.reply(200, live);
  auto mem = stored_memory(call, clinic, id);
  auto memory = json::array();
  for (auto& [direction, text] : mem.messages)
    memory.push_back({{"direction", direction}, {"text", text}});
  auto state = core::to_json(core::conversation_state_from_json(mem.state));
  auto out = stored_view("conversation", clinic, id);
  out["state"] = state;
  out["handoff"] = state.value("handoff", false);
  out["flow"] = state.value("flow", json());
  out["memory"] = memory;
  call.reply(200, out);
}

/// A flow's id is its conversation's id (one booking in progress per conversation).
void flow(api_call& call) {
  auto [clinic, id] = locate(call, "fid", "flow");
  if (forward_to_owner(call, clinic))
    return;
  auto live = ask_router(call, {"flow", clinic, id});
  if (!not_live(live))
    return call.reply(200, live);
  auto state = core::conversation_state_from_json(stored_memory(call, clinic, id).state);
  if (!state.flow.is_object())
    fail(core::error_code::not_found, "no such flow");
  auto stored = stored_view("appointment_flow", clinic, id);
  stored["state"] = state.flow;
  call.reply(200, stored);
}

} // namespace

void add_inspection_handlers(api_handlers& h) {
  h["inspect.nodes"] = nodes;
  h["inspect.actors"] = actors;
  h["inspect.clinic"] = clinic_actors;
  h["inspect.conversation"] = conversation;
  h["inspect.flow"] = flow;
}

} // namespace atendeai::api
