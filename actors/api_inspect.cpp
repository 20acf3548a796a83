/// Admin API: live inspection of the node and its actors.
///
/// Every answer comes from the actors themselves: the handler sends an inspect_query to
/// the router, which answers for the node or passes the query to the clinic's actor (a
/// serialisable value, so a cluster can forward it to the clinic's owner node). An actor
/// that does not answer in time is reported "busy". A conversation or flow that is not
/// live (passivated, or never started on this node) is shown from PostgreSQL with
/// "live": false — the state the next message rebuilds it from.
#include "actors/api_support.hpp"

#include <caf/all.hpp>

#include "persistence/inbox.hpp"
#include "persistence/pipeline.hpp"

namespace atendeai::actors {

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

void nodes(api_call& call) {
  call.reply(200, ask_router(call, {"node", "", ""}));
}

void actors(api_call& call) {
  call.reply(200, ask_router(call, {"actors", "", ""}));
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

void add_inspect_handlers(api_handlers& h) {
  h["inspect.nodes"] = nodes;
  h["inspect.actors"] = actors;
  h["inspect.clinic"] = clinic_actors;
  h["inspect.conversation"] = conversation;
  h["inspect.flow"] = flow;
}

} // namespace atendeai::actors
