#include "core/reading.hpp"

#include <algorithm>

#include "core/fuzzy.hpp"

namespace atendeai::core {

const word_list& yes_words() {
  static const word_list words = {
    "sim", "s", "claro", "ok", "okay", "oky", "okey", "isso", "certo", "beleza", "blz", "fechado",
    "perfeito", "combinado", "uhum", "aham", "confirmo", "confirmado", "positivo", "bora", "exato",
    "isto", "pode", "yes", "yeah", "yep", "yup", "sure", "yea", "ya", "fechou", "exatamente", "correto",
    "certinho", "joia", "otimo", "tranquilo", "absolutely", "definitely", "certainly", "alright"};
  return words;
}

const word_list& lone_yes_words() {
  static const word_list words = {"s", "isto"};
  return words;
}

const word_list& no_words() {
  static const word_list words = {"nao", "n", "naum", "nn", "negativo", "no", "nope", "nah"};
  return words;
}

const word_list& confirm_words() {
  static const word_list words = {"sim", "confirmar", "confirmo", "confirma", "confirm", "yes"};
  return words;
}

const word_list& cancel_words() {
  static const word_list words = {
    "cancelar", "cancela", "cancelo", "cancele", "cancelando", "cancelamento", "desmarcar", "desmarca",
    "desmarco", "desmarque", "cancel", "cancelled", "canceled", "cancellation"};
  return words;
}

const word_list& quit_phrases() {
  static const word_list phrases = {
    "desisto", "desistir", "nao quero mais", "deixa pra la", "deixa para la", "dexa pra la", "esquece",
    "never mind", "nevermind", "forget it", "give up", "dont want", "do not want"};
  return phrases;
}

const word_list& mine_words() {
  static const word_list words = {"minha", "minhas", "meu", "meus", "my", "mias"};
  return words;
}

const word_list& appointment_words() {
  static const word_list words = {
    "consulta", "consultas", "agendamento", "agendamentos", "marcacao", "retorno", "avaliacao", "appointment",
    "appointments", "appt", "appts", "booking", "bookings", "visit", "consult", "consultation"};
  return words;
}

const word_list& reschedule_words() {
  static const word_list words = {
    "remarcar", "remarca", "remarco", "remarque", "remarcacao", "remarcamos", "remarcando", "reagendar",
    "reagenda", "reagende", "reagendamento", "adiar", "adia", "adiantar", "adianta", "antecipar", "antecipa",
    "antecipe", "antecipo", "antecipacao", "empurrar", "empurra", "remanejar", "remaneja", "reschedule",
    "rescheduling", "postpone"};
  return words;
}

const word_list& book_words() {
  static const word_list words = {
    "marcar", "marca", "marque", "marcando", "agendar", "agenda", "agende", "agendo", "agendando", "encaixar",
    "encaixe", "encaixa", "nova consulta", "outra consulta", "book", "schedule", "new appointment"};
  return words;
}

const word_list& other_time_phrases() {
  static const word_list phrases = {
    "outro horario", "outros horarios", "outra hora", "outro dia", "outra data", "outra opcao",
    "outras opcoes", "other time", "other times", "another time", "different time", "another day",
    "different day", "another date", "different date", "other options"};
  return phrases;
}

bool in_list(std::string_view word, const word_list& words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

bool has_phrase(std::string_view normalized, std::string_view phrase) {
  std::string padded = " " + std::string(normalized) + " ";
  return padded.find(" " + std::string(phrase) + " ") != std::string::npos;
}

bool has_any_phrase(std::string_view normalized, const word_list& phrases) {
  return std::any_of(phrases.begin(), phrases.end(),
                     [&](std::string_view p) { return has_phrase(normalized, p); });
}

int ordinal_word(std::string_view w) {
  static const std::pair<std::string_view, int> words[] = {
    {"primeira", 1}, {"primeiro", 1}, {"first", 1}, {"1a", 1}, {"1o", 1}, {"1st", 1},
    {"segunda", 2}, {"segundo", 2}, {"second", 2}, {"2a", 2}, {"2o", 2}, {"2nd", 2},
    {"terceira", 3}, {"terceiro", 3}, {"third", 3}, {"3a", 3}, {"3o", 3}, {"3rd", 3},
    {"quarta", 4}, {"quarto", 4}, {"fourth", 4}, {"4a", 4}, {"4o", 4}, {"4th", 4},
    {"quinta", 5}, {"quinto", 5}, {"fifth", 5}, {"5a", 5}, {"5o", 5}, {"5th", 5},
    {"sexta", 6}, {"sexto", 6}, {"sixth", 6}, {"6a", 6}, {"6o", 6}, {"6th", 6},
    {"setima", 7}, {"setimo", 7}, {"seventh", 7}, {"7a", 7}, {"7o", 7}, {"7th", 7},
    {"oitava", 8}, {"oitavo", 8}, {"eighth", 8}, {"8a", 8}, {"8o", 8}, {"8th", 8},
    {"nona", 9}, {"nono", 9}, {"ninth", 9}, {"9a", 9}, {"9o", 9}, {"9th", 9},
    {"decima", 10}, {"decimo", 10}, {"tenth", 10}, {"10a", 10}, {"10o", 10}, {"10th", 10},
    {"ultima", -1}, {"ultimo", -1}, {"last", -1}};
  for (const auto& [word, n] : words)
    if (w == word)
      return n;
  return 0;
}

int small_number(std::string_view w) {
  if (w.empty() || w.size() > 2 || !std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return 0;
  return w.size() == 1 ? w[0] - '0' : (w[0] - '0') * 10 + (w[1] - '0');
}

namespace {

/// The weekdays whose names are also ordinals ("segunda" is Monday and second).
bool weekday_ordinal(std::string_view w) {
  return w == "segunda" || w == "terca" || w == "quarta" || w == "quinta" || w == "sexta";
}

/// The nouns a choice is counted in: "opção 2", "a segunda opção", "the second one".
bool choice_noun(std::string_view w) {
  return one_of(w, {"opcao", "option", "numero", "number", "horario", "one", "consulta"});
}

} // namespace

int read_choice(const std::vector<std::string>& w) {
  if (w.empty())
    return 0;
  for (std::size_t i = 0; i + 1 < w.size(); ++i)
    if (choice_noun(w[i]) && small_number(w[i + 1]) > 0)
      return small_number(w[i + 1]);
  if (w.size() == 1 && small_number(w[0]) > 0)
    return small_number(w[0]);
  if (w.size() <= 4)
    for (std::size_t i = 0; i < w.size(); ++i) {
      int n = ordinal_word(w[i]);
      if (n == 0)
        continue;
      bool article = i > 0 && one_of(w[i - 1], {"a", "o", "the", "pela"});
      bool noun = i + 1 < w.size() && choice_noun(w[i + 1]);
      bool alone = w.size() == 1 && !weekday_ordinal(w[i]);
      if (article || noun || alone)
        return n;
    }
  return 0;
}

bool tells_language(std::string_view normalized) {
  int words = 0;
  for (const auto& w : split_words(normalized)) {
    int letters = 0;
    for (char c : w)
      if ((c >= 'a' && c <= 'z') || (static_cast<unsigned char>(c) >= 0x80))
        ++letters;
    if (letters >= 2)
      ++words;
  }
  return words >= 2;
}

answer_reading read_answer(std::string_view normalized, std::optional<bool> yes_no) {
  answer_reading a;
  const auto words = split_words(normalized);
  const std::string first = words.empty() ? std::string{} : words.front();
  a.quit = has_any_phrase(normalized, quit_phrases());
  // "stop" calls off the flow's question, though not an appointment ("a bus stop nearby?").
  a.give_up = a.quit || has_any_phrase(normalized, cancel_words()) || has_phrase(normalized, "stop");
  a.other_time = has_any_phrase(normalized, other_time_phrases());
  const bool opens_with_yes =
    in_list(first, yes_words()) && !(in_list(first, lone_yes_words()) && words.size() > 1);
  a.yes = yes_no == true || has_any_phrase(normalized, confirm_words()) || opens_with_yes;
  a.no = yes_no == false || in_list(first, no_words());
  if (a.no)
    a.yes = false;
  a.choice = read_choice(words);
  return a;
}

} // namespace atendeai::core
