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
// - questions about the clinic that the built-in answers (hours, services, location) do not
//   cover are clinic_question with a "topic" beside the intent (insurance, payment, parking,
//   transport, preparation, accessibility, results, documents, companion, amenities,
//   walk_in, telehealth, duration, language, other); the development set checks the topic, the evaluation set (frozen before that
//   intent existed) labels them unknown. Questions about services not in the catalogue
//   ("vcs tem pediatra?") are services.
// - a greeting that only introduces the patient ("oi, sou a Marta") is a greeting; names
//   after "sou", "me chamo", "meu nome é", "my name is" are never a professional.

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
    if (row.contains("topic")) { // development set only: the topic of a clinic question
      ++s.fields_counted;
      bool topic_ok = got.contains("topic") && got["topic"] == row["topic"];
      s.fields_right += topic_ok;
      intent_ok = intent_ok && topic_ok;
    }
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

std::string date_of(const std::string& text, year_month_day today) {
  auto u = at(text, today);
  return u.entities.date ? iso(*u.entities.date) : "none";
}

std::string time_of(const std::string& text) {
  auto u = at(text, 2026_y / 11 / 23);
  return u.entities.time ? format_hhmm(*u.entities.time) : "none";
}

std::string period_of(const std::string& text) {
  auto u = at(text, 2026_y / 11 / 23);
  return u.entities.period ? std::string(to_string(*u.entities.period)) : "none";
}

std::string service_of(const std::string& text) {
  auto u = at(text, 2026_y / 11 / 23);
  return u.entities.service ? to_json(u, demo_clinic())["entities"]["service"].get<std::string>()
                            : "none";
}

std::string professional_of(const std::string& text) {
  auto u = at(text, 2026_y / 11 / 23);
  return u.entities.professional
           ? to_json(u, demo_clinic())["entities"]["professional"].get<std::string>()
           : "none";
}

std::string intent_of(const std::string& text) {
  return std::string(to_string(at(text, 2026_y / 11 / 23).intent));
}

std::string yes_no_of(const std::string& text) {
  auto u = at(text, 2026_y / 11 / 23);
  return u.entities.yes_no ? (*u.entities.yes_no ? "yes" : "no") : "none";
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

TEST_CASE("relative days for every weekday as today", "[nlu][dates]") {
  // 22/11/2026 is a Sunday; walk a whole week of "todays".
  const char* pt_names[7] = {"domingo", "segunda", "terça", "quarta", "quinta", "sexta", "sábado"};
  const char* en_names[7] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
                             "saturday"};
  for (int t = 0; t < 7; ++t) {
    auto today = add_days(2026_y / 11 / 22, t);
    REQUIRE(weekday_of(today) == t);
    CAPTURE(iso(today));
    CHECK(date_of("hoje", today) == iso(today));
    CHECK(date_of("hj", today) == iso(today));
    CHECK(date_of("amanhã", today) == iso(add_days(today, 1)));
    CHECK(date_of("amanha", today) == iso(add_days(today, 1)));
    CHECK(date_of("depois de amanhã", today) == iso(add_days(today, 2)));
    CHECK(date_of("tomorrow", today) == iso(add_days(today, 1)));
    for (int w = 0; w < 7; ++w) {
      CAPTURE(pt_names[w]);
      int ahead = ((w - t) % 7 + 7) % 7;
      auto expected = iso(add_days(today, ahead == 0 ? 7 : ahead)); // strictly after today
      CHECK(date_of(pt_names[w], today) == expected);
      CHECK(date_of(std::string("próxima ") + pt_names[w], today) == expected);
      CHECK(date_of(std::string(pt_names[w]) + " que vem", today) == expected);
      CHECK(date_of(std::string("on ") + en_names[w], today) == expected);
    }
    auto week = at("semana que vem", today).entities;
    auto monday = add_days(today, t == 0 ? 1 : 8 - t);
    REQUIRE(week.date_from);
    CHECK(iso(*week.date_from) == iso(monday));
    CHECK(iso(*week.date_to) == iso(add_days(monday, 6)));
    CHECK(!week.date);
    CHECK(iso(*at("próxima semana", today).entities.date_from) == iso(monday));
    CHECK(iso(*at("next week", today).entities.date_to) == iso(add_days(monday, 6)));
  }
}

