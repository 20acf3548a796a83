#include "core/catalogue_match.hpp"

#include <algorithm>
#include <string_view>

#include "core/format.hpp"
#include "core/fuzzy.hpp"

namespace atendeai::core {

namespace {

/// Words too generic to identify a service or a person on their own.
bool generic_word(std::string_view w) {
  return w.size() < 3
         || one_of(w, {"clinica", "clinicas", "clinic", "clinics", "consulta", "consultas",
                       "geral", "general", "medico", "medica", "medicos", "exame", "exames",
                       "com", "para", "pra", "pro", "the", "and", "uma", "um", "que", "dia",
                       "doutor", "doutora", "doctor", "dra", "dr", "sra", "sr", "prof",
                       "consult", "consultation", "appointment", "agendar", "marcar",
                       "hoje", "amanha", "semana"});
}

/// How well a patient's word names a catalogue word: 0 (not) .. 2.5 (exactly).
double word_score(std::string_view t, std::string_view w) {
  if (t == w)
    return 2.5;
  if (t.size() >= 5 && w.size() > t.size() && w.substr(0, t.size()) == t)
    return 2.0; // "cardio", "dermato"
  auto p = common_prefix(t, w);
  if (p >= 6 && p * 10 >= std::max(t.size(), w.size()) * 6)
    return 2.0; // "cardiologista", "dermatology"
  if (t.size() >= 5 && w.size() >= 5) {
    int limit = (t.size() >= 8 && w.size() >= 8) ? 2 : 1;
    if (edit_distance(t, w, limit) <= limit)
      return 1.5;
  }
  return 0.0;
}

struct synonym {
  const char* phrase; ///< normalised words
  const char* stem;   ///< must occur in the service's normalised name
};

constexpr synonym service_synonyms[] = {
  {"gp", "clinico"},       {"general practitioner", "clinico"}, {"general practice", "clinico"},
  {"medico geral", "clinico"}, {"clinica geral", "clinico"},   {"checkup", "clinico"},
  {"check up", "clinico"}, {"consulta geral", "clinico"}, {"family doctor", "clinico"},       {"heart", "cardio"},
  {"coracao", "cardio"},   {"skin", "dermat"},                 {"pele", "dermat"},
};

bool has_phrase(const std::vector<std::string>& words, std::string_view phrase) {
  auto parts = split_words(phrase);
  if (parts.empty() || parts.size() > words.size())
    return false;
  for (size_t i = 0; i + parts.size() <= words.size(); ++i) {
    bool all = true;
    for (size_t k = 0; k < parts.size() && all; ++k)
      all = words[i + k] == parts[k];
    if (all)
      return true;
  }
  return false;
}

/// True when consecutive words spell all of `name` (each word exact or one typo away).
bool has_fuzzy_phrase(const std::vector<std::string>& words, const std::vector<std::string>& name) {
  if (name.size() < 2 || name.size() > words.size())
    return false;
  for (size_t i = 0; i + name.size() <= words.size(); ++i) {
    bool all = true;
    for (size_t k = 0; k < name.size() && all; ++k) {
      auto& t = words[i + k];
      all = t == name[k] || (name[k].size() >= 5 && edit_distance(t, name[k], 1) <= 1);
    }
    if (all)
      return true;
  }
  return false;
}

} // namespace

std::optional<std::string> match_service(const std::vector<std::string>& words,
                                         const clinic_profile& clinic) {
  double best = 0.0;
  std::optional<std::string> best_id;
  for (auto& s : clinic.services) {
    if (!s.active)
      continue;
    double score = 0.0;
    for (const auto* label : {&s.name, &s.name_en}) { // the English name too, when given
      if (label->empty())
        continue;
      auto norm = normalize_text(*label);
      auto name = split_words(norm);
      if (has_fuzzy_phrase(words, name))
        score = 3.0;
      for (auto& nw : name) {
        if (generic_word(nw))
          continue;
        for (auto& t : words)
          if (!generic_word(t))
            score = std::max(score, word_score(t, nw));
      }
      for (auto& syn : service_synonyms)
        if (norm.find(syn.stem) != std::string::npos && has_phrase(words, syn.phrase))
          score = std::max(score, 2.0);
    }
    if (score > best) {
      best = score;
      best_id = s.id;
    }
  }
  return best_id;
}

std::optional<std::string> match_professional(const std::vector<std::string>& words,
                                              const clinic_profile& clinic) {
  double best = 0.0;
  size_t best_first = words.size();
  std::optional<std::string> best_id;
  for (auto& p : clinic.professionals) {
    if (!p.active)
      continue;
    auto name = split_words(normalize_text(p.name));
    double score = 0.0;
    for (auto& nw : name) {
      if (generic_word(nw))
        continue;
      double word_best = 0.0;
      for (size_t i = 0; i < words.size(); ++i) {
        auto& t = words[i];
        double v = 0.0;
        if (t == nw)
          v = 2.0;
        else if (nw.size() >= 5 && t.size() >= 4 && edit_distance(t, nw, 1) <= 1)
          v = 1.0;
        if (v > 0 && i > 0
            && one_of(words[i - 1], {"dr", "dra", "doutor", "doutora", "doctor", "doc", "drs"}))
          v += 1.0;
        word_best = std::max(word_best, v);
      }
      score += word_best;
    }
    // On a tie the one named first wins ("com o dr carlos ou a dra ana").
    size_t first = words.size();
    for (size_t i = 0; i < words.size() && first == words.size(); ++i)
      for (auto& nw : name)
        if (!generic_word(nw) && words[i] == nw)
          first = i;
    if (score > best || (score == best && score > 0 && first < best_first)) {
      best = score;
      best_id = p.id;
      best_first = first;
    }
  }
  return best_id;
}

} // namespace atendeai::core
