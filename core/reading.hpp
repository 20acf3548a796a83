#pragma once
/// The words patients answer with, both languages, listed once for the understanding
/// (core/understanding.cpp) and the appointment flow (core/flow.cpp): yes and no, cancel
/// and give up, "another time" (none of the choices offered), and which of the offered
/// choices a message picks ("a segunda opção", "2", "the last one"). Part of the
/// understanding; everything here reads normalize_text output.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atendeai::core {

/// Normalised words or phrases of one meaning; a phrase's words are separated by spaces.
using word_list = std::vector<std::string_view>;

/// Words that say yes when they open an answer: "sim", "ok", "claro", "pode", "yes", "sure".
const word_list& yes_words();
/// The yes words that say yes only standing alone: "s" ("s" is "sim"), "isto".
const word_list& lone_yes_words();
/// Words that say no when they open an answer: "nao", "n", "no", "nope", "nah".
const word_list& no_words();
/// Words that confirm wherever they stand: "sim", "confirmo", "confirmar", "yes".
const word_list& confirm_words();
/// Verbs that call off what is under way: "cancela", "desmarcar", "cancel". (An answer's
/// "stop" also gives up, see read_answer, but is no cancel word: "bus stop".)
/// Single words, as are the yes, no, confirm, mine, appointment and reschedule lists
/// (the understanding's lexicon takes them as signal words).
const word_list& cancel_words();
/// Giving up, wherever said: "desisto", "deixa pra la", "never mind", "dont want".
const word_list& quit_phrases();
/// Saying whose: "minha", "meus", "my".
const word_list& mine_words();
/// Naming an appointment: "consulta", "agendamento", "retorno", "appointment".
const word_list& appointment_words();
/// Verbs of moving an appointment: "remarcar", "reagendar", "adiar", "reschedule".
const word_list& reschedule_words();
/// Asking for a new appointment: "marcar", "agendar", "nova consulta", "book".
const word_list& book_words();
/// Asking for something other than what was offered: "outro horario", "outras opcoes",
/// "another day", "other options".
const word_list& other_time_phrases();

/// True when the word is one of `words`.
bool in_list(std::string_view word, const word_list& words);
/// True when normalised text holds `phrase` as whole words ("quero cancelar" holds
/// "cancelar", not "cancela").
bool has_phrase(std::string_view normalized, std::string_view phrase);
/// True when normalised text holds any of `phrases` as whole words.
bool has_any_phrase(std::string_view normalized, const word_list& phrases);

/// The 1-based position an ordinal word names ("segunda", "second", "2a", "2nd"), -1 for
/// the last ("ultima", "last"), 0 for any other word.
int ordinal_word(std::string_view w);
/// A number written in one or two digits ("2", "10"), else 0.
int small_number(std::string_view w);
/// Which of the offered choices the words pick: "a segunda opção", "opção 2", "the second
/// one", "2", "a última" → 1-based position, -1 for the last, 0 when none. A weekday alone
/// ("segunda", "quinta") is a day, not a choice.
int read_choice(const std::vector<std::string>& words);

/// True when normalised text has at least two words of two letters or more: enough to
/// tell its language ("ok", "9h", "25/11" are not).
bool tells_language(std::string_view normalized);

/// What a typed answer says to a question the flow asked.
struct answer_reading {
  bool yes = false;        ///< agrees or confirms ("sim", "pode", "confirmo")
  bool no = false;         ///< opens with a no ("não", "nope"); a no is never also a yes
  bool give_up = false;    ///< calls off or gives up ("cancela", "desisto")
  bool quit = false;       ///< gives up in words other than cancel ("desisto", "never mind")
  bool other_time = false; ///< wants something other than what was offered
  int choice = 0;          ///< read_choice of the words
};

/// Reads an answer from normalised text; `yes_no` is the understanding's entities.yes_no
/// for the same message, which counts as said.
answer_reading read_answer(std::string_view normalized, std::optional<bool> yes_no);

} // namespace atendeai::core