TEST_CASE("relative days across month and year ends", "[nlu][dates]") {
  CHECK(date_of("amanhã", 2026_y / 11 / 30) == "2026-12-01");
  CHECK(date_of("amanha", 2026_y / 12 / 31) == "2027-01-01");
  CHECK(date_of("depois de amanhã", 2026_y / 12 / 31) == "2027-01-02");
  CHECK(date_of("depois de amanha", 2026_y / 12 / 30) == "2027-01-01");
  CHECK(date_of("amanhã", 2027_y / 2 / 28) == "2027-03-01");
  CHECK(date_of("amanhã", 2028_y / 2 / 28) == "2028-02-29");
  CHECK(date_of("sexta", 2026_y / 12 / 31) == "2027-01-01");
  CHECK(date_of("segunda", 2026_y / 12 / 31) == "2027-01-04");
  CHECK(iso(*at("semana que vem", 2026_y / 12 / 31).entities.date_from) == "2027-01-04");
  CHECK(iso(*at("semana que vem", 2026_y / 12 / 31).entities.date_to) == "2027-01-10");
  CHECK(iso(*at("semana que vem", 2026_y / 12 / 27).entities.date_from) == "2026-12-28");
}

TEST_CASE("day of month and day/month dates", "[nlu][dates]") {
  // "dia 25" is the next 25th on or after today: today itself when today is the 25th.
  CHECK(date_of("dia 25", 2026_y / 11 / 23) == "2026-11-25");
  CHECK(date_of("dia 25", 2026_y / 11 / 25) == "2026-11-25");
  CHECK(date_of("dia 25", 2026_y / 11 / 26) == "2026-12-25");
  CHECK(date_of("dia 5", 2026_y / 12 / 31) == "2027-01-05");
  CHECK(date_of("dia 31", 2026_y / 11 / 30) == "2026-12-31");   // November has no 31st
  CHECK(date_of("dia 30", 2027_y / 1 / 31) == "2027-03-30");    // nor February a 30th
  CHECK(date_of("dia 29", 2027_y / 1 / 30) == "2027-03-29");
  CHECK(date_of("dia 29", 2028_y / 1 / 30) == "2028-02-29");    // leap year
  CHECK(date_of("the 3rd", 2026_y / 11 / 30) == "2026-12-03");
  // "25/11" is the next such date on or after today.
  CHECK(date_of("25/11", 2026_y / 11 / 23) == "2026-11-25");
  CHECK(date_of("25/11", 2026_y / 11 / 25) == "2026-11-25");
  CHECK(date_of("25/11", 2026_y / 11 / 26) == "2027-11-25");
  CHECK(date_of("01/01", 2026_y / 12 / 31) == "2027-01-01");
  CHECK(date_of("2/1", 2026_y / 12 / 31) == "2027-01-02");
  CHECK(date_of("29/02", 2026_y / 11 / 23) == "2028-02-29");
  CHECK(date_of("31/04", 2026_y / 11 / 23) == "none");
  CHECK(date_of("10/12/2027", 2026_y / 11 / 23) == "2027-12-10");
  CHECK(date_of("dia 10/12", 2026_y / 11 / 23) == "2026-12-10");
  CHECK(date_of("2 de janeiro", 2026_y / 12 / 31) == "2027-01-02");
  CHECK(date_of("25 de dezembro", 2026_y / 12 / 26) == "2027-12-25");
  CHECK(date_of("december 3rd", 2026_y / 11 / 23) == "2026-12-03");
  CHECK(date_of("marcar consulta", 2026_y / 11 / 23) == "none");
}

