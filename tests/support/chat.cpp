#include "support/chat.hpp"

#include <catch2/catch.hpp>

#include "core/agenda_rules.hpp"
#include "core/demo_clinic.hpp"
#include "core/slots.hpp"

namespace atendeai::test {

using nlohmann::json;

namespace {

const date::time_zone* demo_zone() { return core::clinic_zone(core::demo_clinic()); }

} // namespace

std::string clinic_day::utc(int hour) const {
  return core::format_iso(*core::local_instant(demo_zone(), ymd, hour * 60));
}

std::string clinic_day::local(int hour) const {
  return core::format_local_iso(demo_zone(), *core::local_instant(demo_zone(), ymd, hour * 60));
}

clinic_day clinic_day_of(const date::year_month_day& d) {
  static const char* names[] = {"domingo", "segunda", "terça", "quarta", "quinta", "sexta", "sábado"};
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u/%02u", static_cast<unsigned>(d.day()), static_cast<unsigned>(d.month()));
  return {d, buf, names[date::weekday{date::sys_days{d}}.c_encoding()]};
}

std::string interactive_body(const std::string& from, const std::string& wamid, const std::string& kind,
                             const std::string& id, const std::string& title) {
  json reply = {{"id", id}, {"title", title}};
  json msg = {{"from", from},
              {"id", wamid},
              {"timestamp", webhook_timestamp()},
              {"type", "interactive"},
              {"interactive", {{"type", kind}, {kind, reply}}}};
  return notification_body(json::array({msg}),
                           json::array({{{"profile", {{"name", "Paciente"}}}, {"wa_id", from}}}));
}

json exchange(const node_process& node, const scratch_database& db, const fake_graph_api& graph,
              const std::string& patient, const std::string& body, std::chrono::seconds timeout) {
  auto before = sent_to(graph, patient).size();
  auto r = post_webhook(node, body);
  INFO(node.output());
  REQUIRE(r.status == 200);
  bool replied = eventually([&] { return sent_to(graph, patient).size() > before; }, timeout);
  INFO(node.output());
  REQUIRE(replied);
  REQUIRE(quiescent(db, timeout)); // a second reply would have been delivered by now
  auto all = sent_to(graph, patient);
  CHECK(all.size() == before + 1);
  return all.back();
}

void chat_node::start() {
  node.reset();
  node = serve_node(db, options);
}

void chat_node::restart() {
  REQUIRE(node->stop() == 0);
  start();
}

json chat_node::exchange(const std::string& patient, const std::string& body) {
  return atendeai::test::exchange(*node, db, graph, patient, body);
}

json chat_node::say(const std::string& patient, const std::string& text) {
  return exchange(patient, webhook_body({{patient, fresh_wamid(), text}}));
}

json chat_node::tap(const std::string& patient, const std::string& kind, const std::string& id,
                    const std::string& title) {
  return exchange(patient, interactive_body(patient, fresh_wamid(), kind, id, title));
}

} // namespace atendeai::test
