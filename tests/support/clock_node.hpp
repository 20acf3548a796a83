#pragma once
// A node on a test clock (Monday 2030-03-04 09:00 in São Paulo) whose patients write
// with the clock's timestamps: the reminder and waitlist tests move it forward, book
// through the admin API and tap buttons as Meta sends them.
#include <string>
#include <vector>

#include <date/date.h>
#include <nlohmann/json.hpp>

#include "support/admin_node.hpp"
#include "support/chat.hpp"
#include "support/demo_ids.hpp"

namespace atendeai::test {

/// The test clock's start: Monday 2030-03-04 12:00 UTC (09:00 in São Paulo).
inline const date::sys_seconds clock_start = date::sys_days{date::year{2030} / 3 / 4} + std::chrono::hours(12);

/// A node on the test clock whose patients write with the clock's timestamps.
struct clock_node : admin_node {
  using json = nlohmann::json;

  date::sys_seconds now = clock_start;
  int wamids = 0;
  std::string admin;

  clock_node() : admin_node(node_settings{{"ATENDEAI_TEST_CLOCK", "2030-03-04T12:00:00Z"}}) {
    admin = clinic_admin_token();
  }

  /// An admin API path of the demo clinic: path("/waitlist") = /api/v1/clinics/<demo>/waitlist.
  std::string path(const std::string& rest) const { return "/api/v1/clinics/" + demo::clinic_id + rest; }
  /// The reply button ids of an interactive message as the Graph API received it.
  static std::vector<std::string> button_ids(const json& m) {
    std::vector<std::string> out;
    if (m.value("type", "") == "interactive")
      for (auto& b : m["interactive"]["action"].value("buttons", json::array()))
        out.push_back(b["reply"]["id"].get<std::string>());
    return out;
  }

  /// Moves the node's clock forward.
  void advance(std::chrono::seconds d) {
    auto r = http_post(url("/test/clock"), json{{"advance_s", d.count()}}.dump());
    REQUIRE(r.status == 200);
    now += d;
    admin = clinic_admin_token(); // the last one may have expired on the node's clock
  }
  /// A message of the patient now (the clock's time), as Meta sends it.
  json message(const std::string& patient, const std::string& type, const json& part) {
    json m = {{"from", patient},
              {"id", "wamid.rem-" + std::to_string(++wamids)},
              {"timestamp", std::to_string(now.time_since_epoch().count())},
              {"type", type},
              {type, part}};
    return m;
  }
  json send(const std::string& patient, const json& m) {
    return exchange(*node, db, graph, patient,
                    notification_body(json::array({m}), json::array({{{"profile", {{"name", "Maria Teste"}}},
                                                                     {"wa_id", patient}}})));
  }
  /// The patient types `text`: the one reply.
  json say_now(const std::string& patient, const std::string& text) {
    return send(patient, message(patient, "text", {{"body", text}}));
  }
  /// The patient taps a template's quick-reply button (an inbound `button` message).
  json tap_template(const std::string& patient, const std::string& payload, const std::string& text) {
    return send(patient, message(patient, "button", {{"payload", payload}, {"text", text}}));
  }
  /// The patient taps an interactive reply button.
  json tap_button(const std::string& patient, const std::string& id, const std::string& title) {
    return send(patient, message(patient, "interactive",
                                 {{"type", "button_reply"}, {"button_reply", {{"id", id}, {"title", title}}}}));
  }
  /// Staff book `patient` with Dra. Ana (cardiology) at a local time; the appointment id.
  std::string book(const std::string& patient, const std::string& starts_at) {
    auto row = call(admin, "POST", "/api/v1/clinics/" + demo::clinic_id + "/appointments",
                    {{"service_id", demo::cardio},
                     {"professional_id", demo::ana},
                     {"starts_at", starts_at},
                     {"patient", {{"phone", patient}, {"name", "Maria Teste"}}}},
                    201);
    return row["id"].get<std::string>();
  }
  std::string status_of(const std::string& appointment) {
    return scalar("SELECT status FROM atendeai.appointments WHERE id = '" + appointment + "'");
  }
  /// Staff changes are not told to patients (the reminder tests count reminders only).
  void no_notices() {
    call(admin, "PUT", "/api/v1/clinics/" + demo::clinic_id + "/reminders",
         {{"notify_staff_changes", {{"created", false}, {"moved", false}, {"cancelled", false}}}}, 200);
  }
  /// Waits until every reminder due has been run (no job due and open): from then on a
  /// second reminder would already have been written.
  bool jobs_settled() {
    auto t = std::to_string(now.time_since_epoch().count());
    return eventually([&] {
      return count("SELECT count(*) FROM atendeai.jobs WHERE state IN ('pending', 'running') "
                   "AND due_at <= to_timestamp(" + t + ")") == 0;
    });
  }
};

} // namespace atendeai::test
