// The blind evaluation sets of issue 17 (tests/data/nlu_blind.jsonl, nlu_blind2.jsonl and
// nlu_blind3.jsonl, see their READMEs): 679, 752 and 749 patient messages written by
// people who never saw the rules, frozen by their hashes. The first has been scored
// through several rounds of rules and is spent (a floor only); the second and third were
// frozen before any rule met them.
//
// Only aggregate figures are printed — per-intent precision and recall, the confusion
// matrix, entity and language accuracy — never a message: a rule changed after reading a
// blind-set miss would make the set worthless (it is then spent, and a fresh one is
// written and frozen).

#include <catch2/catch.hpp>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <date/tz.h>
#include <nlohmann/json.hpp>

#include "core/demo_clinic.hpp"
#include "core/password.hpp"
#include "core/understanding.hpp"

using namespace atendeai::core;

namespace {

const std::string blind_file = std::string(ATENDEAI_TEST_DATA) + "/nlu_blind.jsonl";
const std::string blind_sha256 = "3bd8feefcf9960911af1b0c99699acbf94d5e26ba0b487b4a9e8feaaa560787e";
const std::string blind2_file = std::string(ATENDEAI_TEST_DATA) + "/nlu_blind2.jsonl";
const std::string blind2_sha256 = "14bec89b310039ee3925680f6d9f75155ef23e37a8614d91400d2f249d53b97c";
const std::string blind3_file = std::string(ATENDEAI_TEST_DATA) + "/nlu_blind3.jsonl";
const std::string blind3_sha256 = "4637b7eb7bb756a6ad1e2cdb73524d3e0de4a63e8cf8116500e0f2ebed258f51";

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

date::year_month_day local_day(const std::string& now) {
  std::istringstream is(now);
  std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds> t;
  is >> date::parse("%FT%TZ", t);
  REQUIRE(!is.fail());
  auto local = date::locate_zone("America/Sao_Paulo")->to_local(t);
  return date::year_month_day{date::floor<date::days>(local)};
}

/// Scores of one labelled set: intents (with the confusion matrix), entities field by
/// field (expected fields plus unexpected extra ones), languages.
struct set_score {
  int messages = 0, intents_right = 0, langs_right = 0, fields_right = 0, fields_counted = 0;
  std::map<std::string, std::map<std::string, int>> confusion; ///< wanted → got → count
  /// Per entity field: expected and right, missing (expected, not given), wrong value,
  /// extra (given, not expected). Counts only, never a message.
  struct field_count {
    int expected = 0, right = 0, missing = 0, wrong = 0, extra = 0;
  };
  std::map<std::string, field_count> fields;

  double intent_accuracy() const { return messages ? double(intents_right) / messages : 0; }
  double entity_accuracy() const { return fields_counted ? double(fields_right) / fields_counted : 1; }
  double lang_accuracy() const { return messages ? double(langs_right) / messages : 0; }