TEST_CASE("a weekday and a day of the month name a date that has both", "[nlu][dates]") {
  // Monday 2026-11-30: the next Friday is the 4th, but "sexta dia 11" is Friday the 11th.
  CHECK(date_of("sexta dia 11", 2026_y / 11 / 30) == "2026-12-11");
  CHECK(date_of("sexta dia 4", 2026_y / 11 / 30) == "2026-12-04");
  CHECK(date_of("sexta-feira, dia 11 às 10h", 2026_y / 11 / 30) == "2026-12-11");
  CHECK(date_of("dia 11, sexta", 2026_y / 11 / 30) == "2026-12-11");
  CHECK(date_of("friday the 11th", 2026_y / 11 / 30) == "2026-12-11");
  CHECK(date_of("friday december 11", 2026_y / 11 / 30) == "2026-12-11");
  CHECK(date_of("quarta, 25/11", 2026_y / 11 / 23) == "2026-11-25");
  // The next 4th that is a Wednesday is in August.
  CHECK(date_of("quarta dia 4", 2026_y / 11 / 30) == "2027-08-04");
  CHECK(next_weekday_and_day(2026_y / 11 / 30, 3, 4) == year_month_day{2027_y / 8 / 4});
  CHECK(next_weekday_and_day(2026_y / 11 / 30, 5, 25, 11) == std::nullopt); // 25/11/2027 is a Thursday
  // None within a year: no date, the two days they name apart to choose from.
  auto u = at("sexta, 25/11", 2026_y / 11 / 23);
  CHECK_FALSE(u.entities.date);
  REQUIRE(u.entities.date_choices.size() == 2);
  CHECK(iso(u.entities.date_choices[0]) == "2026-11-25"); // the Wednesday
  CHECK(iso(u.entities.date_choices[1]) == "2026-11-27"); // the Friday
  CHECK_FALSE(at("sexta, 25/11/2027", 2026_y / 11 / 23).entities.date);
  // Not said together: the first day named.
  CHECK(date_of("sexta ou dia 11", 2026_y / 11 / 30) == "2026-12-04");
  CHECK(date_of("amanhã, sexta", 2026_y / 11 / 30) == "2026-12-01");
}

TEST_CASE("a reschedule naming two days keeps both", "[nlu][dates]") {
  auto c = demo_clinic();
  // Monday 2026-11-23.
  auto j = to_json(understand("preciso remarcar minha consulta de amanhã para sexta", 2026_y / 11 / 23, c), c);
  CHECK(j["intent"] == "reschedule");
  CHECK(j["entities"] == nlohmann::json{{"original_date", "2026-11-24"}, {"new_date", "2026-11-27"},
                                        {"date", "2026-11-27"}});
  auto en = to_json(understand("can I move my appointment from friday to next monday at 10am", 2026_y / 11 / 23, c), c);
  CHECK(en["intent"] == "reschedule");
  CHECK(en["entities"]["original_date"] == "2026-11-27");
  CHECK(en["entities"]["new_date"] == "2026-11-30");
  CHECK(en["entities"]["time"] == "10:00");
  auto dm = to_json(understand("remarcar do dia 25/11 pro dia 2/12", 2026_y / 11 / 23, c), c);
  CHECK(dm["entities"]["original_date"] == "2026-11-25");
  CHECK(dm["entities"]["new_date"] == "2026-12-02");
  // One day: the wish, as before; two days outside a reschedule: no move.
  auto one = to_json(understand("preciso remarcar pra sexta", 2026_y / 11 / 23, c), c);
  CHECK(one["entities"] == nlohmann::json{{"date", "2026-11-27"}});
  auto book = to_json(understand("quero marcar de amanhã para sexta", 2026_y / 11 / 23, c), c);
  CHECK_FALSE(book["entities"].contains("original_date"));
  CHECK_FALSE(book["entities"].contains("new_date"));
  // A clash in JSON.
  auto clash = to_json(understand("quero marcar sexta, 25/11", 2026_y / 11 / 23, c), c);
  CHECK(clash["entities"]["date_choices"] == nlohmann::json{"2026-11-25", "2026-11-27"});
}

TEST_CASE("English names of services where the clinic gave them", "[nlu][catalogue]") {
  auto c = demo_clinic();
  CHECK(display_name(c.services[1], "en") == "Cardiology");
  CHECK(display_name(c.services[1], "pt-BR") == "Cardiologia");
  auto no_en = c.services[1];
  no_en.name_en.clear();
  CHECK(display_name(no_en, "en") == "Cardiologia");
  CHECK(understand("I'd like a general practice appointment", 2026_y / 11 / 23, c).entities.service == c.services[0].id);
}

