// Text helpers: normalisation of patient text, prices, weekday names, dd/mm and the
// opening-hours sentence used in replies.

#include <catch2/catch.hpp>

#include "core/format.hpp"
#include "core/fuzzy.hpp"

using namespace atendeai::core;
using namespace date::literals;

TEST_CASE("normalize_text folds case, accents, emojis and punctuation", "[format]") {
  CHECK(normalize_text("Olá, Dr. José! 😊") == "ola dr jose");
  CHECK(normalize_text("ÁÀÂÃ áàâã ÇÇ çç ÉÊ éê Í í ÓÔÕ óôõ ÚÜ úü") ==
        "aaaa aaaa cc cc ee ee i i ooo ooo uu uu");
  CHECK(normalize_text("  QRO marcar   às 14:30 dia 25/11!!  ") == "qro marcar as 14:30 dia 25/11");
  CHECK(normalize_text("vcs abrem sábado?? 🙏🏽🙏🏽") == "vcs abrem sabado");
  CHECK(normalize_text("what's up") == "whats up");
  CHECK(normalize_text("p/ amanhã") == "p amanha");
  CHECK(normalize_text("meio-dia") == "meio dia");
  CHECK(normalize_text("👍") == "");
  CHECK(normalize_text("") == "");
  CHECK(normalize_text("a\u00A0b") == "a b"); // no-break space
  CHECK(normalize_text("família ❤️ saúde") == "familia saude");
  CHECK(normalize_text("12:") == "12");
  CHECK(normalize_text("\xFF\xFE broken") == "broken"); // invalid UTF-8 is dropped
}

TEST_CASE("format_price in reais", "[format]") {
  CHECK(format_price(35000, "pt-BR") == "R$ 350");
  CHECK(format_price(35050, "pt-BR") == "R$ 350,50");
  CHECK(format_price(35005, "en") == "R$ 350,05");
  CHECK(format_price(0, "pt-BR") == "R$ 0");
  CHECK(format_price(123456, "pt-BR") == "R$ 1.234,56");
  CHECK(format_price(100000000, "en") == "R$ 1.000.000");
}

TEST_CASE("weekday_name in both languages", "[format]") {
  CHECK(weekday_name(0, "pt-BR", false) == "domingo");
  CHECK(weekday_name(2, "pt-BR", false) == "terça");
  CHECK(weekday_name(6, "pt-BR", false) == "sábado");
  CHECK(weekday_name(6, "pt-BR", true) == "sáb");
  CHECK(weekday_name(3, "pt-BR", true) == "qua");
  CHECK(weekday_name(1, "en", false) == "Monday");
  CHECK(weekday_name(4, "en", true) == "Thu");
  CHECK(weekday_name(7, "pt-BR", false) == "domingo");
}

TEST_CASE("format_ddmm", "[format]") {
  CHECK(format_ddmm(2026_y / 11 / 25) == "25/11");
  CHECK(format_ddmm(2027_y / 1 / 5) == "05/01");
}

TEST_CASE("format_hours_summary groups equal consecutive days", "[format]") {
  weekly_hours h;
  for (int d = 1; d <= 5; ++d)
    h[d] = {{8 * 60, 18 * 60}};
  h[6] = {{8 * 60, 12 * 60}};
  CHECK(format_hours_summary(h, "pt-BR") ==
        "de segunda a sexta, das 08:00 às 18:00; sábado, das 08:00 às 12:00");
  CHECK(format_hours_summary(h, "en") == "Monday to Friday 08:00–18:00; Saturday 08:00–12:00");

  h[3] = {{8 * 60, 12 * 60}, {14 * 60, 18 * 60}};
  CHECK(format_hours_summary(h, "pt-BR") ==
        "segunda e terça, das 08:00 às 18:00; quarta, das 08:00 às 12:00 e das 14:00 às 18:00; "
        "quinta e sexta, das 08:00 às 18:00; sábado, das 08:00 às 12:00");
  CHECK(format_hours_summary(h, "en") ==
        "Monday and Tuesday 08:00–18:00; Wednesday 08:00–12:00 and 14:00–18:00; "
        "Thursday and Friday 08:00–18:00; Saturday 08:00–12:00");

  weekly_hours every_day;
  for (auto& d : every_day)
    d = {{7 * 60, 19 * 60}};
  CHECK(format_hours_summary(every_day, "pt-BR") == "de segunda a domingo, das 07:00 às 19:00");

  weekly_hours closed;
  CHECK(format_hours_summary(closed, "pt-BR").empty());
}

TEST_CASE("fuzzy helpers", "[format]") {
  CHECK(edit_distance("consulta", "consuta", 2) == 1);
  CHECK(edit_distance("agendar", "agnedar", 2) == 1); // swapped letters
  CHECK(edit_distance("remarcar", "desmarcar", 1) == 2); // stops at limit + 1
  CHECK(edit_distance("", "abc", 5) == 3);
  CHECK(squeeze_repeats("siiiim") == "sim");
  CHECK(squeeze_repeats("1100") == "1100"); // digits kept
  CHECK(common_prefix("cardio", "cardiologia") == 6);
  CHECK(split_words("a bc  d") == std::vector<std::string>{"a", "bc", "d"});
}
