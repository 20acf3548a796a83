// ICS feeds (issue 22): a professional's and the clinic's secret feed URLs, read by a real
// iCalendar parser (Debian's python3-icalendar): an appointment booked, moved and
// cancelled through the admin API keeps its UID while SEQUENCE grows and STATUS follows;
// the patient appears by first name only; rotating a URL kills the old one at once; a
// feed shows its own clinic's appointments only; wrong tokens answer 404.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include <unistd.h>

#include "core/demo_clinic.hpp"
#include "core/slots.hpp"
#include "support/admin_node.hpp"
#include "support/chat.hpp"

using namespace atendeai::test;
using nlohmann::json;

namespace {

const std::string clinic_path = "/api/v1/clinics/" + demo::clinic_id;

/// A weekday at least two days ahead in the clinic's zone (the booking rules' advance).
clinic_day weekday_ahead() {
  const auto* tz = atendeai::core::clinic_zone(atendeai::core::demo_clinic());
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  date::sys_days d = date::sys_days{atendeai::core::local_date(tz, now)} + date::days{2};
  while (date::weekday{d}.c_encoding() == 0 || date::weekday{d}.c_encoding() == 6)
    d += date::days{1};
  return clinic_day_of(date::year_month_day{d});
}

/// The path of a feed URL on the test node (the URL names http.public_base_url).
std::string path_of(const std::string& url) {
  auto at = url.find("/ics/");
  REQUIRE(at != std::string::npos);
  return url.substr(at);
}

/// The feed's events as python3-icalendar reads them: [{uid, sequence, status, summary,
/// start (UTC ISO 8601), description}].
json parse_feed(const std::string& ics) {
  static int n = 0;
  auto file = "/tmp/atendeai-feed-" + std::to_string(::getpid()) + "-" + std::to_string(++n) + ".ics";
  std::ofstream(file, std::ios::binary) << ics;
  // Debian's interpreter, where python3-icalendar is installed (not whatever python3 is first on PATH).
  auto cmd = "/usr/bin/python3 -c 'import icalendar,json,sys\n"
             "cal = icalendar.Calendar.from_ical(open(sys.argv[1], \"rb\").read())\n"
             "print(json.dumps({\"name\": str(cal.get(\"X-WR-CALNAME\")), \"events\": [{\"uid\": str(e[\"UID\"]), "
             "\"sequence\": int(e[\"SEQUENCE\"]), \"status\": str(e[\"STATUS\"]), \"summary\": str(e[\"SUMMARY\"]), "
             "\"description\": str(e.get(\"DESCRIPTION\", \"\")), "
             "\"start\": e.decoded(\"DTSTART\").isoformat()} for e in cal.walk(\"VEVENT\")]}))' " + file;
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, p)) > 0)
      out.append(buf, got);
    INFO("python3-icalendar exited " << ::pclose(p));
  }
  std::remove(file.c_str());
  auto j = json::parse(out, nullptr, false);
  INFO(ics);
  REQUIRE(j.is_object());
  return j;
}

/// GETs a feed: 200 with text/calendar, parsed.
json feed(const logged_in_node& n, const std::string& url) {
  auto r = http_get(n.url(path_of(url)));
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"].find("text/calendar") == 0);
  return parse_feed(r.body);
}

} // namespace