  void print(std::ostream& out, const std::string& name) const {
    out << std::fixed << std::setprecision(3) << name << ": " << messages << " messages, intent accuracy "
        << intent_accuracy() << ", entity accuracy " << entity_accuracy() << " (" << fields_right << "/"
        << fields_counted << " fields), language accuracy " << lang_accuracy() << "\n";
    std::map<std::string, int> got_total;
    for (auto& [want, row] : confusion)
      for (auto& [got, n] : row)
        got_total[got] += n;
    out << "  intent            precision  recall  support\n";
    for (auto& [want, row] : confusion) {
      int support = 0;
      for (auto& [got, n] : row)
        support += n;
      int right = row.count(want) ? row.at(want) : 0;
      double precision = got_total[want] ? double(right) / got_total[want] : 0;
      out << "  " << std::left << std::setw(18) << want << std::right << std::setw(9) << precision << std::setw(8)
          << double(right) / support << std::setw(9) << support << "\n";
    }
    out << "  entity field      expected  right  missing  wrong  extra\n";
    for (auto& [k, f] : fields)
      out << "  " << std::left << std::setw(18) << k << std::right << std::setw(8) << f.expected << std::setw(7)
          << f.right << std::setw(9) << f.missing << std::setw(7) << f.wrong << std::setw(7) << f.extra << "\n";
    out << "  confusion (wanted → got: count, off-diagonal only)\n";
    for (auto& [want, row] : confusion)
      for (auto& [got, n] : row)
        if (got != want)
          out << "    " << want << " → " << got << ": " << n << "\n";
  }
};

/// The entities of an understanding in the blind set's label schema: there `topic` is an
/// entity (`understand` prints it beside `intent`) and a yes/no answer is "yes" or "no"
/// (a boolean in `understand`). Without this, 68 right topics and 10 right answers
/// counted as misses (found from the per-field counts below, not from any message).
nlohmann::json labelled_form(const nlohmann::json& got) {
  auto e = got.contains("entities") ? got["entities"] : nlohmann::json::object();
  if (got.contains("topic") && !e.contains("topic"))
    e["topic"] = got["topic"];
  // Both sets label seven topics (insurance, parking, preparation, payment, transport,
  // accessibility, other: their READMEs); the finer ones `understand` gives (results,
  // documents, companion, amenities, duration, ...; README "Command line") are kinds of
  // "other" there. Found from the label schema, not from any message.
  static const std::set<std::string> labelled_topics{"insurance", "parking",       "preparation", "payment",
                                                     "transport", "accessibility", "other"};
  if (e.contains("topic") && e["topic"].is_string() && !labelled_topics.count(e["topic"].get<std::string>()))
    e["topic"] = "other";
  if (e.contains("yes_no") && e["yes_no"].is_boolean())
    e["yes_no"] = e["yes_no"].get<bool>() ? "yes" : "no";
  // The labels have no original_date/new_date (none of the 679 expects one): a move is
  // labelled by its new day in `date`, which `understand` also fills. Found from the
  // per-field counts (0 expected, 9 extra each), not from any message.
  e.erase("original_date");
  e.erase("new_date");
  return e;
}

set_score score(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  auto clinic = demo_clinic();
  set_score s;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto row = nlohmann::json::parse(line);
    auto got = to_json(understand(row.at("text").get<std::string>(), local_day(row.at("now")), clinic), clinic);
    ++s.messages;
    auto want_intent = row.at("intent").get<std::string>();
    auto got_intent = got["intent"].get<std::string>();
    ++s.confusion[want_intent][got_intent];
    s.intents_right += want_intent == got_intent;
    s.langs_right += got["lang"] == row.at("lang");
    auto& want = row.at("entities");
    auto have = labelled_form(got);
    for (auto& [k, v] : want.items()) {
      ++s.fields_counted;
      auto& f = s.fields[k];
      ++f.expected;
      bool right = have.contains(k) && have[k] == v;
      s.fields_right += right;
      f.right += right;
      f.missing += !have.contains(k);
      f.wrong += have.contains(k) && !right;
    }
    for (auto& [k, v] : have.items())
      if (!want.contains(k)) {
        ++s.fields_counted;
        ++s.fields[k].extra;
      }
  }
  return s;
}

} // namespace

/// The number of lines of a set, each checked to be a labelled message of a known intent.
int labelled_lines(const std::string& path) {
  const std::set<std::string> intents{"greeting", "book",     "reschedule", "cancel", "my_appointments", "hours",
                                      "services", "location", "human",      "goodbye", "clinic_question", "unknown"};
  std::ifstream in(path);
  REQUIRE(in.good());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    INFO("line " << lines + 1);
    CHECK(intents.count(row.at("intent").get<std::string>()) == 1);
    CHECK((row.at("lang") == "pt-BR" || row.at("lang") == "en"));
    CHECK(row.at("entities").is_object());
    CHECK(!row.at("situation").get<std::string>().empty());
    ++lines;
  }
  return lines;
}

TEST_CASE("blind sets: frozen (their SHA-256 never change)", "[nlu][blind]") {
  CHECK(sha256_hex(read_all(blind_file)) == blind_sha256);
  CHECK(sha256_hex(read_all(blind2_file)) == blind2_sha256);
  CHECK(sha256_hex(read_all(blind3_file)) == blind3_sha256);
}