TEST_CASE("clock times", "[nlu][times]") {
  CHECK(time_of("às 14h") == "14:00");
  CHECK(time_of("as 14h") == "14:00");
  CHECK(time_of("14:30") == "14:30");
  CHECK(time_of("9 e meia") == "09:30");
  CHECK(time_of("às 8 e meia") == "08:30");
  CHECK(time_of("meio dia") == "12:00");
  CHECK(time_of("meio-dia e meia") == "12:30");
  CHECK(time_of("2pm") == "14:00");
  CHECK(time_of("2 pm") == "14:00");
  CHECK(time_of("10:30am") == "10:30");
  CHECK(time_of("at 9am") == "09:00");
  CHECK(time_of("14 horas") == "14:00");
  CHECK(time_of("9h30") == "09:30");
  CHECK(time_of("16hs") == "16:00");
  CHECK(time_of("as 9") == "09:00");
  CHECK(time_of("às 3 da tarde") == "15:00");
  CHECK(time_of("as 3") == "15:00"); // 1..6 without "da manhã" is the afternoon
  CHECK(time_of("dia 10 as 14:30h") == "14:30");
  CHECK(time_of("14:30hs") == "14:30");
  CHECK(time_of("14:305") == "none");
  CHECK(time_of("can I come at half past nine") == "09:30");
  CHECK(time_of("duas e meia") == "14:30");
  CHECK(time_of("às onze") == "11:00");
  CHECK(time_of("dez e quinze") == "10:15");
  CHECK(time_of("oito da manhã") == "08:00");
  CHECK(time_of("ten thirty") == "10:30");
  CHECK(time_of("at 2:30 pm") == "14:30");
  CHECK(time_of("11 oclock") == "11:00");
  CHECK(time_of("1430") == "14:30");
  CHECK(time_of("0930") == "09:30");
  CHECK(time_of("em 2026") == "none");
  CHECK(time_of("marcar as duas consultas") == "none");
  CHECK(time_of("uma consulta") == "none");
  CHECK(time_of("half past 9 in the morning") == "09:30");
  CHECK(time_of("quarter past 10") == "10:15");
  CHECK(time_of("quarter to 4 in the afternoon") == "15:45");
  CHECK(time_of("dia 25") == "none");
  CHECK(time_of("2 de janeiro") == "none");
}

TEST_CASE("parts of the day", "[nlu][periods]") {
  CHECK(period_of("de manhã") == "morning");
  CHECK(period_of("de manha") == "morning");
  CHECK(period_of("à tarde") == "afternoon");
  CHECK(period_of("a tarde") == "afternoon");
  CHECK(period_of("à noite") == "evening");
  CHECK(period_of("in the morning") == "morning");
  CHECK(period_of("afternoon") == "afternoon");
  CHECK(period_of("evening") == "evening");
  CHECK(period_of("boa tarde") == "none");
  CHECK(period_of("bom dia") == "none");
  CHECK(period_of("boa noite") == "none");
  CHECK(period_of("good morning") == "none");
  CHECK(period_of("mais tarde") == "none");
  CHECK(period_of("amanhã cedinho") == "morning");
  CHECK(period_of("estou com febre desde ontem à noite") == "none"); // when it began, not a time to book
  CHECK(period_of("since last night") == "none");
  CHECK(date_of("desde segunda estou com dor", 2026_y / 11 / 23) == "none");
  CHECK(date_of("fui na sexta passada", 2026_y / 11 / 23) == "none");
  CHECK(date_of("since monday I have a fever", 2026_y / 11 / 23) == "none");
  CHECK(period_of("amanha cedo") == "morning");
  CHECK(period_of("pode ser mais cedo?") == "none");
  CHECK(period_of("depois do almoço") == "afternoon");
  CHECK(period_of("after lunch") == "afternoon");
  CHECK(period_of("no fim da tarde") == "afternoon");
  CHECK(period_of("de tardinha") == "afternoon");
  auto u = at("tomorrow morning", 2026_y / 12 / 31);
  CHECK(iso(*u.entities.date) == "2027-01-01");
  CHECK(to_string(*u.entities.period) == "morning");
  auto v = at("amanhã de manhã", 2026_y / 11 / 30);
  CHECK(iso(*v.entities.date) == "2026-12-01");
  CHECK(to_string(*v.entities.period) == "morning");
}

