// The clinic context document (seeds' contextualization JSON): parsing, the JSON path
// named by each refusal, merging, booking-rule overrides, time zones.
#include <catch2/catch.hpp>

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/clinic.hpp"
#include "core/demo_clinic.hpp"

using namespace atendeai::core;
using nlohmann::json;

namespace {

/// The path a refusal names ("working_hours.monday[1].end"), or "" when accepted.
std::string refused_path(const json& context) {
  clinic_profile p;
  try {
    context_from_json(context, p);
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    return what.substr(0, what.find(": "));
  }
  return "";
}

json iv(const char* s, const char* e) { return {{"start", s}, {"end", e}}; }

} // namespace

TEST_CASE("hours: several intervals a day, sorted, every refusal names its path", "[clinic]") {
  auto h = hours_from_json({{"monday", {iv("14:00", "18:00"), iv("08:00", "12:00")}}, {"saturday", json::array()}});
  REQUIRE(h[1].size() == 2);
  CHECK(h[1][0] == time_interval{8 * 60, 12 * 60});
  CHECK(h[1][1] == time_interval{14 * 60, 18 * 60});
  CHECK(h[0].empty());
  CHECK(hours_from_json(hours_to_json(h)) == h);
  // Back-to-back intervals do not overlap (half-open).
  CHECK(hours_from_json({{"friday", {iv("08:00", "12:00"), iv("12:00", "13:00")}}})[5].size() == 2);

  struct refusal {
    json hours;
    const char* path;
  };
  std::vector<refusal> cases = {
    {{{"monday", {iv("08:00", "12:00"), iv("14:00", "13:00")}}}, "working_hours.monday[1].end"},
    {{{"monday", {iv("09:00", "09:00")}}}, "working_hours.monday[0].end"},
    {{{"monday", {iv("08:00", "12:00"), iv("11:59", "13:00")}}}, "working_hours.monday[1].start"},
    {{{"monday", {iv("13:00", "18:00"), iv("08:00", "13:01")}}}, "working_hours.monday[0].start"},
    {{{"funday", {iv("08:00", "12:00")}}}, "working_hours.funday"},
    {{{"Monday", {iv("08:00", "12:00")}}}, "working_hours.Monday"},
    {{{"monday", {iv("8:00", "12:00")}}}, "working_hours.monday[0].start"},
    {{{"monday", {iv("08:00", "24:01")}}}, "working_hours.monday[0].end"},
    {{{"monday", {iv("08:60", "12:00")}}}, "working_hours.monday[0].start"},
    {{{"monday", {json{{"start", "08:00"}}}}}, "working_hours.monday[0].end"},
    {{{"monday", {json{{"start", "08:00"}, {"end", "09:00"}, {"note", "x"}}}}}, "working_hours.monday[0].note"},
    {{{"monday", "08:00-12:00"}}, "working_hours.monday"},
    {{{"monday", json::array({42})}}, "working_hours.monday[0]"},
  };
  for (auto& c : cases) {
    INFO(c.hours.dump());
    CHECK(refused_path({{"working_hours", c.hours}}) == c.path);
  }
  CHECK(refused_path({{"working_hours", json::array()}}) == "working_hours");
}

TEST_CASE("context: members merge over the profile, unknown members and bad values refused by path", "[clinic]") {
  auto p = demo_clinic();
  context_from_json({{"ai_behavior", {{"escalation_threshold", 5}}}, {"ai_personality", {{"tone", "formal"}}}}, p);
  CHECK(p.ai_behavior.escalation_threshold == 5);
  CHECK(p.ai_behavior.proactivity == true);
  CHECK(p.ai_personality.tone == "formal");
  CHECK(p.ai_personality.name == "Sofia");
  CHECK(p.working_hours == demo_clinic().working_hours); // absent sections stay
  // Round trip of the whole document.
  clinic_profile q;
  context_from_json(context_to_json(p), q);
  CHECK(context_to_json(q) == context_to_json(p));

  std::vector<std::pair<json, const char*>> cases = {
    {{{"mood", 1}}, "mood"},
    {{{"ai_behavior", {{"mood", 1}}}}, "ai_behavior.mood"},
    {{{"ai_behavior", {{"escalation_threshold", "3"}}}}, "ai_behavior.escalation_threshold"},
    {{{"ai_behavior", {{"escalation_threshold", 2.5}}}}, "ai_behavior.escalation_threshold"},
    {{{"ai_behavior", {{"escalation_threshold", 0}}}}, "ai_behavior.escalation_threshold"},
    {{{"ai_behavior", {{"auto_escalation", 1}}}}, "ai_behavior.auto_escalation"},
    {{{"ai_behavior", json::array()}}, "ai_behavior"},
    {{{"ai_personality", {{"name", ""}}}}, "ai_personality.name"},
    {{{"ai_personality", {{"name", 7}}}}, "ai_personality.name"},
    {{{"ai_personality", {{"tone", "rude"}}}}, "ai_personality.tone"},
    {{{"ai_personality", {{"formality_level", "extreme"}}}}, "ai_personality.formality_level"},
    {{{"ai_personality", {{"languages", json::array()}}}}, "ai_personality.languages"},
    {{{"ai_personality", {{"languages", {"en", "de"}}}}}, "ai_personality.languages[1]"},
    {{{"ai_personality", {{"greeting", "a\nb"}}}}, "ai_personality.greeting"},
    {{{"ai_personality", {{"emoji", true}}}}, "ai_personality.emoji"},
    {{{"scheduling_policies", {{"slot_duration_minutes", 4}}}}, "scheduling_policies.slot_duration_minutes"},
    {{{"scheduling_policies", {{"max_advance_days", 0}}}}, "scheduling_policies.max_advance_days"},
    {{{"scheduling_policies", {{"min_advance_hours", -1}}}}, "scheduling_policies.min_advance_hours"},
    {{{"scheduling_policies", {{"max_daily", 3}}}}, "scheduling_policies.max_daily"},
  };
  for (auto& [context, path] : cases) {
    INFO(context.dump());
    CHECK(refused_path(context) == path);
  }
  CHECK(refused_path(json::array()) == "context");
}

TEST_CASE("booking rules: a professional's overrides over the clinic's", "[clinic]") {
  auto base = demo_clinic().policy;
  auto own = policy_from_json({{"max_daily_appointments", 4}, {"min_advance_hours", 24}}, base, "policy");
  CHECK(own.max_daily_appointments == 4);
  CHECK(own.min_advance_hours == 24);
  CHECK(own.slot_duration_minutes == base.slot_duration_minutes);
  CHECK(own.max_advance_days == base.max_advance_days);
  CHECK(policy_to_json(own)["max_daily_appointments"] == 4);
  CHECK_THROWS_WITH(policy_from_json({{"foo", 1}}, base, "scheduling_policies"),
                    Catch::StartsWith("scheduling_policies.foo:"));
  CHECK_THROWS_WITH(policy_from_json(json::array(), base, "scheduling_policies"),
                    Catch::StartsWith("scheduling_policies:"));
}

TEST_CASE("time zones: IANA names only", "[clinic]") {
  CHECK(known_timezone("America/Sao_Paulo"));
  CHECK(known_timezone("America/Manaus"));
  CHECK(known_timezone("UTC"));
  CHECK_FALSE(known_timezone("America/Atlantis"));
  CHECK_FALSE(known_timezone(""));
  CHECK_FALSE(known_timezone("../../etc/passwd"));
}