TEST_CASE("blind sets: every line is a labelled message of a known intent", "[nlu][blind]") {
  CHECK(labelled_lines(blind_file) == 679);
  CHECK(labelled_lines(blind2_file) == 752);
  CHECK(labelled_lines(blind3_file) == 749);
}

TEST_CASE("blind set: per-intent precision and recall, confusion, entities and language", "[nlu][blind]") {
  // Issue 17's targets are ≥ 97 % intents, ≥ 95 % entities and ≥ 98 % language. Measured
  // when the set was frozen (2026-12-06): 0.738 intents (clinic_question not yet an
  // intent), 0.740 entities, 0.997 language; after the nlu branch's rules
  // (clinic_question with a topic, 542 new development examples; 2026-12-07): 0.859
  // intents, 0.737 entities (369/501 fields), 0.999 language; scored in the labels'
  // schema (labelled_form; same rules, same day): 0.834 entities (428/513 fields), most
  // misses now extra reschedule dates, clock times and topics. After the nlu3 branch's
  // rules (clock times in words, past days, everyday verbs for giving up and checking, 480
  // more development examples; original_date/new_date dropped from the labels' schema),
  // 2026-12-07: 0.878 intents, 0.887 entities (439/495 fields), 0.999 language. After the
  // nlu4 branch's rules (clinic questions and their topics, bare answers, asking for a
  // person; 243 development examples) and topics scored in the labels' seven (finer ones
  // are "other" there): 0.882 intents, 0.898 entities (448/499), 0.999 language. Until the understanding
  // work reaches the targets, the floors below only keep a change from making things
  // worse; raise them with each improvement, up to the targets.
  auto s = score(blind_file);
  s.print(std::cout, "NLU blind set");
  CHECK(s.messages == 679);
  CHECK(s.intent_accuracy() >= 0.88);
  CHECK(s.entity_accuracy() >= 0.895);
  CHECK(s.lang_accuracy() >= 0.995);
}

TEST_CASE("second blind set: per-intent precision and recall, confusion, entities and language", "[nlu][blind]") {
  // Frozen 2026-12-07 before any rule was scored on it; its misses are not read (only the
  // figures below), so it measures the rules on phrasing nobody here wrote. First score
  // (2026-12-07, the rules of that day): 0.924 intents, 0.897 entities (534/595 fields;
  // topics 83/114 the weakest), 0.999 language. After the nlu4 branch's rules (written
  // from development examples; only these figures were read) and topics scored in the
  // labels' seven: 0.930 intents, 0.924 entities (550/595), 0.999 language. The floors sit
  // just under it; the targets are ≥ 97 % intents, ≥ 95 % entities, ≥ 98 % language.
  auto s = score(blind2_file);
  s.print(std::cout, "NLU blind set 2");
  CHECK(s.messages == 752);
  CHECK(s.intent_accuracy() >= 0.925);
  CHECK(s.entity_accuracy() >= 0.92);
  CHECK(s.lang_accuracy() >= 0.995);
}

TEST_CASE("third blind set: per-intent precision and recall, confusion, entities and language", "[nlu][blind]") {
  // Frozen 2026-12-07 (749 messages, May–August 2027, 25 situations of ~30 messages each,
  // clinic questions 204) before any rule was scored on it; its misses are not read (only
  // the figures below). First score (2026-12-07, the rules of that day): 0.877 intents,
  // 0.880 entities (555/631 fields; topics 157/204 the weakest, services the least
  // precise intent), 0.996 language. The floors sit just under it; the targets are ≥ 97 %
  // intents, ≥ 95 % entities, ≥ 98 % language.
  auto s = score(blind3_file);
  s.print(std::cout, "NLU blind set 3");
  CHECK(s.messages == 749);
  CHECK(s.intent_accuracy() >= 0.87);
  CHECK(s.entity_accuracy() >= 0.875);
  CHECK(s.lang_accuracy() >= 0.99);
}
