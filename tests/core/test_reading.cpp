// core/reading: the answer words shared by the understanding and the flow — yes, no,
// giving up, "another time" and which offered choice — in both languages.

#include <catch2/catch.hpp>

#include "core/clinic.hpp"
#include "core/format.hpp"
#include "core/fuzzy.hpp"
#include "core/reading.hpp"
#include "core/understanding.hpp"

using namespace atendeai::core;

namespace {

answer_reading read(const std::string& text, std::optional<bool> yes_no = std::nullopt) {
  return read_answer(normalize_text(text), yes_no);
}

int choice(const std::string& text) { return read_choice(split_words(normalize_text(text))); }

} // namespace

TEST_CASE("reading: yes and no in both languages", "[reading]") {
  for (auto text : {"sim", "Sim!", "ok", "pode", "pode marcar", "claro", "beleza", "confirmo", "quero confirmar",
                    "yes", "Yes please", "sure", "yep", "s"})
    CHECK(read(text).yes);
  for (auto text : {"não", "Não, obrigado", "nao quero", "n", "no", "nope", "nah"}) {
    CHECK(read(text).no);
    CHECK_FALSE(read(text).yes);
  }
  // "s" and "isto" say yes only alone; nothing else is an answer.
  for (auto text : {"s quero", "isto é caro", "cardiologia", "quarta 15h", "hmm"}) {
    CHECK_FALSE(read(text).yes);
    CHECK_FALSE(read(text).no);
  }
  // The understanding's reading counts; a no beats a yes.
  CHECK(read("hmm", true).yes);
  CHECK(read("sim", false).no);
  CHECK_FALSE(read("sim", false).yes);
}

TEST_CASE("reading: the understanding reads yes and no from the same words", "[reading]") {
  const auto today = date::year_month_day{date::year{2026}, date::month{11}, date::day{23}};
  const clinic_profile clinic;
  for (auto text : {"sim", "ok", "claro", "pode", "pode ser", "yes", "sure", "yep", "s"})
    CHECK(understand(text, today, clinic).entities.yes_no == true);
  for (auto text : {"não", "no", "nope", "nah", "n"})
    CHECK(understand(text, today, clinic).entities.yes_no == false);
  // "pode" opening a request is no answer for the understanding (the flow, asking, takes it).
  CHECK_FALSE(understand("pode marcar amanhã?", today, clinic).entities.yes_no.has_value());
  CHECK_FALSE(understand("isto é caro", today, clinic).entities.yes_no.has_value());
}

TEST_CASE("reading: cancelling, giving up and asking for another time", "[reading]") {
  for (auto text : {"cancela", "quero cancelar", "desmarca", "cancel", "stop"}) {
    CHECK(read(text).give_up);
    CHECK_FALSE(read(text).quit);
  }
  for (auto text : {"desisto", "deixa pra lá", "não quero mais", "never mind", "forget it", "I don't want it"}) {
    CHECK(read(text).give_up);
    CHECK(read(text).quit);
  }
  CHECK_FALSE(read("cancelei sem querer").give_up); // whole words only
  for (auto text : {"outro horário", "outros horários", "outra data", "tem outras opções?", "another day",
                    "other options", "a different time"})
    CHECK(read(text).other_time);
  CHECK_FALSE(read("outra coisa").other_time);
}

TEST_CASE("reading: which of the offered choices", "[reading]") {
  CHECK(choice("a primeira") == 1);
  CHECK(choice("a segunda opção") == 2);
  CHECK(choice("segunda opção") == 2);
  CHECK(choice("opção 3") == 3);
  CHECK(choice("2") == 2);
  CHECK(choice("10") == 10);
  CHECK(choice("terceiro") == 3);
  CHECK(choice("a última") == -1);
  CHECK(choice("the second one") == 2);
  CHECK(choice("the first") == 1);
  CHECK(choice("2nd") == 2);
  CHECK(choice("last") == -1);
  CHECK(choice("number 4") == 4);
  // A weekday alone is a day; a long sentence or a big number picks nothing.
  CHECK(choice("segunda") == 0);
  CHECK(choice("quinta") == 0);
  CHECK(choice("quero marcar para a segunda semana de dezembro") == 0);
  CHECK(choice("123") == 0);
  CHECK(choice("") == 0);
  CHECK(small_number("07") == 7);
  CHECK(small_number("7a") == 0);
  CHECK(ordinal_word("sexto") == 6);
  CHECK(ordinal_word("sexta") == 6);
  CHECK(read("a segunda").choice == 2);
}

TEST_CASE("reading: enough words to tell the language", "[reading]") {
  CHECK(tells_language("quero marcar"));
  CHECK(tells_language("next friday"));
  CHECK_FALSE(tells_language("ok"));
  CHECK_FALSE(tells_language("9h 25/11"));
  CHECK(has_phrase("quero outro horario", "outro horario"));
  CHECK_FALSE(has_phrase("quero outros horarios", "outro horario"));
}
