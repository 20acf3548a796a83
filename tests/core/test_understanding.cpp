// Understanding: the NLU corpus (development and evaluation sets), date/time/period rules,
// catalogue matching, yes/no answers, language detection and the `atendeai understand` CLI.
//
// The evaluation set (tests/data/nlu_eval.jsonl) was written and committed before any rule
// existed and is never used to tune the rules: only its two scores are printed. Rules are
// tuned against the development set (tests/data/nlu_dev.jsonl) alone, whose mismatches are
// printed to help.
//
// Annotation guide for both sets (what "expected" means):
// - weekday names, "próxima segunda", "segunda que vem" → the next such day strictly after
//   today; "hoje"/"today" → today; "amanhã" +1; "depois de amanhã" +2; "dia 25"/"the 25th" →
//   the next 25th on or after today (today when today is the 25th); "25/11", "25 de
//   novembro" → the next such date on or after today; "semana que vem"/"next week" →
//   date_from/date_to = Monday..Sunday of next week; "this afternoon"/"tonight" → today.
// - a clock time with hour 1..6 and no am/"da manhã" is afternoon ("às 3" → 15:00);
//   "da tarde"/"pm" add 12 hours.
// - period whenever a part of the day is named (not in greetings: "boa tarde").
// - yes_no when the message opens with an answer ("sim", "ok", "pode ser", "não, obrigado",
//   "não quero"); a bare answer has intent unknown.
// - clinic questions we cannot answer (insurance, payment, parking) are unknown; questions
//   about services not in the catalogue ("vcs tem pediatra?") are services.

#include <catch2/catch.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include <date/tz.h>
#include <nlohmann/json.hpp>

#include "core/catalogue_match.hpp"
#include "core/date_rules.hpp"
#include "core/demo_clinic.hpp"
#include "core/understanding.hpp"

// The CLI lives in app/ (built only in the full build); compile it into this test directly.
#include "app/understand_command.cpp"

using namespace atendeai::core;
using date::year_month_day;
using namespace date::literals;

namespace {

year_month_day today_of(const std::string& now) {
  std::istringstream is(now);
  std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds> t;
  is >> date::parse("%FT%TZ", t);
  REQUIRE(!is.fail());
  auto local = date::locate_zone("America/Sao_Paulo")->to_local(t);
  return year_month_day{date::floor<date::days>(local)};
}

struct corpus_score {
  int messages = 0;
  int intents_right = 0;
  int langs_right = 0;
  int fields_right = 0;
  int fields_counted = 0; ///< expected fields + unexpected extra fields
  double intent_accuracy() const { return messages ? double(intents_right) / messages : 0; }
  double entity_accuracy() const {
    return fields_counted ? double(fields_right) / fields_counted : 1;
  }
  double lang_accuracy() const { return messages ? double(langs_right) / messages : 0; }
};

corpus_score score_corpus(const std::string& file, bool print_mismatches) {
  std::ifstream in(std::string(ATENDEAI_TEST_DATA) + "/" + file);
  REQUIRE(in.good());
  auto clinic = demo_clinic();
  corpus_score s;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto row = nlohmann::json::parse(line);
    auto u = understand(row.at("text").get<std::string>(), today_of(row.at("now")), clinic);
    auto got = to_json(u, clinic);
    ++s.messages;
    bool intent_ok = got["intent"] == row.at("intent");
    s.intents_right += intent_ok;
    if (row.contains("lang"))
      s.langs_right += got["lang"] == row["lang"];
    auto& want = row.at("entities");
    auto& have = got["entities"];
    bool entities_ok = true;
    for (auto& [k, v] : want.items()) {
      ++s.fields_counted;
      bool ok = have.contains(k) && have[k] == v;
      s.fields_right += ok;
      entities_ok = entities_ok && ok;
    }
    for (auto& [k, v] : have.items())
      if (!want.contains(k)) {
        ++s.fields_counted;
        entities_ok = false;
      }
    bool lang_ok = !row.contains("lang") || got["lang"] == row["lang"];
    if (print_mismatches && (!intent_ok || !entities_ok || !lang_ok))
      std::cout << "  mismatch: " << row["text"] << " (now " << row["now"].get<std::string>()
                << ")\n    want " << row["intent"] << " " << row["lang"] << " " << want.dump()
                << "\n    got  " << got.dump() << "\n";
  }
  return s;
}

std::string iso(const year_month_day& d) { return date::format("%F", d); }

understanding at(const std::string& text, year_month_day today) {
  return understand(text, today, demo_clinic());
}

} // namespace

TEST_CASE("evaluation set: intent and entity accuracy at least 95%", "[nlu][corpus]") {
  // Never tune the rules against this set; it only reports its scores.
  auto s = score_corpus("nlu_eval.jsonl", false);
  std::cout << "NLU evaluation set: " << s.messages << " messages, intent accuracy "
            << s.intent_accuracy() << ", entity accuracy " << s.entity_accuracy()
            << " (" << s.fields_right << "/" << s.fields_counted << " fields), language accuracy "
            << s.lang_accuracy() << "\n";
  CHECK(s.messages >= 150);
  CHECK(s.intent_accuracy() >= 0.95);
  CHECK(s.entity_accuracy() >= 0.95);
}

TEST_CASE("development set: intent and entity accuracy at least 95%", "[nlu][corpus]") {
  auto s = score_corpus("nlu_dev.jsonl", true);
  std::cout << "NLU development set: " << s.messages << " messages, intent accuracy "
            << s.intent_accuracy() << ", entity accuracy " << s.entity_accuracy()
            << ", language accuracy " << s.lang_accuracy() << "\n";
  CHECK(s.intent_accuracy() >= 0.95);
  CHECK(s.entity_accuracy() >= 0.95);
}