TEST_CASE("services and professionals from the catalogue", "[nlu][catalogue]") {
  CHECK(service_of("dermato") == "Dermatologia");
  CHECK(service_of("quero derma") == "Dermatologia");
  CHECK(service_of("cardio") == "Cardiologia");
  CHECK(service_of("cardiologista") == "Cardiologia");
  CHECK(service_of("cardiology") == "Cardiologia");
  CHECK(service_of("dermatologist") == "Dermatologia");
  CHECK(service_of("clinico") == "Clínico geral");
  CHECK(service_of("CLÍNICO GERAL") == "Clínico geral");
  CHECK(service_of("clinica geral") == "Clínico geral");
  CHECK(service_of("general practitioner") == "Clínico geral");
  CHECK(service_of("cardiolgia") == "Cardiologia"); // typo
  CHECK(service_of("a clinica abre sabado?") == "none");
  CHECK(service_of("pediatra") == "none");
  CHECK(professional_of("dra ana") == "Dra. Ana Souza");
  CHECK(professional_of("com a Dra. Ana") == "Dra. Ana Souza");
  CHECK(professional_of("carlos") == "Dr. Carlos Lima");
  CHECK(professional_of("dr lima") == "Dr. Carlos Lima");
  CHECK(professional_of("doutora ana souza") == "Dra. Ana Souza");
  CHECK(professional_of("quero marcar") == "none");

  // Only names from the catalogue match: an empty clinic never yields one.
  clinic_profile empty;
  auto u = understand("consulta de dermato com a dra ana", 2026_y / 11 / 23, empty);
  CHECK(!u.entities.service);
  CHECK(!u.entities.professional);
  // An inactive service is not offered.
  auto c = demo_clinic();
  c.services[2].active = false;
  CHECK(!understand("dermatologia", 2026_y / 11 / 23, c).entities.service);
}

TEST_CASE("yes and no answers", "[nlu][yes_no]") {
  for (auto yes : {"sim", "s", "pode ser", "claro", "yes", "ok", "Sim!", "siiim", "isso mesmo",
                   "yeah sure", "beleza", "👍"})
    CHECK(yes_no_of(yes) == "yes");
  for (auto no : {"não", "nao", "n", "no", "nope", "não, obrigado", "no thanks", "NÃO"})
    CHECK(yes_no_of(no) == "no");
  for (auto neither : {"não vou poder ir amanhã", "quero marcar", "nossa", "sábado"})
    CHECK(yes_no_of(neither) == "none");
  CHECK(intent_of("sim") == "unknown");
}

TEST_CASE("intent priorities and WhatsApp style", "[nlu][intents]") {
  CHECK(intent_of("oi") == "greeting");
  CHECK(intent_of("qro marcar consulta amanha de manha") == "book");
  CHECK(intent_of("vcs abrem sabado?") == "hours");
  CHECK(intent_of("cancela pfv") == "cancel");
  CHECK(intent_of("kd o endereço") == "location");
  CHECK(intent_of("quero remarcar minha consulta") == "reschedule"); // not book
  CHECK(intent_of("quero cancelar a consulta") == "cancel");         // not book
  CHECK(intent_of("minhas consultas") == "my_appointments");
  CHECK(intent_of("tenho consulta marcada?") == "my_appointments");
  CHECK(intent_of("quero falar com uma pessoa") == "human");
  CHECK(intent_of("qual a capital da França?") == "unknown");
  CHECK(intent_of("aceitam unimed?") == "clinic_question");
  CHECK(at("aceitam unimed?", 2026_y / 11 / 23).topic == "insurance");
  CHECK(at("aceitam unimed?", 2026_y / 11 / 23).clinic_topic);
  CHECK(!at("qual a capital da França?", 2026_y / 11 / 23).clinic_topic);
  CHECK(intent_of("QRO MARCAR CONSULTA 😊😊") == "book");
  CHECK(intent_of("agnedar consuta") == "book"); // typos
  CHECK(intent_of("tchau, obrigada!") == "goodbye");
  CHECK(intent_of("quanto custa a cardio?") == "services");
  CHECK(intent_of("") == "unknown");
  auto u = at("quero marcar consulta", 2026_y / 11 / 23);
  auto g = at("hmm", 2026_y / 11 / 23);
  CHECK(u.confidence > 0.8);
  CHECK(u.confidence <= 1.0);
  CHECK(g.confidence < 0.5);
  CHECK(g.confidence >= 0.0);
}

