#include "core/faq.hpp"

#include <algorithm>
#include <string>

#include "core/format.hpp"
#include "core/fuzzy.hpp"

namespace atendeai::core {

namespace {

/// Words that carry no meaning of their own in a question, in either language.
bool filler(std::string_view w) {
  return w.size() < 3
         || one_of(w, {"que", "qual", "quais", "como", "voce", "voces", "vcs", "tem", "uma", "para", "pra",
                       "pro", "com", "por", "favor", "aqui", "esta", "sao", "ser", "sim", "nao", "mais",
                       "the", "you", "your", "are", "and", "for", "with", "can", "does", "what", "which",
                       "how", "this", "that", "there", "have", "any", "yes", "clinica", "clinic", "posso",
                       "pode", "preciso", "precisa", "gostaria", "queria", "saber", "tambem", "also",
                       "dos", "das", "nos", "nas", "meu", "minha", "seu", "sua", "eles", "elas", "vou"});
}

/// The usual words of each topic of API.md, so an entry tagged in the clinic's own words
/// ("convênio") still answers the topic ("insurance").
const std::vector<std::string>& topic_words(std::string_view topic) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> table = {
    {"insurance", {"insurance", "convenio", "convenios", "plano", "planos", "unimed", "amil", "bradesco",
                   "sulamerica", "hapvida", "seguro", "sus", "reembolso"}},
    {"payment", {"payment", "pagamento", "pagar", "pix", "cartao", "credito", "debito", "card", "cash",
                 "dinheiro", "parcelar", "parcelamento", "boleto"}},
    {"parking", {"parking", "estacionamento", "estacionar", "park", "manobrista", "valet", "carro"}},
    {"transport", {"transport", "transporte", "metro", "onibus", "bus", "subway", "trem", "train", "uber"}},
    {"preparation", {"preparation", "preparo", "preparacao", "jejum", "fasting", "fast", "levar", "bring",
                     "antecedencia", "chegar", "arrive"}},
    {"accessibility", {"accessibility", "acessibilidade", "acessivel", "cadeirante", "wheelchair", "rampa",
                       "elevador", "elevator"}},
    {"results", {"results", "resultado", "resultados", "laudo", "exame", "exames"}},
    {"documents", {"documents", "documento", "documentos", "atestado", "receita", "prescription", "certificate",
                   "declaracao"}},
    {"companion", {"companion", "acompanhante", "acompanhantes", "levar", "bring"}},
    {"amenities", {"amenities", "wifi", "cafe", "coffee", "banheiro", "bathroom"}},
    {"walk_in", {"walk", "walkin", "encaixe", "chegada", "direto", "marcada"}},
    {"telehealth", {"telehealth", "teleconsulta", "telemedicina", "online", "video", "presencial"}},
    {"duration", {"duration", "dura", "duracao", "tempo", "demora", "long"}},
    {"language", {"language", "idioma", "ingles", "english", "espanhol", "spanish", "libras"}},
  };
  static const std::vector<std::string> none;
  for (auto& [name, words] : table)
    if (name == topic)
      return words;
  return none;
}

/// How well a patient's word matches a word of an entry: 0 (not) .. 1 (the same).
double similarity(const std::string& a, const std::string& b) {
  if (a == b)
    return 1.0;
  auto p = common_prefix(a, b);
  if (p >= 5 && p * 10 >= std::max(a.size(), b.size()) * 6)
    return 0.9; // "estacionar" / "estacionamento"
  if (a.size() >= 5 && b.size() >= 5) {
    int limit = (a.size() >= 8 && b.size() >= 8) ? 2 : 1;
    if (edit_distance(a, b, limit) <= limit)
      return 0.8;
  }
  return 0.0;
}

std::vector<std::string> content_words(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : split_words(normalize_text(text))) {
    auto s = squeeze_repeats(w);
    if (!filler(s) && std::find(out.begin(), out.end(), s) == out.end())
      out.push_back(std::move(s));
  }
  return out;
}

} // namespace

std::vector<std::string> normalise_tags(const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  for (auto& t : tags) {
    auto n = normalize_text(t);
    if (!n.empty() && std::find(out.begin(), out.end(), n) == out.end())
      out.push_back(std::move(n));
  }
  return out;
}

const faq_entry* match_faq(const std::vector<faq_entry>& faq, std::string_view text, std::string_view topic,
                           std::string_view lang, faq_strictness strictness) {
  const auto asked = content_words(text);
  const auto& usual = topic_words(topic);
  const faq_entry* best = nullptr;
  double best_score = 0.0;
  bool best_same_lang = false;
  for (auto& e : faq) {
    // The entry's words: its question and its tags (a tag may hold several words).
    auto words = content_words(e.question);
    for (auto& t : normalise_tags(e.tags))
      for (auto& w : split_words(t))
        if (std::find(words.begin(), words.end(), w) == words.end())
          words.push_back(w);
    double overlap = 0.0;
    for (auto& a : asked) {
      double b = 0.0;
      for (auto& w : words)
        b = std::max(b, similarity(a, w));
      overlap += b;
    }
    bool topic_hit = false;
    if (!topic.empty())
      for (auto& w : words)
        topic_hit = topic_hit || w == topic || std::find(usual.begin(), usual.end(), w) != usual.end();
    double score = 0.0;
    if (strictness == faq_strictness::clinic_question) {
      // The topic alone picks an entry; shared words decide between entries of one topic.
      if (topic_hit)
        score = 1.0 + overlap;
      else if (overlap >= 1.5)
        score = overlap;
    } else if (!asked.empty() && overlap >= 1.5 && overlap * 2 >= static_cast<double>(asked.size())) {
      score = overlap;
    }
    if (score <= 0.0)
      continue;
    const bool same_lang = e.lang.empty() || e.lang == lang;
    if (!best || (same_lang && !best_same_lang) || (same_lang == best_same_lang && score > best_score)) {
      best = &e;
      best_score = score;
      best_same_lang = same_lang;
    }
  }
  return best;
}

} // namespace atendeai::core