TEST_CASE("calendar feeds: a professional's ICS feed follows an appointment through a move and a cancel",
          "[calendar]") {
  logged_in_node n;
  auto professional = n.call(n.demo_admin, "GET", clinic_path + "/professionals/" + demo::ana, nullptr, 200);
  REQUIRE(professional["ics_url"].is_string());
  std::string url = professional["ics_url"];
  CHECK(url.rfind("http://127.0.0.1:8080/ics/", 0) == 0); // http.public_base_url
  CHECK(url.size() == std::string("http://127.0.0.1:8080/ics/").size() + 64 + 4);
  CHECK(feed(n, url)["events"].empty());

  auto day = weekday_ahead();
  auto booked = n.call(n.demo_admin, "POST", clinic_path + "/appointments",
                       {{"service_id", demo::cardio},
                        {"professional_id", demo::ana},
                        {"starts_at", day.local(10)},
                        {"patient", {{"phone", "+55 11 98888-7777"}, {"name", "Maria da Silva Souza"}}}},
                       201);
  std::string id = booked["id"];
  auto first = feed(n, url);
  CHECK(first["name"] == "Clínica Exemplo — Dra. Ana Souza");
  REQUIRE(first["events"].size() == 1);
  auto e = first["events"][0];
  CHECK(e["uid"] == id + "@atendeai");
  CHECK(e["sequence"] == 0);
  CHECK(e["status"] == "TENTATIVE");
  CHECK(e["summary"] == "Cardiologia — Maria"); // first name only: no surname, no phone
  CHECK(e["start"] == day.utc(10).substr(0, 19) + "+00:00");

  n.call(n.demo_admin, "POST", clinic_path + "/appointments/" + id + "/reschedule", {{"starts_at", day.local(15)}},
         200);
  auto moved = feed(n, url)["events"];
  REQUIRE(moved.size() == 1);
  CHECK(moved[0]["uid"] == id + "@atendeai"); // the same event, replaced
  CHECK(moved[0]["sequence"] == 1);
  CHECK(moved[0]["start"] == day.utc(15).substr(0, 19) + "+00:00");

  n.call(n.demo_admin, "POST", clinic_path + "/appointments/" + id + "/cancel", {{"reason", "pediu por telefone"}}, 200);
  auto cancelled = feed(n, url)["events"];
  REQUIRE(cancelled.size() == 1);
  CHECK(cancelled[0]["uid"] == id + "@atendeai");
  CHECK(cancelled[0]["sequence"] == 2);
  CHECK(cancelled[0]["status"] == "CANCELLED");

  // Another professional's feed does not show it; the clinic's feed does, naming her.
  auto carlos = n.call(n.demo_admin, "GET", clinic_path + "/professionals/" + demo::carlos, nullptr, 200);
  CHECK(feed(n, carlos["ics_url"])["events"].empty());
  auto clinic_feed = n.call(n.demo_admin, "GET", clinic_path + "/calendar-feed", nullptr, 200);
  auto all = feed(n, clinic_feed["ics_url"]);
  CHECK(all["name"] == "Clínica Exemplo");
  REQUIRE(all["events"].size() == 1);
  CHECK(all["events"][0]["description"] == "Dra. Ana Souza");
}

TEST_CASE("calendar feeds: rotating a URL stops the old one at once, and feeds keep to their clinic", "[calendar]") {
  logged_in_node n;
  std::string old_url = n.call(n.demo_admin, "GET", clinic_path + "/professionals/" + demo::ana, nullptr, 200)["ics_url"];
  auto rotated = n.call(n.demo_admin, "POST", clinic_path + "/professionals/" + demo::ana + "/ics-token", nullptr, 200);
  std::string new_url = rotated["ics_url"];
  CHECK(new_url != old_url);
  CHECK(http_get(n.url(path_of(old_url))).status == 404);
  CHECK(http_get(n.url(path_of(new_url))).status == 200);
  CHECK(n.call(n.demo_admin, "GET", clinic_path + "/professionals/" + demo::ana, nullptr, 200)["ics_url"] == new_url);
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action = 'professional.ics_rotate'") == 1);

  std::string clinic_url = n.call(n.demo_admin, "GET", clinic_path + "/calendar-feed", nullptr, 200)["ics_url"];
  auto clinic_rotated = n.call(n.demo_admin, "POST", clinic_path + "/calendar-feed/token", nullptr, 200);
  CHECK(http_get(n.url(path_of(clinic_url))).status == 404);
  CHECK(http_get(n.url(path_of(clinic_rotated["ics_url"]))).status == 200);

  // Another clinic: its own feed (made with the clinic) shows none of the demo clinic's
  // appointments; its admin cannot read or rotate the demo clinic's feeds.
  n.call(n.demo_admin, "POST", clinic_path + "/appointments",
         {{"service_id", demo::cardio},
          {"professional_id", demo::ana},
          {"starts_at", weekday_ahead().local(11)},
          {"patient", {{"phone", "+55 11 97777-6666"}, {"name", "Ana Paula"}}}},
         201);
  auto other = n.other_clinic();
  auto other_token = n.scalar("SELECT token FROM atendeai.calendar_feeds WHERE clinic_id = '" + other +
                              "' AND professional_id IS NULL");
  REQUIRE(other_token.size() == 64);
  CHECK(parse_feed(http_get(n.url("/ics/" + other_token + ".ics")).body)["events"].empty());
  CHECK(feed(n, new_url)["events"].size() == 1);
  auto [uid, other_admin] = n.user("clinic_admin", other);
  n.call(other_admin, "GET", clinic_path + "/calendar-feed", nullptr, 404);
  n.call(other_admin, "POST", clinic_path + "/professionals/" + demo::ana + "/ics-token", nullptr, 404);
  auto [aid, attendant] = n.user("attendant");
  n.call(attendant, "POST", clinic_path + "/calendar-feed/token", nullptr, 403);

  // Wrong tokens: 404 like a route that does not exist, nothing about why.
  CHECK(http_get(n.url("/ics/" + std::string(64, 'a') + ".ics")).status == 404);
  CHECK(http_get(n.url("/ics/not-a-token.ics")).status == 404);
  CHECK(http_get(n.url("/ics/" + new_url.substr(new_url.size() - 68, 60) + ".ics")).status == 404);
}