TEST_CASE("language per message", "[nlu][lang]") {
  CHECK(at("Hi! What are your opening hours?", 2026_y / 11 / 23).lang == "en");
  CHECK(at("oi, quais os horários?", 2026_y / 11 / 23).lang == "pt-BR");
  CHECK(at("can I book for tomorrow?", 2026_y / 11 / 23).lang == "en");
  // Nothing to tell by: the hint decides, else the clinic's language.
  CHECK(understand("👍", 2026_y / 11 / 23, demo_clinic(), "en").lang == "en");
  CHECK(understand("👍", 2026_y / 11 / 23, demo_clinic(), "pt-BR").lang == "pt-BR");
  CHECK(understand("👍", 2026_y / 11 / 23, demo_clinic()).lang == "pt-BR");
}

TEST_CASE("JSON form of an understanding", "[nlu][json]") {
  auto c = demo_clinic();
  auto j = to_json(understand("qro uma consulta de dermato com a dra ana amanha de manha às 9h",
                              2026_y / 11 / 23, c),
                   c);
  CHECK(j["intent"] == "book");
  CHECK(j["lang"] == "pt-BR");
  CHECK(j["confidence"].is_number());
  CHECK(j["entities"] == nlohmann::json{{"date", "2026-11-24"},
                                        {"time", "09:00"},
                                        {"period", "morning"},
                                        {"service", "Dermatologia"},
                                        {"professional", "Dra. Ana Souza"}});
  auto w = to_json(understand("semana que vem", 2026_y / 11 / 23, c), c);
  CHECK(w["entities"] == nlohmann::json{{"date_from", "2026-11-30"}, {"date_to", "2026-12-06"}});
  CHECK(to_json(understand("oi", 2026_y / 11 / 23, c), c)["entities"] == nlohmann::json::object());
}

TEST_CASE("clinic questions carry their topic beside the intent", "[nlu][intents]") {
  auto topic_of = [](const std::string& text) {
    auto u = at(text, 2026_y / 11 / 23);
    return u.intent == intent::clinic_question ? u.topic : "not a clinic question";
  };
  CHECK(topic_of("vcs aceitam sulamerica?") == "insurance");
  CHECK(topic_of("do you take my health insurance?") == "insurance");
  CHECK(topic_of("posso pagar com pix?") == "payment");
  CHECK(topic_of("tem onde estacionar o carro?") == "parking");
  CHECK(topic_of("qual ônibus passa perto?") == "transport");
  CHECK(topic_of("preciso estar em jejum pro exame?") == "preparation");
  CHECK(topic_of("tem elevador no prédio?") == "accessibility");
  CHECK(topic_of("meu resultado ficou pronto?") == "results");
  CHECK(topic_of("vocês dão atestado?") == "documents");
  CHECK(topic_of("posso levar acompanhante?") == "companion");
  // Booking verbs, moving and giving up win over the topic words they carry.
  CHECK(topic_of("quero marcar uma consulta, aceitam unimed?") == "not a clinic question");
  CHECK(topic_of("could we bring my appointment forward?") == "not a clinic question");
  CHECK(topic_of("quero levar minha filha no clínico amanhã") == "not a clinic question");
  auto clinic = demo_clinic();
  auto j = to_json(at("tem estacionamento?", 2026_y / 11 / 23), clinic);
  CHECK(j["intent"] == "clinic_question");
  CHECK(j["topic"] == "parking");
  CHECK(j["entities"] == nlohmann::json::object()); // the topic is not an entity
  CHECK(!to_json(at("oi", 2026_y / 11 / 23), clinic).contains("topic"));
}

