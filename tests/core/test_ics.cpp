// ICS rendering (issue 22): RFC 5545 text of a feed — escaping, folding at 75 octets
// without splitting UTF-8 characters, CRLF line ends, UTC times, one VEVENT per
// appointment with its UID, SEQUENCE and STATUS.

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "core/ics.hpp"

using namespace atendeai::core;

namespace {

date::sys_seconds at(int y, unsigned m, unsigned d, int h, int min = 0) {
  return date::sys_days{date::year{y} / m / d} + std::chrono::hours{h} + std::chrono::minutes{min};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find("\r\n", start);
    REQUIRE(end != std::string::npos); // every line ends with CRLF
    out.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

/// Unfolds the lines (a continuation starts with one space).
std::vector<std::string> unfolded(const std::string& text) {
  std::vector<std::string> out;
  for (auto& l : lines_of(text)) {
    if (!l.empty() && l[0] == ' ' && !out.empty())
      out.back() += l.substr(1);
    else
      out.push_back(l);
  }
  return out;
}

} // namespace

TEST_CASE("ics: text values are escaped", "[ics]") {
  CHECK(ics_escape("Dra. Ana; Cardiologia, sala 2") == "Dra. Ana\\; Cardiologia\\, sala 2");
  CHECK(ics_escape("a\\b") == "a\\\\b");
  CHECK(ics_escape("linha 1\nlinha 2\r\nlinha 3") == "linha 1\\nlinha 2\\nlinha 3");
  CHECK(ics_escape(std::string("sem\x01" "controle")) == "semcontrole");
}

TEST_CASE("ics: a patient's first name only", "[ics]") {
  CHECK(first_name("Maria da Silva") == "Maria");
  CHECK(first_name("  João  ") == "João");
  CHECK(first_name("") == "");
  CHECK(first_name("   ") == "");
}

TEST_CASE("ics: a calendar with a scheduled, a confirmed and a cancelled appointment", "[ics]") {
  ics_event a;
  a.uid = "11111111-1111-4111-8111-111111111111@atendeai";
  a.starts_at = at(2026, 12, 10, 13);
  a.ends_at = at(2026, 12, 10, 14);
  a.stamp = at(2026, 12, 1, 9, 30);
  a.summary = "Cardiologia — Maria";
  a.location = "Rua Exemplo, 123 — Centro";
  auto b = a;
  b.uid = "22222222-2222-4222-8222-222222222222@atendeai";
  b.confirmed = true;
  b.sequence = 1;
  auto c = a;
  c.uid = "33333333-3333-4333-8333-333333333333@atendeai";
  c.cancelled = true;
  c.sequence = 2;
  c.description = "Dra. Ana Souza";
  auto text = render_ics("Clínica Exemplo — Dra. Ana Souza", {a, b, c});
  auto lines = unfolded(text);
  CHECK(lines.front() == "BEGIN:VCALENDAR");
  CHECK(lines.back() == "END:VCALENDAR");
  CHECK(std::count(lines.begin(), lines.end(), "BEGIN:VEVENT") == 3);
  CHECK(std::count(lines.begin(), lines.end(), "END:VEVENT") == 3);
  CHECK(std::find(lines.begin(), lines.end(), "VERSION:2.0") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "X-WR-CALNAME:Clínica Exemplo — Dra. Ana Souza") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "DTSTART:20261210T130000Z") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "DTEND:20261210T140000Z") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "DTSTAMP:20261201T093000Z") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "SUMMARY:Cardiologia — Maria") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "LOCATION:Rua Exemplo\\, 123 — Centro") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "STATUS:TENTATIVE") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "STATUS:CONFIRMED") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "STATUS:CANCELLED") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "SEQUENCE:2") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "DESCRIPTION:Dra. Ana Souza") != lines.end());
}

TEST_CASE("ics: long lines are folded at 75 octets, never inside a UTF-8 character", "[ics]") {
  ics_event e;
  e.uid = "u@atendeai";
  e.starts_at = at(2026, 12, 10, 13);
  e.ends_at = at(2026, 12, 10, 14);
  e.stamp = e.starts_at;
  e.summary = "Consulta de acompanhamento — ";
  for (int i = 0; i < 40; ++i)
    e.summary += "ção";
  auto text = render_ics("x", {e});
  for (auto& l : lines_of(text)) {
    CHECK(l.size() <= 75);
    if (!l.empty()) // a line never starts with a UTF-8 continuation byte (after the fold's space)
      CHECK((static_cast<unsigned char>(l[l[0] == ' ' ? 1 : 0]) & 0xC0) != 0x80);
  }
  auto lines = unfolded(text);
  CHECK(std::find(lines.begin(), lines.end(), "SUMMARY:" + e.summary) != lines.end());
}