TEST_CASE("a self-introduction is a greeting and its name nobody in the catalogue",
          "[nlu][intents]") {
  CHECK(intent_of("oi, sou a Marta") == "greeting");
  CHECK(intent_of("boa tarde, meu nome é Carlos Alberto") == "greeting");
  CHECK(professional_of("boa tarde, meu nome é Carlos Alberto") == "none");
  CHECK(professional_of("hi, my name is Ana") == "none");
  CHECK(intent_of("oi, sou a Marta e quero marcar com a dra ana") == "book");
  CHECK(professional_of("oi, sou a Marta e quero marcar com a dra ana") == "Dra. Ana Souza");
}

TEST_CASE("understand CLI: one JSON object per input line", "[nlu][cli]") {
  using atendeai::app::understand_command;
  using atendeai::app::understand_options;
  understand_options opts;
  opts.now = "2026-11-23T13:00:00Z";
  opts.clinic = "demo";
  std::istringstream in("oi\nqro uma consulta de dermato amanha de manha\r\nvcs abrem sabado?\n\n");
  std::ostringstream out, err;
  REQUIRE(understand_command(opts, in, out, err) == 0);
  CHECK(err.str().empty());
  std::istringstream lines(out.str());
  std::vector<nlohmann::json> rows;
  for (std::string l; std::getline(lines, l);)
    rows.push_back(nlohmann::json::parse(l));
  REQUIRE(rows.size() == 4); // the empty line too
  CHECK(rows[0]["intent"] == "greeting");
  CHECK(rows[1] == nlohmann::json::parse(
                     R"({"intent":"book","confidence":0.9,"lang":"pt-BR","entities":)"
                     R"({"date":"2026-11-24","period":"morning","service":"Dermatologia"}})"));
  CHECK(rows[2]["entities"]["date"] == "2026-11-28");
  CHECK(rows[3]["intent"] == "unknown");
  for (auto& r : rows) {
    CHECK(r.size() == 4);
    CHECK(r["confidence"].get<double>() >= 0.0);
    CHECK(r["confidence"].get<double>() <= 1.0);
  }
}

TEST_CASE("understand CLI: --now in the clinic's zone, --lang, catalogue", "[nlu][cli]") {
  using atendeai::app::understand_command;
  using atendeai::app::understand_options;
  auto run = [](understand_options o, const std::string& text) {
    std::istringstream in(text + "\n");
    std::ostringstream out, err;
    REQUIRE(understand_command(o, in, out, err) == 0);
    return nlohmann::json::parse(out.str());
  };
  understand_options o;
  o.now = "2026-12-01T01:30:00Z"; // still 30/11 22:30 in São Paulo
  CHECK(run(o, "hoje")["entities"]["date"] == "2026-11-30");
  o.tz = "UTC";
  CHECK(run(o, "hoje")["entities"]["date"] == "2026-12-01");
  o.tz = "America/Sao_Paulo";
  o.now = "2026-12-31T23:30:00-03:00";
  CHECK(run(o, "amanhã")["entities"]["date"] == "2027-01-01");
  // Without --clinic there is no catalogue to match names against.
  o.clinic = "";
  CHECK(!run(o, "quero dermato")["entities"].contains("service"));
  o.clinic = "demo";
  CHECK(run(o, "quero dermato")["entities"]["service"] == "Dermatologia");
  o.lang = "en";
  CHECK(run(o, "👍")["lang"] == "en");
  o.now = "";
  CHECK(run(o, "oi")["intent"] == "greeting"); // system clock
}

TEST_CASE("understand CLI: bad options name themselves and exit 2", "[nlu][cli]") {
  using atendeai::app::understand_command;
  using atendeai::app::understand_options;
  auto fails = [](understand_options o, const std::string& option) {
    std::istringstream in("oi\n");
    std::ostringstream out, err;
    CHECK(understand_command(o, in, out, err) == 2);
    CHECK(out.str().empty());
    auto message = err.str();
    CHECK(message.find(option) != std::string::npos);
    CHECK(std::count(message.begin(), message.end(), '\n') == 1);
  };
  understand_options o;
  o.now = "yesterday";
  fails(o, "--now");
  o.now = "2026-13-40T10:00:00Z";
  fails(o, "--now");
  o = {};
  o.tz = "Mars/Olympus";
  fails(o, "--tz");
  o = {};
  o.clinic = "nope";
  fails(o, "--clinic");
  o = {};
  o.lang = "fr";
  fails(o, "--lang");
}
