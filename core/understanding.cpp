#include "core/understanding.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/catalogue_match.hpp"
#include "core/date_rules.hpp"
#include "core/format.hpp"
#include "core/fuzzy.hpp"
#include "core/reading.hpp"

namespace atendeai::core {

namespace {

/// What a word can signal; a word may signal several things.
enum signal : uint32_t {
  s_reschedule = 1u << 0,  ///< remarcar, reagendar, reschedule
  s_change = 1u << 1,      ///< mudar, trocar, change, move
  s_cancel = 1u << 2,      ///< cancelar, desmarcar, cancel
  s_book = 1u << 3,        ///< marcar, agendar, book, schedule
  s_appointment = 1u << 4, ///< consulta, agendamento, appointment
  s_booked = 1u << 5,      ///< marcada, agendada, booked
  s_mine = 1u << 6,        ///< minha, meus, my
  s_slot = 1u << 7,        ///< vaga, disponível, slot, availability
  s_horario = 1u << 8,     ///< horário (opening hours or a free slot)
  s_open = 1u << 9,        ///< abre, funcionamento, open, close
  s_attend = 1u << 10,     ///< atendem, atendimento
  s_price = 1u << 11,      ///< quanto, preço, valor, price
  s_service_word = 1u << 12, ///< serviços, especialidades, médicos
  s_place = 1u << 13,      ///< endereço, rua, address, location, telefone
  s_where = 1u << 14,      ///< onde, where, kd
  s_human = 1u << 15,      ///< atendente, humano, recepção, agent
  s_person = 1u << 16,     ///< pessoa, alguém, someone
  s_talk = 1u << 17,       ///< falar, conversar, talk, speak
  s_greet = 1u << 18,      ///< oi, olá, hi, hello
  s_thanks = 1u << 19,     ///< obrigado, valeu, thanks, tchau, bye
  s_clinic_other = 1u << 20, ///< convênio, unimed, estacionamento, cartão, pix
  s_off_topic = 1u << 21,  ///< animals and other things a clinic never does
  s_medical = 1u << 22,    ///< exame, pediatra, vacina
  s_have = 1u << 23,       ///< tem, têm, have, fazem (do you have / do)
  s_want = 1u << 24,       ///< quero, preciso, want, need
  s_hour_word = 1u << 25,  ///< horas, time (in "que horas", "what time")
};

struct entry {
  const char* word;
  uint32_t signals;
};

// Keys are written already normalised; they are squeezed when the table is built.
// Cancel, book, reschedule, appointment and possessive words are core/reading.hpp's lists,
// added to the table when it is built (the_lexicon).
constexpr entry lexicon_entries[] = {
  // change
  {"mudar", s_change}, {"muda", s_change}, {"trocar", s_change}, {"troca", s_change},
  {"alterar", s_change}, {"altera", s_change}, {"passar", s_change}, {"passa", s_change},
  {"mover", s_change}, {"change", s_change}, {"move", s_change}, {"switch", s_change},
  // booked
  {"marquei", s_booked}, {"agendei", s_booked}, {"marcamos", s_booked}, {"agendamos", s_booked},
  {"marcada", s_booked}, {"marcadas", s_booked}, {"marcado", s_booked},
  {"marcados", s_booked}, {"agendada", s_booked}, {"agendadas", s_booked},
  {"agendado", s_booked}, {"agendados", s_booked}, {"booked", s_booked},
  {"scheduled", s_booked},
  // free slots
  {"vaga", s_slot}, {"vagas", s_slot}, {"disponivel", s_slot}, {"disponiveis", s_slot},
  {"disponibilidade", s_slot}, {"livre", s_slot}, {"livres", s_slot}, {"vago", s_slot},
  {"slot", s_slot}, {"slots", s_slot}, {"availability", s_slot}, {"available", s_slot},
  {"free", s_slot}, {"anything", s_slot},
  {"horario", s_horario}, {"horarios", s_horario}, {"hr", s_horario}, {"hrs", s_horario},
  // opening hours
  {"funcionamento", s_open}, {"abre", s_open}, {"abrem", s_open}, {"abrir", s_open},
  {"aberto", s_open}, {"aberta", s_open}, {"abertos", s_open}, {"abertas", s_open},
  {"fecha", s_open}, {"fecham", s_open}, {"fechar", s_open}, {"fechado", s_open},
  {"fechada", s_open}, {"funciona", s_open}, {"funcionam", s_open}, {"open", s_open},
  {"opening", s_open}, {"opens", s_open}, {"close", s_open}, {"closes", s_open},
  {"closing", s_open}, {"closed", s_open}, {"hours", s_open}, {"expediente", s_open},
  {"feriado", s_open}, {"feriados", s_open},
  {"horas", s_hour_word}, {"time", s_hour_word},
  {"atende", s_attend}, {"atendem", s_attend}, {"atendimento", s_attend},
  {"trabalham", s_attend},
  // prices and services
  {"quanto", s_price}, {"qnto", s_price}, {"qto", s_price}, {"custa", s_price},
  {"custam", s_price}, {"custo", s_price}, {"preco", s_price}, {"precos", s_price},
  {"valor", s_price}, {"valores", s_price}, {"price", s_price}, {"prices", s_price},
  {"pricing", s_price}, {"cost", s_price}, {"costs", s_price}, {"tabela", s_price},
  {"cobram", s_price}, {"cobra", s_price}, {"fee", s_price}, {"fees", s_price},
  {"servico", s_service_word}, {"servicos", s_service_word}, {"service", s_service_word},
  {"services", s_service_word}, {"especialidade", s_service_word},
  {"especialidades", s_service_word}, {"specialty", s_service_word},
  {"specialties", s_service_word}, {"medicos", s_service_word}, {"doctors", s_service_word},
  {"profissionais", s_service_word}, {"procedimentos", s_service_word},
  {"tratamentos", s_service_word}, {"doutores", s_service_word}, {"offer", s_service_word}, {"oferecem", s_service_word},
  // place
  {"endereco", s_place}, {"localizacao", s_place}, {"rua", s_place}, {"bairro", s_place},
  {"address", s_place}, {"located", s_place}, {"location", s_place}, {"mapa", s_place},
  {"map", s_place}, {"maps", s_place}, {"waze", s_place}, {"gps", s_place}, {"telefone", s_place}, {"fone", s_place}, {"phone", s_place},
  {"contato", s_place}, {"localiza", s_place}, {"chegar", s_place}, {"endereso", s_place},
  {"onde", s_where}, {"where", s_where}, {"kd", s_where}, {"cade", s_where},
  // people
  {"atendente", s_human}, {"humano", s_human}, {"humana", s_human}, {"human", s_human},
  {"recepcao", s_human}, {"recepcionista", s_human}, {"secretaria", s_human},
  {"agent", s_human}, {"operator", s_human}, {"operador", s_human}, {"operadora", s_human},
  {"attendant", s_human}, {"receptionist", s_human}, {"reception", s_human},
  {"pessoa", s_person}, {"person", s_person}, {"alguem", s_person}, {"someone", s_person},
  {"somebody", s_person}, {"moca", s_person}, {"moco", s_person}, {"robo", s_person}, {"bot", s_person},
  {"falar", s_talk}, {"conversar", s_talk}, {"talk", s_talk}, {"speak", s_talk},
  {"chamar", s_talk}, {"chama", s_talk}, {"transfere", s_talk}, {"transferir", s_talk},
  {"ligar", s_talk}, {"liga", s_talk}, {"call", s_talk},
  // greetings and goodbyes
  {"oi", s_greet}, {"oie", s_greet}, {"ola", s_greet}, {"hi", s_greet}, {"hello", s_greet},
  {"hey", s_greet}, {"eae", s_greet}, {"eai", s_greet}, {"salve", s_greet}, {"opa", s_greet},
  {"hola", s_greet}, {"alo", s_greet}, {"hiya", s_greet}, {"oii", s_greet},
  {"tchau", s_thanks}, {"tchauzinho", s_thanks}, {"obrigado", s_thanks},
  {"obrigada", s_thanks}, {"obg", s_thanks}, {"brigado", s_thanks}, {"brigada", s_thanks},
  {"valeu", s_thanks}, {"vlw", s_thanks}, {"flw", s_thanks}, {"falou", s_thanks},
  {"bye", s_thanks}, {"goodbye", s_thanks}, {"thanks", s_thanks}, {"thank", s_thanks},
  {"thx", s_thanks}, {"agradeco", s_thanks}, {"grato", s_thanks}, {"grata", s_thanks},
  {"adeus", s_thanks}, {"obrigadao", s_thanks},
  // clinic matters the assistant does not know
  {"convenio", s_clinic_other}, {"convenios", s_clinic_other}, {"unimed", s_clinic_other},
  {"amil", s_clinic_other}, {"bradesco", s_clinic_other}, {"sulamerica", s_clinic_other},
  {"hapvida", s_clinic_other}, {"plano", s_clinic_other}, {"planos", s_clinic_other},
  {"insurance", s_clinic_other}, {"cartao", s_clinic_other}, {"credito", s_clinic_other},
  {"debito", s_clinic_other}, {"card", s_clinic_other}, {"cards", s_clinic_other},
  {"pix", s_clinic_other}, {"dinheiro", s_clinic_other}, {"cash", s_clinic_other},
  {"estacionamento", s_clinic_other}, {"parking", s_clinic_other}, {"wifi", s_clinic_other},
  {"acessibilidade", s_clinic_other}, {"cadeirante", s_clinic_other},
  {"wheelchair", s_clinic_other}, {"reembolso", s_clinic_other}, {"parcelar", s_clinic_other},
  {"pagamento", s_clinic_other}, {"payment", s_clinic_other}, {"estacionar", s_clinic_other},
  {"park", s_clinic_other}, {"estaciono", s_clinic_other},
  // off topic for a human clinic
  {"cachorro", s_off_topic}, {"cachorra", s_off_topic}, {"gato", s_off_topic},
  {"gata", s_off_topic}, {"animal", s_off_topic}, {"animais", s_off_topic},
  {"pet", s_off_topic}, {"veterinario", s_off_topic}, {"capital", s_off_topic},
  {"piada", s_off_topic}, {"jogo", s_off_topic}, {"weather", s_off_topic},
  {"restaurante", s_off_topic},
  // medical words outside the catalogue
  {"exame", s_medical}, {"exames", s_medical}, {"raio", s_medical}, {"ultrassom", s_medical},
  {"vacina", s_medical}, {"vacinas", s_medical}, {"pediatra", s_medical},
  {"ginecologista", s_medical}, {"psicologo", s_medical}, {"psicologa", s_medical},
  {"nutricionista", s_medical}, {"fisioterapia", s_medical}, {"dentista", s_medical},
  {"ortopedista", s_medical}, {"oftalmologista", s_medical}, {"sangue", s_medical},
  {"checkup", s_medical}, {"atestado", s_medical}, {"receita", s_medical},
  {"laudo", s_medical}, {"resultado", s_medical}, {"resultados", s_medical},
  {"crianca", s_medical}, {"criancas", s_medical}, {"bebe", s_medical}, {"dor", s_medical},
  {"febre", s_medical}, {"sintoma", s_medical}, {"sintomas", s_medical},
  {"prescription", s_medical}, {"crm", s_medical}, {"x-ray", s_medical}, {"test", s_medical}, {"tests", s_medical},
  // have / do
  {"tem", s_have}, {"tei", s_have}, {"possui", s_have}, {"fazem", s_have}, {"faz", s_have},
  {"have", s_have}, {"has", s_have},
  // wanting
  {"quero", s_want}, {"qro", s_want}, {"queria", s_want}, {"gostaria", s_want},
  {"preciso", s_want}, {"precisava", s_want}, {"want", s_want}, {"need", s_want},
  {"like", s_want}, {"qr", s_want},
  // everyday ways of moving an appointment (issue 17; the verbs are reschedule_words)
  {"earlier", s_change}, {"forward", s_change}, {"quando", 0},
  {"push", s_change}, {"jogar", s_change}, {"joga", s_change}, {"deixar", s_change},
  // ... and of giving one up
  {"desisti", s_cancel}, {"desistir", s_cancel}, {"desisto", s_cancel}, {"anular", s_cancel},
  {"anula", s_cancel}, {"excluir", s_cancel}, {"exclui", s_cancel}, {"faltar", s_cancel},
  {"drop", s_cancel}, {"desconsiderar", s_cancel}, {"desconsidera", s_cancel},
  {"earliest", s_slot},
  {"gracias", s_thanks}, {"cheque", s_clinic_other},
  {"openings", s_slot},
  {"opening", s_open}, {"precisando", s_want}, {"procurando", s_want},
  // informal thanks and goodbyes, both languages
  {"brigadao", s_thanks}, {"obrigadinha", s_thanks}, {"obrigadinho", s_thanks},
  {"tmj", s_thanks}, {"abraco", s_thanks}, {"abracos", s_thanks}, {"bjs", s_thanks},
  {"beijos", s_thanks}, {"bjo", s_thanks}, {"bj", s_thanks}, {"cheers", s_thanks},
  {"cya", s_thanks}, {"gratidao", s_thanks}, {"thankyou", s_thanks}, {"ty", s_thanks},
  {"tks", s_thanks}, {"brigada", s_thanks}, {"obrigad", s_thanks},
  {"falae", s_greet}, {"bao", s_greet}, {"howdy", s_greet}, {"oiee", s_greet},
  // clinic matters answered from the clinic's FAQ (see topic_of)
  {"sus", s_clinic_other}, {"particular", 0}, {"metro", s_clinic_other},
  {"onibus", s_clinic_other}, {"bus", s_clinic_other}, {"subway", s_clinic_other},
  {"jejum", s_clinic_other}, {"elevador", s_clinic_other}, {"elevator", s_clinic_other},
  {"rampa", s_clinic_other}, {"acompanhante", s_clinic_other}, {"boleto", s_clinic_other},
  {"manobrista", s_clinic_other}, {"valet", s_clinic_other}, {"wifi", s_clinic_other},
  {"parcela", s_clinic_other}, {"parcelas", s_clinic_other}, {"pediatrician", s_medical},
  {"dermatologist", 0}, {"cardiologist", 0}, {"ortopedista", s_medical},
  {"street", s_place}, {"avenida", s_place}, {"predio", s_place}, {"cidade", s_place},
  {"city", s_place}, {"perto", s_place}, {"near", s_place}, {"nearby", s_place},
  {"falta", 0}, {"kids", s_medical}, {"children", s_medical}, {"whatsapp", s_place},
  {"zap", s_place}, {"email", s_place}, {"instead", s_change}, {"trazer", s_change}, {"traz", s_change}, {"xau", s_thanks},
  {"xauzinho", s_thanks}, {"riscar", 0}, {"risca", 0}, {"certo", 0}, {"peito", 0}, {"porto", 0}, {"algum", 0}, {"alguma", 0}, {"algo", 0}, {"anyone", s_person}, {"anybody", s_person}, {"ond", s_where},
  {"treatments", s_service_word}, {"treatment", s_service_word}, {"exam", s_medical},
  // common words one typo away from a signal word: listed so they never fuzzy-match
  {"senhor", 0}, {"senhora", 0}, {"caro", s_price}, {"barato", s_price},
  {"expensive", s_price}, {"cheap", s_price}, {"desconto", s_price}, {"descontos", s_price},
  {"discount", s_price}, {"promocao", s_price}, {"reclamacao", s_human}, {"reclamar", s_human},
  {"complaint", s_human}, {"gerente", s_human}, {"manager", s_human}, {"supervisor", s_human},
  {"ouvidoria", s_human}, {"declaracao", 0}, {"declaracoes", 0}, {"chance", 0}, {"swap", s_change}, {"braco", 0}, {"flor", 0},
  {"greetings", s_greet}, {"saudacoes", s_greet}, {"directions", s_place}, {"centro", s_place},
  {"downtown", s_place}, {"bracos", 0}, {"yo", s_greet}, {"buenas", s_greet},
  {"cep", s_place}, {"andar", s_place}, {"referencia", s_place}, {"postcode", s_place}, {"zipcode", s_place},
  {"zip", s_place}, {"shopping", s_place}, {"building", s_place}, {"needs", s_want}, {"aplica", s_have}, {"aplicam", s_have},
  {"domiciliar", s_medical}, {"domicilio", s_medical}, {"vaccine", s_medical}, {"vaccines", s_medical}, {"vaccination", s_medical}, {"vaccinations", s_medical},
  {"esqueca", 0}, {"esquecer", 0},
  {"especialista", s_medical}, {"especialistas", s_service_word}, {"specialist", s_medical},
  {"specialists", s_service_word}, {"cirurgia", s_medical}, {"cirurgias", s_medical}, {"surgery", s_medical},
  {"realiza", s_have}, {"realizam", s_have}, {"oferece", s_have}, {"garagem", s_clinic_other},
  {"garage", s_clinic_other}, {"carpark", s_clinic_other}, {"transport", s_clinic_other},
  {"transit", s_clinic_other}, {"retirar", 0}, {"apagar", 0}, {"apaga", 0}, {"remover", 0},
  // more ways of wanting, giving up and reaching the front desk
  {"precisa", s_want}, {"precisam", s_want}, {"necessito", s_want}, {"prefiro", s_want},
  {"prefer", s_want}, {"preferencia", s_want}, {"skip", s_cancel}, {"bail", s_cancel},
  {"desk", s_human}, {"frontdesk", s_human},
  {"marco", 0}, {"there", 0}, {"here", 0}, {"three", 0}, {"conta", 0}, {"contas", 0}, {"carro", 0}, {"passo", 0}, {"parte", 0},
  {"mudou", 0}, {"cancer", 0}, {"abril", 0}, {"fala", 0}, {"falo", 0}, {"calor", 0},
  {"aberta", s_open}, {"fecho", 0}, {"vale", 0}, {"cobre", 0}, {"plana", 0},
  {"pessoal", 0}, {"paciente", 0}, {"ontem", 0}, {"tempo", 0}, {"feito", 0},
  // words for days and times are entities, never a typo of a signal word ("manha" ≠ "minha")
  {"manha", 0}, {"amanha", 0}, {"tarde", 0}, {"noite", 0}, {"hoje", 0}, {"semana", 0},
  {"segunda", 0}, {"terca", 0}, {"quarta", 0}, {"quinta", 0}, {"sexta", 0}, {"sabado", 0},
  {"domingo", 0}, {"feira", 0}, {"janeiro", 0}, {"fevereiro", 0}, {"marco", 0}, {"abril", 0},
  {"maio", 0}, {"junho", 0}, {"julho", 0}, {"agosto", 0}, {"setembro", 0}, {"outubro", 0},
  {"novembro", 0}, {"dezembro", 0}, {"morning", 0}, {"afternoon", 0}, {"evening", 0},
  {"tonight", 0}, {"tomorrow", 0}, {"today", 0}, {"monday", 0}, {"tuesday", 0},
  {"wednesday", 0}, {"thursday", 0}, {"friday", 0}, {"saturday", 0}, {"sunday", 0},
  {"proxima", 0}, {"depois", 0}, {"meia", 0},
  // one doctor is a booking ("tem médico hoje?"); "médicos" asks who works here
  {"medico", 0}, {"medica", 0}, {"doctor", 0}, {"doutor", 0}, {"doutora", 0},
  // past tense reports, not requests ("cancelei sem querer")
  {"cancelei", 0}, {"cancelou", 0}, {"cancelaram", 0}, {"cancelado", 0}, {"cancelada", 0},
  {"marquei", 0}, {"agendei", 0},
};

/// Signal words, exact lookup plus the same keys grouped by length for typo search.
struct lexicon {
  std::unordered_map<std::string, uint32_t> exact;
  std::vector<std::vector<std::pair<std::string, uint32_t>>> by_length;
};

const lexicon& the_lexicon() {
  static const lexicon table = [] {
    lexicon t;
    auto add = [&](std::string_view word, uint32_t signals) {
      t.exact[std::string(word)] |= signals;
      t.exact[squeeze_repeats(word)] |= signals;
    };
    for (auto& e : lexicon_entries)
      add(e.word, e.signals);
    for (auto [words, signals] : {std::pair{&cancel_words(), s_cancel}, {&book_words(), s_book},
                                  {&reschedule_words(), s_reschedule}, {&appointment_words(), s_appointment},
                                  {&mine_words(), s_mine}})
      for (auto w : *words)
        if (w.find(' ') == std::string_view::npos) // phrases ("nova consulta") are not signal words
          add(w, signals);
    for (auto& [k, v] : t.exact) {
      if (t.by_length.size() <= k.size())
        t.by_length.resize(k.size() + 1);
      t.by_length[k.size()].emplace_back(k, v);
    }
    return t;
  }();
  return table;
}

/// Common first names one typo away from a signal word ("Maria" is not "marca", "Graças"
/// not "gracias"): never a signal, yet still read as a name after "sou", "me chamo".
bool common_name(std::string_view w) {
  return one_of(w, {"maria", "marcia", "marta", "mariana", "marina", "marcela", "marcelo", "gracas", "paula",
                    "carla", "vania", "sonia", "tania"});
}

/// The signals of one word: exact entry, or the nearest entry one typo away (two for
/// long words); ties prefer the same first letter, then the longer entry.
uint32_t signals_of(const std::string& w, bool& fuzzy, const std::string** matched = nullptr) {
  auto& lex = the_lexicon();
  fuzzy = false;
  if (auto it = lex.exact.find(w); it != lex.exact.end())
    return it->second;
  if (w.size() < 5 || common_name(w))
    return 0;
  int best_d = 3;
  const std::pair<std::string, uint32_t>* best = nullptr;
  const size_t lo = w.size() - 2;
  const size_t hi = std::min(w.size() + 2, lex.by_length.size() - 1);
  for (size_t len = std::max<size_t>(lo, 5); len <= hi; ++len) {
    for (auto& kv : lex.by_length[len]) {
      auto& k = kv.first;
      int limit = (k.size() >= 9 && w.size() >= 9) ? 2 : 1;
      if (static_cast<int>(std::max(k.size(), w.size()) - std::min(k.size(), w.size())) > limit)
        continue;
      // One edit that changes the first letter keeps the second in line (substitution),
      // or shifts it by one (deletion, insertion): anything else is further away.
      if (limit == 1 && k[0] != w[0] && k[1] != w[1] && k[0] != w[1] && k[1] != w[0])
        continue;
      int d = edit_distance(w, k, limit);
      if (d > limit)
        continue;
      bool better = d < best_d;
      if (!better && d == best_d && best) {
        bool same_first = k[0] == w[0];
        bool best_same_first = best->first[0] == w[0];
        better = (same_first && !best_same_first)
                 || (same_first == best_same_first && k.size() > best->first.size());
      }
      if (better) {
        best_d = d;
        best = &kv;
      }
    }
  }
  if (!best)
    return 0;
  fuzzy = true;
  if (matched)
    *matched = &best->first;
  return best->second;
}

/// The message, tokenised once, with signals per word.
struct message {
  std::vector<std::string> raw;     ///< normalize_text words
  std::vector<std::string> words;   ///< the same, repeated letters squeezed
  std::vector<uint32_t> signals;    ///< per word
  /// Per word: the lexicon word it is one typo away from ("estacionamneto" →
  /// "estacionamento"), else empty; every word and phrase rule reads it too.
  std::vector<const std::string*> canon;
  uint32_t initials = 0;            ///< bit per first letter of any form of any word

  static uint32_t initial_bit(std::string_view w) {
    const char c = w.empty() ? '\0' : w[0];
    return c >= 'a' && c <= 'z' ? 1u << (c - 'a') : 1u << 31;
  }
  /// False when no word starts like `w`: most word and phrase rules stop here.
  bool may_have(std::string_view w) const { return (initials & initial_bit(w)) != 0; }
  uint32_t all = 0;                 ///< union of the signals
  int fuzzy_hits = 0;               ///< signals found only by typo tolerance
  bool intro = false;               ///< the patient introduces themself ("sou a Marta")
  std::vector<bool> name;           ///< per word: a name the patient gives as their own

  bool has(uint32_t s) const { return (all & s) != 0; }
  /// True when word i is `w`, as typed or with repeated letters squeezed.
  bool is(size_t i, std::string_view w) const {
    return raw[i] == w || words[i] == w || (canon[i] && *canon[i] == w);
  }
  bool word(std::string_view w) const {
    if (!may_have(w))
      return false;
    for (size_t i = 0; i < words.size(); ++i)
      if (is(i, w))
        return true;
    return false;
  }
  bool phrase(std::initializer_list<const char*> parts) const {
    if (parts.size() > 8)
      return false;
    std::string_view p[8]; // measured once, not per word compared
    size_t k = 0;
    for (auto part : parts)
      p[k++] = part;
    return phrase(p, k);
  }
  /// The same for a phrase written with spaces ("outro horario"), e.g. from core/reading.
  bool phrase(std::string_view spaced) const {
    std::string_view p[8];
    size_t k = 0;
    for (size_t i = 0; i <= spaced.size() && k < 8;) {
      auto j = std::min(spaced.find(' ', i), spaced.size());
      p[k++] = spaced.substr(i, j - i);
      i = j + 1;
    }
    return phrase(p, k);
  }
  bool any_phrase(const word_list& phrases) const {
    for (auto p : phrases)
      if (phrase(p))
        return true;
    return false;
  }
  bool phrase(const std::string_view* p, size_t n) const {
    if (n == 0 || n > words.size() || !may_have(p[0]))
      return false;
    for (size_t i = 0; i + n <= words.size(); ++i) {
      size_t k = 0;
      while (k < n && is(i + k, p[k]))
        ++k;
      if (k == n)
        return true;
    }
    return false;
  }
};

/// A medical specialty or exam the lexicon does not list, by its ending.
bool specialty_word(std::string_view w) {
  if (w.size() > 6 && w.back() == 's')
    w.remove_suffix(1); // plurals: "psiquiatras", "psychiatrists"
  auto ends = [&](std::string_view tail) {
    return w.size() > tail.size() + 2 && w.substr(w.size() - tail.size()) == tail;
  };
  return ends("logista") || ends("ologia") || ends("iatra") || ends("ologist") || ends("iatrician")
         || ends("pedista") || ends("terapeuta") || ends("grama") || ends("grafia") || ends("scopia")
         || ends("ologo") || ends("ologa") || ends("iatria") || ends("opedia") || ends("iatrist")
         || ends("iatrics") || ends("opedist") || ends("opedics") || ends("therapy") || ends("therapist")
         || ends("terapia") || ends("ometrist") || ends("itionist") || ends("ecologia");
}

/// Marks "sou a Marta", "me chamo Marcos", "meu nome é João Carlos", "my name is Ana",
/// "I'm Tom": the patient's own name is neither a signal ("Marta" is one typo from
/// "marca") nor a professional ("Carlos", "Ana").
void mark_introduction(message& m) {
  m.name.assign(m.raw.size(), false);
  auto& lex = the_lexicon().exact;
  auto at = [&](size_t i, std::initializer_list<const char*> ws) {
    if (i + ws.size() > m.words.size())
      return false;
    size_t k = 0;
    for (auto w : ws)
      if (!m.is(i + k++, w))
        return false;
    return true;
  };
  // "hi there, Ana here": a name said before "here" after a greeting.
  if (m.words.size() >= 3 && m.words.back() == "here" && !lex.count(m.words[m.words.size() - 2])
      && lex.count(m.words[0]) && (lex.at(m.words[0]) & s_greet)) {
    m.name[m.words.size() - 2] = true;
    m.signals[m.words.size() - 2] = 0;
    m.canon[m.words.size() - 2] = nullptr;
    m.intro = true;
  }
  for (size_t i = 0; i < m.words.size(); ++i) {
    size_t after = 0;
    if (at(i, {"meu", "nome", "e"}) || at(i, {"my", "name", "is"}) || at(i, {"aqui", "quem", "fala", "e"})
        || at(i, {"quem", "escreve", "e"}))
      after = i + 3;
    else if (at(i, {"me", "chamo"}) || at(i, {"aqui", "e"}) || at(i, {"quem", "fala", "e"})
             || at(i, {"this", "is"}) || at(i, {"i", "am"}) || at(i, {"name", "is"})
             || at(i, {"names"}))
      after = i + (at(i, {"quem", "fala", "e"}) ? 3 : at(i, {"names"}) ? 1 : 2);
    else if (at(i, {"sou"}) || at(i, {"im"}))
      after = i + 1;
    else
      continue;
    if (after < m.words.size()
        && one_of(m.words[after], {"o", "a", "the", "dona", "seu", "sr", "sra", "mr", "mrs", "ms"}))
      ++after;
    size_t named = 0;
    for (size_t k = after; k < m.words.size() && named < 3; ++k) {
      auto& w = m.words[k];
      // "a mãe da Ana Clara": the relative's name follows.
      if (named == 0 && k + 1 < m.words.size()
          && one_of(w, {"mae", "pai", "filha", "filho", "esposa", "marido", "neta", "neto", "avo",
                        "vo", "irma", "irmao", "tia", "tio", "responsavel", "mother", "father",
                        "mom", "dad", "wife", "husband", "son", "daughter"})
          && one_of(m.words[k + 1], {"da", "do", "de", "of", "pela", "pelo"})) {
        ++k;
        continue;
      }
      // A word the rules know ("paciente", "queria", "amanhã") ends the name.
      if (lex.count(m.raw[k]) || lex.count(w) || w.size() < 2 || (w[0] >= '0' && w[0] <= '9')
          || one_of(w, {"paciente", "da", "do", "de", "dos", "das", "e", "mae", "pai", "filha",
                        "filho", "esposa", "marido", "nova", "novo", "new", "patient", "and",
                        "from", "with", "here", "calling", "speaking", "looking", "in", "not",
                        "an", "aqui", "por", "com", "pra", "para", "cliente", "id", "would",
                        "vou", "vim", "estou", "to", "tou", "so", "just", "trying", "going",
                        "writing", "sorry", "having", "feeling", "at", "on", "your", "um",
                        "uma", "que", "responsavel", "neta", "neto", "vo", "avo", "fine", "sick", "late",
                        "sorry", "ok", "okay", "good", "well", "bem", "mal", "doente"}))
        break;
      m.name[k] = true;
      m.signals[k] = 0;
      m.canon[k] = nullptr;
      ++named;
    }
    if (named > 0 || at(i, {"sou", "paciente"}) || at(i, {"sou", "nova"}) || at(i, {"sou", "novo"}))
      m.intro = true;
  }
}

message read_message(std::string_view text) {
  message m;
  m.raw = split_words(normalize_text(text));
  m.words.reserve(m.raw.size());
  for (auto& r : m.raw) {
    m.words.push_back(squeeze_repeats(r));
    // As typed, then squeezed ("cancelaa" → "cancela"), then one typo away.
    bool fuzzy = false;
    auto& lex = the_lexicon().exact;
    uint32_t s = 0;
    const std::string* matched = nullptr;
    if (auto it = lex.find(r); it != lex.end())
      s = it->second;
    else
      s = signals_of(m.words.back(), fuzzy, &matched);
    m.canon.push_back(matched && s != 0 ? matched : nullptr);
    if (s == 0 && specialty_word(m.words.back()))
      s = s_medical; // "endocrinologista", "gynecologist", "eletrocardiograma"
    // "like" wants only in "I'd like", "would like" ("skin stuff like moles" compares)
    const size_t at = m.words.size() - 1;
    if (r == "like" && (at == 0 || !one_of(m.raw[at - 1], {"would", "id", "d", "i", "we", "wed", "really"})))
      s = 0;
    m.signals.push_back(s);
  }
  for (size_t i = 0; i + 1 < m.words.size(); ++i) {
    // "tenho que fazer uma consulta", "I have to see": a need, not a possession
    if (one_of(m.words[i], {"tenho", "have", "has", "temos"}) && one_of(m.words[i + 1], {"que", "q", "to"}))
      m.signals[i] = s_want;
    // "ver na agenda", "minha agenda": the book itself
    if (m.words[i + 1] == "agenda" && one_of(m.words[i], {"na", "a", "minha", "sua", "da", "my", "your", "the"}))
      m.signals[i + 1] = 0;
  }
  for (size_t i = 0; i < m.raw.size(); ++i)
    m.initials |= message::initial_bit(m.raw[i]) | message::initial_bit(m.words[i])
                  | (m.canon[i] ? message::initial_bit(*m.canon[i]) : 0u);
  mark_introduction(m);
  for (size_t i = 0; i < m.raw.size(); ++i) {
    m.all |= m.signals[i];
    // A fuzzy hit counts only for a word kept as a signal (not a name).
    if (m.signals[i] && !the_lexicon().exact.count(m.raw[i])
        && !the_lexicon().exact.count(m.words[i]))
      ++m.fuzzy_hits;
  }
  return m;
}

// -- language ---

/// +1 for English, -1 for Portuguese, 0 for words both languages use.
int language_vote(std::string_view w) {
  static const std::unordered_map<std::string, int> votes = [] {
    std::unordered_map<std::string, int> v;
    for (auto w : {"the", "you", "your", "my", "is", "are", "what", "whats", "when", "where",
                   "how", "can", "could", "would", "please", "appointment", "appointments",
                   "book", "cancel", "reschedule", "hi", "hello", "hey", "yo", "greetings", "appt", "thanks", "thank",
                   "bye", "goodbye", "yes", "yeah", "yep", "yup", "nope", "nah", "want", "need",
                   "like", "have", "any", "open", "opening", "tomorrow", "today", "morning",
                   "afternoon", "evening", "next", "week", "with", "for", "at", "me", "there",
                   "it", "this", "does", "do", "much", "price", "services", "address",
                   "located", "speak", "talk", "someone", "human", "agent", "person", "real",
                   "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                   "sunday", "good", "see", "get", "make", "anything", "available", "slots",
                   "availability", "doctor", "dermatologist", "cardiologist", "cardiology",
                   "dermatology", "insurance", "thx", "ty", "u", "r", "ur", "pls", "plz", "now", "weather", "accept", "take", "credit", "cards",
                   "won", "world", "cup", "so", "visit", "schedule", "change", "move",
                   "general", "practitioner", "phone", "number", "sure", "of", "i", "im", "id",
                   "hours", "time", "close", "an", "am", "pm", "in", "on", "we", "be",
                   "list", "cost", "offer", "which", "who", "why", "should", "will", "just",
                   "there", "clinic", "lol", "sounds", "great", "fine", "later", "soon",
                   "tonight", "day", "after", "before", "still", "again", "want", "wanna", "lot",
                   "cheers", "mate", "cya", "nice", "care", "anyone", "anybody", "bring",
                   "parking", "bus", "subway", "station", "fast", "earlier", "later", "that",
                   "uses", "mother", "father", "wife", "husband", "kid", "son", "daughter",
                   "wheelchair", "theres", "nobody", "answering", "here", "absolutely", "definitely",
                   "certainly", "alright", "perfect", "sounds", "works", "really"})
      v[w] = 1;
    for (auto w : {"de", "da", "do", "o", "que", "quero", "qro", "vc", "vcs", "voce",
                   "voces", "pra", "para", "pro", "por", "favor", "pfv", "pf", "tem", "com",
                   "uma", "um", "consulta", "marcar", "agendar", "amanha", "hoje", "hj", "oi",
                   "ola", "obrigado", "obrigada", "sim", "nao", "minha", "meu", "minhas",
                   "qual", "quais", "quanto", "onde", "horario", "e", "dia", "semana",
                   "manha", "tarde", "noite", "segunda", "terca", "quarta", "quinta", "sexta",
                   "sabado", "domingo", "tchau", "valeu", "vlw", "bom", "boa", "tudo", "bem",
                   "eu", "me", "ai", "aqui", "gostaria", "queria", "preciso", "pode", "posso",
                   "como", "quando", "esta", "ta", "tao", "abre", "abrem", "endereco",
                   "cancelar", "remarcar", "desmarcar", "falar", "pessoa", "atendente",
                   "kd", "cade", "s", "n", "claro", "isso", "blz", "beleza", "obg", "no", "na",
                   "nos", "as", "os", "a", "em", "se", "mais", "ate", "logo", "mesmo", "fica",
                   "ficam", "clinica", "custa", "preco", "valor", "dra", "doutora", "doutor",
                   "eae", "opa", "salve", "oie", "flw", "falou", "certo", "ok", "pfvr", "qr",
                   "tenho", "ver", "vou", "ir", "sei", "depois", "agora", "seu", "sua",
                   "kkk", "kkkk", "haha", "hahaha", "rs", "entao", "ja", "so", "muito"})
      v[w] = v.count(w) ? 0 : -1;
    return v;
  }();
  auto it = votes.find(std::string(w));
  return it == votes.end() ? 0 : it->second;
}

std::string detect_language(const message& m, std::string_view lang_hint,
                            const clinic_profile& clinic) {
  int en = 0, pt = 0;
  for (size_t i = 0; i < m.words.size(); ++i) {
    auto& w = m.words[i];
    int v = language_vote(m.raw[i]);
    if (v == 0)
      v = language_vote(w);
    // "no" is English only when it answers alone ("no", "no thanks").
    if (w == "no" && i == 0)
      v = m.words.size() == 1 || language_vote(m.words[1]) > 0 ? 1 : -1;
    if (v > 0)
      ++en;
    else if (v < 0)
      ++pt;
    else if (w.size() > 2 && w.size() < 16 && (w.back() == 'm' && w[w.size() - 2] == 'p'))
      ++en; // "2pm"
  }
  if (en > pt)
    return "en";
  if (pt > en)
    return "pt-BR";
  if (lang_hint == "en" || lang_hint == "pt-BR")
    return std::string(lang_hint);
  return clinic.language == "en" ? "en" : "pt-BR";
}

} // namespace

std::string language_of(std::string_view text) {
  int en = 0, pt = 0;
  for (auto& w : split_words(normalize_text(text))) {
    int v = language_vote(w);
    en += v > 0;
    pt += v < 0;
  }
  return en > pt ? "en" : pt > en ? "pt-BR" : "";
}

namespace {

// -- yes / no ---

/// true/false when the message opens with an answer ("sim", "pode ser", "não, obrigado").
std::optional<bool> detect_yes_no(const message& m, std::string_view text) {
  // A thumbs-up alone is a yes on WhatsApp.
  if (m.words.empty())
    return text.find("\xF0\x9F\x91\x8D") != std::string_view::npos ? std::optional<bool>(true)
                                                                     : std::nullopt;
  auto& w = m.words;
  const auto& first = one_of(m.raw[0], {"isso", "yess", "okk", "correto"}) ? m.raw[0] : w[0];
  auto second = w.size() > 1 ? std::string_view(w[1]) : std::string_view();
  // "claro que não" says no.
  if (first == "claro" && second == "que" && w.size() > 2 && one_of(w[2], {"nao", "n", "naum"}))
    return false;
  // "pode" opens requests too ("pode marcar?"): only "pode", "pode ser", "pode sim", "pode deixar" answer.
  if ((in_list(first, yes_words())
       && (first != "pode" || w.size() == 1 || one_of(second, {"ser", "sim", "sr", "deixar", "crer"})))
      || (first == "of" && second == "course") || (first == "com" && second == "certeza")
      || (first == "tudo" && second == "certo" && w.size() == 2)
      // "tá bom", "tá certo", "tá ótimo", "tá" alone; "quero sim"
      || (one_of(first, {"ta", "tah"})
          && (w.size() == 1 || one_of(second, {"bom", "boa", "certo", "otimo", "joia", "ok", "beleza", "combinado",
                                               "fechado", "perfeito", "bem"})))
      || (first == "quero" && second == "sim") || (first == "com" && second == "ctz")
      || (first == "certeza" && w.size() == 1) || (first == "sounds" && m.raw.size() > 1 && m.raw[1] == "good")
      || (first == "that" && second == "works" && w.size() == 2)) {
    // "ok" opening a real request still counts as agreement; "s" must stand alone.
    if (in_list(first, lone_yes_words()) && w.size() > 1)
      return std::nullopt;
    return true;
  }
  // "de jeito nenhum", "nem pensar": a no that opens with other words
  if (m.phrase({"de", "jeito", "nenhum"}) || (first == "nem" && second == "pensar")
      || (first == "jamais" && w.size() == 1) || (first == "nops" && w.size() == 1)
      || (first == "not" && m.raw.size() == 2 && m.raw[1] == "really"))
    return false;
  if (in_list(first, no_words())) {
    // Only a standalone negative is an answer: "não", "não, obrigado", "não quero",
    // not "não vou poder ir".
    if (w.size() == 1)
      return false;
    auto pos = std::string_view(text).find_first_not_of(" \t");
    if (pos != std::string_view::npos) {
      // Comma or period right after the negative word in the original text.
      auto rest = text.substr(pos);
      size_t k = 0;
      while (k < rest.size() && static_cast<unsigned char>(rest[k]) >= 0x41)
        ++k;
      while (k < rest.size() && rest[k] == ' ')
        ++k;
      if (k < rest.size() && (rest[k] == ',' || rest[k] == '.' || rest[k] == '!'))
        return false;
    }
    if (second == "quero" && w.size() > 2
        && !one_of(w[2], {"obrigado", "obrigada", "obg", "nada", "agora", "nao", "valeu"}))
      return std::nullopt; // "não quero mais a consulta": a statement, not an answer
    if (one_of(second, {"obrigado", "obrigada", "obg", "thanks", "thank", "valeu", "vlw",
                        "brigado", "brigada", "precisa", "need", "quero", "obrigadao"}))
      return false;
    if (w.size() == 2 && !(m.signals[1] & (s_cancel | s_reschedule | s_book)))
      return false;
    return std::nullopt;
  }
  return std::nullopt;
}

// -- intent rules ---

struct decision {
  intent what = intent::unknown;
  double confidence = 0.0;
  bool clinic_topic = false;
  std::string topic; ///< for clinic_question
};

bool greeting_phrase(const message& m) {
  return m.phrase({"bom", "dia"}) || m.phrase({"boa", "tarde"}) || m.phrase({"boa", "noite"})
         || m.phrase({"bo", "dia"}) || m.phrase({"good", "morning"})
         || m.phrase({"good", "afternoon"}) || m.phrase({"good", "evening"})
         || m.phrase({"e", "ai"}) || m.phrase({"tudo", "bem"}) || m.phrase({"tudo", "bom"})
         || m.phrase({"tudo", "certo"}) || m.phrase({"como", "vai"}) || m.phrase({"com", "licenca"});
}

bool goodbye_phrase(const message& m) {
  return m.phrase({"ate", "mais"}) || m.phrase({"ate", "logo"}) || m.phrase({"ate", "breve"})
         || m.phrase({"see", "you"}) || m.phrase({"see", "ya"}) || m.phrase({"thank", "you"})
         || m.phrase({"ate", "amanha"});
}

/// What a question about the clinic is about, when the built-in answers (hours, services,
/// location) do not cover it; empty when the message asks nothing of the kind.
std::string topic_of(const message& m) {
  auto any = [&](std::initializer_list<const char*> ws) {
    for (auto w : ws)
      if (m.word(w))
        return true;
    return false;
  };
  const bool price = m.has(s_price) || m.phrase({"how", "much"});
  // Moving an appointment forward is not about what to bring.
  const bool companion =
    any({"acompanhante", "acompanhantes", "companion", "chaperone"})
    || ((m.phrase({"posso", "levar"}) || m.phrase({"pode", "levar"}) || m.phrase({"can", "i", "bring"})
         || m.phrase({"bring", "my"}))
        && !m.phrase({"o", "que"}) && !m.word("what")
        && !any({"lanche", "comida", "agua", "garrafa", "snack", "food", "water"}))
    || (m.word("levar") && m.word("junto")) || m.phrase({"come", "in", "with", "me"})
    || ((m.phrase({"posso", "trazer"}) || m.phrase({"pode", "trazer"})) && !m.has(s_appointment))
    || (m.word("comigo") && any({"trazer", "levar", "traz", "leva", "entrar", "vir", "ir"}))
    || m.phrase({"come", "with", "me"}) || m.phrase({"entrar", "comigo"})
    || m.phrase({"entrar", "junto"});
  if (any({"convenio", "convenios", "unimed", "amil", "bradesco", "sulamerica", "hapvida",
           "notredame", "intermedica", "cassi", "geap", "sus", "insurance", "insurances",
           "reembolso", "coparticipacao", "insured", "golden", "prevent", "omint", "allianz",
           "careplus", "medicare", "medicaid", "aetna", "cigna", "bupa", "credenciado", "credenciada",
           "credenciados", "ipsemg", "iamspe", "fusex", "copay",
           "deductible", "coverage"})
      || m.phrase({"porto", "seguro"}) || m.phrase({"blue", "cross"}) || m.phrase({"blue", "shield"})
      || m.word("bluecross") || m.word("seguradora") || m.phrase({"seguro", "saude"})
      || m.phrase({"health", "plan"}) || m.phrase({"united", "healthcare"}) || m.word("kaiser")
      || (any({"plano", "planos"}) && !m.word("pagamento"))
      || (any({"plan", "plans"}) && any({"health", "accept", "take", "cover", "covered"}))
      || m.word("covered") || (m.word("cobre") && m.has(s_appointment))
      || m.phrase({"in", "network"}) || m.phrase({"ipe", "saude"})
      || (any({"conveniado", "conveniada", "conveniados"}) && !any({"estacionamento", "parking", "garagem"}))
      // "aceitam X saúde?": a health plan by a name the list lacks
      || (m.word("saude") && any({"aceita", "aceitam", "aceite", "pega", "pegam", "trabalham"}))
      // "é só particular?", "particular ou convênio?" (not the price of a private visit)
      || (m.word("particular") && !price
          && (m.phrase({"so", "particular"}) || m.phrase({"e", "particular"}) || m.phrase({"particular", "ou"})
              || m.phrase({"ou", "particular"}) || m.phrase({"apenas", "particular"})
              || m.phrase({"somente", "particular"}) || any({"atende", "atendem", "aceita", "aceitam"})))
      || (m.word("carteirinha") && !any({"levar", "levo", "trazer", "bring"})))
    return "insurance";
  // Parking before payment: "o estacionamento é pago?" asks about the parking.
  if (any({"estacionamento", "estacionar", "estaciono", "estaciona", "parking", "park",
           "manobrista", "valet", "garagem", "garage", "carpark", "bicicletario", "bicicleta", "bike"})
      || m.phrase({"car", "park"}) || m.phrase({"zona", "azul"})
      // a car and where it stays: "onde eu paro o carro", "tem vaga pra carro", "leave my car"
      || (any({"carro", "car", "moto", "veiculo", "vehicle"})
          && any({"parar", "paro", "deixar", "deixo", "deixa", "vaga", "vagas", "lugar", "leave",
                  "guardar", "guardo"})))
    return "parking";
  if (any({"pix", "cartao", "cartoes", "credito", "debito", "card", "cards", "cash", "dinheiro",
           "parcelar", "parcela", "parcelas", "parcelado", "parcelamento", "pagamento",
           "payment", "payments", "boleto", "maquininha", "venmo", "transferencia", "cheque",
           "cheques", "installments", "installment", "especie", "paypal", "picpay", "troco", "debit", "visa",
           "mastercard", "amex", "hipercard", "cobrado", "cobrada", "gratuito", "gratuita", "gratis", "taxa"})
      || (m.phrase({"a", "vista"}) && (price || any({"pagar", "paga", "pagamento"})))
      || (any({"pagar", "pago", "paga", "pagamos", "pay", "paying"}) && !price))
    return "payment";
  if (any({"metro", "onibus", "bus", "buses", "subway", "trem", "train", "uber", "taxi",
           "transporte", "estacao", "station", "brt", "vlt", "transport", "transit", "tram", "lotacao",
           "busao", "buzao", "onibus", "trens"}))
    return "transport";
  if (any({"acessibilidade", "acessivel", "cadeirante", "cadeirantes", "rampa", "elevador",
           "elevator", "lift", "wheelchair", "accessible", "accessibility", "escada", "escadas",
           "stairs", "andador", "muleta", "muletas", "adaptado", "adaptada", "terreo", "ramp", "ramps", "pcd", "carrinho", "stroller",
           "deficiente", "deficientes", "deficiencia", "disabled", "disability", "mobility"})
      || m.phrase({"cadeira", "de", "rodas"}) || m.phrase({"mobilidade", "reduzida"})
      || m.phrase({"step", "free"}))
    return "accessibility";
  if (companion)
    return "companion";
  if (any({"jejum", "fasting", "preparo", "preparacao", "antecedencia"})
      || (m.word("fast") && (m.word("before") || m.word("need") || m.word("should")))
      || m.phrase({"o", "que", "levar"}) || m.phrase({"preciso", "levar"})
      || m.phrase({"precisa", "levar"}) || m.phrase({"tenho", "que", "levar"})
      || m.phrase({"devo", "levar"}) || m.phrase({"que", "eu", "levo"}) || m.phrase({"tem", "que", "levar"})
      || m.phrase({"oq", "levar"}) || m.phrase({"oq", "eu", "levo"}) || m.phrase({"oque", "levar"})
      || m.phrase({"empty", "stomach"}) || any({"bexiga", "bladder"})
      || (any({"roupa", "roupas", "wear", "clothes", "bermuda", "chinelo", "shorts"}) && (m.has(s_appointment | s_medical) || any({"ir", "vir", "usar"})))
      || (any({"levar", "levo", "trazer", "bring"}) && any({"rg", "cpf", "documento", "documentos", "carteirinha",
                                                             "id", "documents", "identidade"}))
      || (m.word("bring") && !m.word("forward")) || m.phrase({"how", "early"})
      || m.phrase({"arrive", "early"}) || (m.word("antes") && m.word("chegar"))
      || m.phrase({"chegar", "mais", "cedo"}) || m.phrase({"como", "me", "preparar"})
      || m.phrase({"how", "to", "prepare"})
      || (any({"antes", "before"}) && any({"exame", "exames", "exam", "test", "ultrassom", "procedimento", "cirurgia",
                                           "surgery", "procedure"}))
      || (any({"comer", "beber", "eat", "drink", "tomar"}) && any({"antes", "before"})))
    return "preparation";
  // Reading a result is medical advice, not a question about the clinic ("deu alto, é grave?").
  const bool interpreting = any({"grave", "normal", "alterado", "alterada", "significa", "preocupante", "serious",
                                 "mean", "means", "bad", "alto", "alta", "baixo", "baixa"});
  if ((any({"resultado", "resultados", "results", "result", "laudo", "laudos", "biopsia"})
       || (any({"exame", "exames", "test", "tests"}) && any({"pronto", "pronta", "prontos", "ready", "saiu"})))
      && !interpreting)
    return "results";
  if (any({"atestado", "atestados", "receita", "receitas", "prescription", "prescriptions",
           "certificate", "declaracao", "relatorio", "comprovante", "prontuario", "encaminhamento", "referral",
           "recibo", "receipt", "invoice", "requisicao"})
      || m.phrase({"pedido", "medico"}) || m.phrase({"nota", "fiscal"}) || m.phrase({"guia", "medica"})
      || m.phrase({"segunda", "via"}) || m.phrase({"sick", "note"})
      || m.phrase({"doctors", "note"}))
    return "documents";
  if (m.phrase({"wi", "fi"}) || any({"wifi", "banheiro", "banheiros", "bathroom", "restroom", "toilet", "cafe", "coffee",
           "lanchonete", "tomada", "fraldario", "bebedouro", "agua", "cafezinho", "water", "snack", "lanche", "sentar", "comida"})
      || m.phrase({"sala", "de", "espera"}) || m.phrase({"ar", "condicionado"})
      || m.phrase({"waiting", "room"}))
    return "amenities";
  if (m.phrase({"sem", "hora", "marcada"}) || m.phrase({"sem", "horario", "marcado"})
      || m.phrase({"sem", "agendamento"}) || m.phrase({"sem", "agendar"}) || m.phrase({"ir", "direto"})
      || m.phrase({"ordem", "de", "chegada"}) || m.word("walkins") || m.phrase({"walk", "in"})
      || m.phrase({"walk", "ins"}) || m.phrase({"without", "an", "appointment"}))
    return "walk_in";
  if (any({"teleconsulta", "telemedicina", "online", "presencial", "video", "videochamada", "telehealth",
           "telemedicine", "remote", "remotely", "virtual"}))
    return "telehealth";
  if (m.phrase({"quanto", "tempo", "dura"}) || m.phrase({"quanto", "tempo", "demora"})
      || m.phrase({"how", "long", "does"}) || m.phrase({"how", "long", "is"}) || m.phrase({"how", "long", "will"})
      || m.phrase({"quanto", "tempo", "leva"}) || m.phrase({"leva", "quanto", "tempo"}) || m.phrase({"dura", "quanto"})
      || m.phrase({"demora", "quanto"}) || m.phrase({"tempo", "de", "espera"}) || m.phrase({"wait", "time"})
      || m.phrase({"waiting", "time"}) || (m.phrase({"quanto", "tempo"}) && !m.has(s_mine | s_booked))
      || (any({"demora", "demorado", "demorada"})
          && (m.has(s_appointment) || any({"exame", "exames", "atendimento", "procedimento", "ultrassom", "cirurgia"}))))
    return "duration";
  if ((any({"ingles", "english", "espanhol", "spanish", "libras"}) && any({"fala", "falam", "speak", "speaks", "atende"}))
      || m.phrase({"sign", "language"}))
    return "language";
  if (m.has(s_clinic_other))
    return "other";
  return {};
}

/// "não vai poder ir", "não vou conseguir comparecer", "não vou na consulta", "I can't
/// attend": a negation, a few helper verbs, then going (or the appointment itself).
bool not_going(const message& m) {
  const auto& w = m.words;
  for (size_t i = 0; i < w.size(); ++i) {
    if (!one_of(w[i], {"nao", "naum", "n"}))
      continue;
    for (size_t k = i + 1; k < w.size() && k <= i + 5; ++k) {
      if (one_of(w[k], {"ir", "comparecer", "vir", "irei", "comparecerei", "iremos"}))
        return true;
      // "não vou poder levar ele na consulta" (not "não preciso levar nada")
      if (w[k] == "levar" && m.has(s_appointment) && k + 1 < w.size()
          && one_of(w[k + 1], {"ele", "ela", "o", "a", "meu", "minha", "eles", "elas"}))
        return true;
      // "não vou na consulta", "não vai ao exame"
      if (k > i + 1 && one_of(w[k], {"na", "no", "ao", "a"}) && one_of(w[k - 1], {"vou", "vai", "vo", "vamos", "iremos"})
          && k + 1 < w.size() && ((m.signals[k + 1] & s_appointment) || one_of(w[k + 1], {"exame", "retorno"})))
        return true;
      if (!one_of(w[k], {"vou", "vai", "vamos", "vo", "poder", "pode", "posso", "podemos", "conseguir", "consigo",
                         "consegue", "consegui", "da", "dar", "pra", "para", "mais", "mesmo", "tenho", "tem",
                         "como", "vai", "poderei", "podera", "ele", "ela", "eu", "rolar", "rola", "quero",
                         "queremos", "preciso"}))
        break;
    }
  }
  return m.phrase({"cant", "attend"}) || m.phrase({"cannot", "attend"}) || m.phrase({"wont", "be", "there"})
         || m.phrase({"not", "able", "to"}) || m.phrase({"unable", "to"}) || m.phrase({"miss", "my"})
         || m.phrase({"to", "miss", "the"}) || m.phrase({"not", "gonna", "make"}) || m.phrase({"gonna", "miss"})
         || m.phrase({"cant", "do", "my"}) || m.phrase({"wont", "be", "coming"}) || m.phrase({"not", "be", "coming"})
         || m.phrase({"wont", "come"})
         || m.phrase({"cant", "do", "the"}) || m.phrase({"wont", "make"}) || m.phrase({"nao", "estarei"})
         || m.phrase({"cant", "be", "there"}) || m.phrase({"not", "be", "able", "to", "attend"});
}

decision decide_intent(const message& m, const entities& e, bool service, bool professional,
                       std::optional<bool> yes_no) {
  const bool fuzzy = m.fuzzy_hits > 0;
  auto sure = [&](intent i, double c) { return decision{i, fuzzy ? c - 0.1 : c, false, {}}; };
  const bool when = e.date || e.date_from || e.time || e.period;
  const bool cant_go = m.phrase({"nao", "vou", "poder", "ir"}) || m.phrase({"nao", "vou", "conseguir", "ir"})
                       || m.phrase({"nao", "posso", "ir"}) || m.phrase({"cant", "make", "it"})
                       || m.phrase({"nao", "vou", "mais", "precisar"})
                       || m.phrase({"nao", "vou", "poder", "comparecer"})
                       || m.phrase({"nao", "vou", "consegui"}) || m.phrase({"nao", "vo", "consegui"})
                       || m.phrase({"nao", "vo", "pode"}) || m.phrase({"nao", "vo", "poder"})
                       || not_going(m);

  // 0. A greeting that only introduces the patient ("oi, sou a Marta, tudo bem?").
  constexpr uint32_t small_talk = s_greet | s_thanks | s_mine | s_have | s_person;
  if (m.intro && !(m.all & ~small_talk) && !service && !when)
    return sure(intent::greeting, 0.9);
  // Giving an appointment up in everyday words ("desisti", "pode tirar meu nome").
  const bool own_thing = m.has(s_appointment | s_mine | s_horario | s_booked)
                         || m.word("exame") || m.word("it");
  const bool give_up =
    m.phrase({"nao", "vou", "mais"}) || m.phrase({"nao", "preciso", "mais"})
    || m.phrase({"nao", "vou", "comparecer"}) || m.phrase({"nao", "vou", "conseguir", "comparecer"})
    || m.phrase({"nao", "vou", "poder", "comparecer"}) || m.phrase({"dar", "baixa"})
    || m.phrase({"tirar", "meu", "nome"}) || m.phrase({"tira", "meu", "nome"})
    || ((m.word("tira") || m.word("tirar") || m.word("libera") || m.word("liberar")
         || m.word("esquece") || m.word("esqueca") || m.word("esquecer") || m.word("remove") || m.word("delete") || m.word("riscar")
         || m.word("risca") || m.word("forget") || m.word("retirar") || m.word("retira")
         || m.word("apagar") || m.word("apaga") || m.word("remover") || m.word("remova")
         || m.word("deletar") || m.word("deleta"))
        && own_thing)
    || m.phrase({"remove", "me"}) || m.phrase({"take", "me", "off"})
    // "pode dar minha vaga pra outra pessoa", "give my slot to someone else", "free up my spot"
    || (((m.word("give") || m.word("liberar") || m.word("free"))
         || ((m.word("dar") || m.word("da") || m.word("passar"))
             && (m.phrase({"outra", "pessoa"}) || m.phrase({"outro", "paciente"}) || m.word("alguem"))))
        && (m.phrase({"minha", "vaga"}) || m.phrase({"my", "slot"}) || m.phrase({"my", "spot"})
            || m.phrase({"meu", "horario"}) || m.phrase({"my", "place"})))
    || m.phrase({"free", "up", "my"})
    || (m.any_phrase(quit_phrases()) && own_thing)
    || m.phrase({"call", "off"}) || m.phrase({"wont", "be", "able"})
    || m.phrase({"not", "coming"}) || m.phrase({"cant", "come"}) || m.phrase({"cannot", "come"})
    || m.phrase({"wont", "make", "it"}) || m.phrase({"not", "going", "to", "make", "it"})
    || (m.phrase({"dont", "need"}) && m.word("anymore"))
    || m.phrase({"abrir", "mao"}) || m.phrase({"abrindo", "mao"}) || m.phrase({"abro", "mao"})
    || m.phrase({"not", "going"})
    || m.phrase({"nao", "vou", "precisar"}) || m.phrase({"nao", "vamos", "precisar"})
    || m.phrase({"wont", "need"}) || m.phrase({"dont", "need", "my"})
    || m.phrase({"nao", "vai", "dar"}) || m.phrase({"nao", "poderei"}) || m.phrase({"nao", "consigo", "ir"})
    || m.phrase({"nao", "tenho", "mais", "como"}) || m.phrase({"nao", "tenho", "como", "ir"})
    || m.phrase({"nao", "da", "pra", "ir"}) || m.phrase({"cant", "go"}) || m.phrase({"cannot", "go"})
    || m.phrase({"not", "able", "to", "come"}) || m.phrase({"unable", "to", "come"})
    || (m.phrase({"no", "longer", "need"}));
  // ("agenda" names the book here: "riscar meu nome da agenda")
  const bool the_book = m.word("agenda") || m.phrase({"the", "schedule"}) || m.phrase({"your", "schedule"});
  if (give_up && !m.has(s_reschedule) && !(m.has(s_change) && when) && !(m.has(s_book) && !the_book))
    return sure(intent::cancel, 0.85);
  // "passar com um dermatologista" is seeing a doctor, not moving anything.
  const bool see_doctor =
    (m.word("passar") || m.word("passa")) && !m.has(s_horario)
    && (!m.has(s_appointment) || m.phrase({"passar", "por"}))
    && (m.phrase({"passar", "com"}) || m.phrase({"passar", "no"}) || m.phrase({"passar", "na"})
        || m.phrase({"passar", "pelo"}) || m.phrase({"passar", "pela"}) || m.phrase({"passa", "com"})
        || m.phrase({"passar", "por", "uma"}) || m.phrase({"passar", "por", "um"}) || m.phrase({"passar", "em"})
        || m.phrase({"passar", "num"}) || m.phrase({"passar", "numa"}) || m.phrase({"passar", "ai"}) || m.phrase({"passar", "aqui"}) || m.phrase({"passar", "la"}));
  // 1. Reschedule beats cancel and book ("remarcar" contains "marcar").
  if (m.has(s_reschedule))
    return sure(intent::reschedule, 0.95);
  const bool sooner_or_later = m.word("earlier") || m.phrase({"mais", "cedo"})
                               || m.phrase({"mais", "tarde"}) || m.phrase({"a", "bit", "later"})
                               || m.phrase({"do", "it", "later"}) || m.any_phrase(other_time_phrases())
                               || m.phrase({"pra", "frente"})
                               || m.phrase({"pra", "antes"}) || m.phrase({"para", "antes"})
                               || m.word("sooner") || m.phrase({"ir", "antes"}) || m.phrase({"vir", "antes"})
                               || m.phrase({"move", "it", "up"}) || m.phrase({"move", "up"})
                               || m.phrase({"it", "up"})
                               || m.phrase({"later", "one"}) || m.phrase({"earlier", "one"});
  // A clinic question that only sounds like moving ("posso trazer minha mãe na consulta?",
  // "preciso chegar mais cedo?", "onde deixo o carro no dia da consulta?").
  bool strong_change = false;
  for (size_t i = 0; i < m.words.size(); ++i)
    strong_change = strong_change || ((m.signals[i] & s_change)
                                      && !one_of(m.words[i], {"deixar", "trazer", "traz", "passar", "passa", "jogar",
                                                              "joga", "deixa", "deixo"}));
  if ((m.has(s_change) || sooner_or_later) && !strong_change && !cant_go && !m.has(s_off_topic)) {
    auto topic = topic_of(m);
    if (!topic.empty() && topic != "other" && !m.has(s_book))
      return decision{intent::clinic_question, fuzzy ? 0.7 : 0.8, true, std::move(topic)};
  }
  // Something came up: the appointment exists and the patient wants another time.
  const bool came_up = m.phrase({"came", "up"}) || m.word("imprevisto") || m.word("surgiu") || cant_go;
  if (sooner_or_later && (m.has(s_appointment | s_change | s_mine) || m.word("it") || came_up)
      && !m.has(s_book) && !see_doctor)
    return sure(intent::reschedule, 0.8);
  if ((m.word("transferir") || m.word("transfere")) && m.has(s_appointment))
    return sure(intent::reschedule, 0.8);
  if (m.has(s_change) && !see_doctor && (m.has(s_appointment) || m.has(s_horario)
                          || m.word("data") || m.word("date") || m.word("dia")))
    return sure(intent::reschedule, 0.85);
  if (m.has(s_change) && when && !m.has(s_book) && !see_doctor)
    return sure(intent::reschedule, 0.75); // "posso trocar pra quinta?"
  // "a consulta de sexta pode ser segunda?", "could it be wednesday instead?"
  if (e.original_date && e.new_date && m.has(s_appointment | s_mine | s_booked) && !m.has(s_book | s_cancel))
    return sure(intent::reschedule, 0.75);
  // 2. Cancel beats "consulta"; cancel and book again is a reschedule.
  if (m.has(s_cancel) && m.has(s_book))
    return sure(intent::reschedule, 0.8);
  if (m.has(s_cancel))
    return sure(intent::cancel, 0.95);
  if (cant_go)
    return sure(intent::cancel, 0.75);
  // A contact of the clinic ("qual o whatsapp da recepção?") is where it is reached.
  if ((m.word("whatsapp") || m.word("zap") || m.word("email") || m.word("telefone") || m.word("fone"))
      && !m.has(s_talk) && !m.has(s_person) && !m.has(s_book))
    return sure(intent::location, 0.85);
  if ((m.word("numero") || m.word("number")) && (m.has(s_talk) || m.word("contato") || m.word("contact"))
      && !m.has(s_person | s_human | s_book) && !m.phrase({"me", "liga"}))
    return sure(intent::location, 0.8); // "tem algum número pra eu ligar?"
  // 3. Asking for a person ("quero falar com uma atendente pra marcar" asks for the person),
  // unless the front desk is only where something is ("tem cafezinho na recepção?").
  // ("a recepção fica em qual andar?" asks where it is).
  bool desk_as_place = m.has(s_human) && !m.has(s_talk | s_person);
  for (size_t i = 0; i < m.words.size() && desk_as_place; ++i)
    if (m.signals[i] & s_human)
      desk_as_place = m.is(i, "recepcao") || m.is(i, "reception");
  if (desk_as_place && !m.has(s_off_topic)) {
    if (auto topic = topic_of(m); !topic.empty())
      return decision{intent::clinic_question, fuzzy ? 0.7 : 0.8, true, std::move(topic)};
    if (m.has(s_place) || m.word("fica"))
      return sure(intent::location, 0.8);
  }
  if (m.has(s_human) && (!m.has(s_book) || m.has(s_talk)))
    return sure(intent::human, 0.95);
  if (m.has(s_person) && m.has(s_talk))
    return sure(intent::human, 0.9);
  if ((m.phrase({"me", "liga"}) || m.phrase({"me", "ligar"}) || m.phrase({"call", "me"})
       || m.phrase({"liga", "pra", "mim"}) || m.phrase({"ligar", "pra", "mim"}) || m.phrase({"liguem", "pra", "mim"})
       || m.phrase({"call", "back"}) || m.phrase({"transfer", "me"}) || m.phrase({"me", "transfere"})
       || m.phrase({"falar", "com"}) || m.phrase({"speak", "to"}) || m.phrase({"talk", "to"})
       || m.phrase({"put", "me", "through"}) || m.phrase({"me", "passa", "pra"}) || m.phrase({"me", "passa", "para"}))
      && !m.has(s_book))
    return sure(intent::human, 0.8);
  // Whether anyone is there ("tem alguém aí?", "is anyone there?", "alguém me ajuda?").
  const bool be_seen = m.phrase({"see", "someone"}) || m.phrase({"seeing", "someone"}) || m.phrase({"see", "me"})
                       || m.phrase({"me", "ver"}) || m.phrase({"me", "atender"});
  if (m.has(s_person) && !service && !be_seen
      && (m.word("ai") || m.word("there") || m.word("help") || m.word("ajudar") || m.word("online")
          || m.word("ajuda") || m.word("atendendo") || m.word("responder")
          || m.word("responde")))
    return sure(intent::human, 0.85);
  if (m.has(s_person) && !(m.all & ~(s_person | s_greet)) && !service && !professional
      && !m.word("robo") && !m.word("bot") && m.words.size() <= 5 && !when)
    return sure(intent::human, 0.75); // "alô? alguém?"
  // "esse atendimento automático não tá me ajudando", "this bot is useless, get me someone"
  if ((m.word("robo") || m.word("bot") || m.word("automatico") || m.word("automated") || m.word("machine")
       || m.word("virtual") || m.word("maquina"))
      && (m.word("nao") || m.word("not") || m.word("useless") || m.word("inutil") || m.word("ajudando")
          || m.word("helping") || m.word("alguem") || m.word("pessoa") || m.word("someone") || m.word("person")
          || m.word("human") || m.word("humano") || m.phrase({"get", "me"})))
    return sure(intent::human, 0.8);
  if (m.phrase({"get", "me", "someone"}) || m.phrase({"get", "me", "a", "person"}))
    return sure(intent::human, 0.8);
  if (m.phrase({"tem", "gente", "ai"}) || m.phrase({"tem", "gente", "atendendo"}))
    return sure(intent::human, 0.8);
  if ((m.word("ninguem") || m.word("nobody")) && (m.word("responder") || m.word("responde")
                                                   || m.word("answer") || m.word("atende")
                                                   || m.word("answering") || m.word("respondendo")
                                                   || m.word("atendendo") || m.word("responds")))
    return sure(intent::human, 0.8);
  // 3b. Questions about the clinic the built-in answers do not cover (insurance, parking,
  // preparation for an exam): answered from the clinic's FAQ.
  if (!m.has(s_off_topic)) {
    auto topic = topic_of(m);
    // A booking verb wins ("quero marcar, aceitam unimed?") except when the question is
    // whether one needs to book at all.
    if (!topic.empty() && (!m.has(s_book) || topic == "walk_in"))
      return decision{intent::clinic_question, fuzzy ? 0.7 : 0.8, true, std::move(topic)};
  }
  // 4. The patient's own appointments.
  const bool asks_when = m.phrase({"que", "horas"}) || m.phrase({"q", "horas"}) || m.word("quando")
                         || m.phrase({"que", "dia"}) || m.phrase({"qual", "dia"})
                         || m.phrase({"what", "time"}) || m.word("when")
                         || m.phrase({"what", "day"}) || m.phrase({"which", "day"})
                         || m.phrase({"qual", "medico"}) || m.phrase({"qual", "medica"})
                         || m.phrase({"which", "doctor"}) || m.phrase({"qual", "o", "horario"})
                         || m.phrase({"qual", "horario"}) || m.phrase({"que", "horario"})
                         || m.phrase({"quem", "vai", "me"}) || m.phrase({"com", "quem"})
                         || m.phrase({"who", "am", "i"}) || m.phrase({"who", "will", "see"})
                         || m.phrase({"who", "is", "my"}) || m.phrase({"whos", "my"})
                         || m.phrase({"vai", "me", "atender"}) || m.phrase({"who", "will", "i", "see"})
                         || m.phrase({"vai", "atender"}) || m.phrase({"qual", "doutor"})
                         || m.phrase({"qual", "doutora"});
  // Checking on something rather than asking for something new.
  const bool checking = m.word("saber") || m.word("confirmar") || m.word("lembrar") || m.word("ver")
                        || m.word("see") || m.word("olhar") || m.word("know") || m.word("check")
                        || m.word("confirm") || m.word("verificar") || m.word("conferir") || m.word("checar")
                        || m.word("consultar") || m.word("verify") || m.phrase({"look", "up"});
  const bool exam_or_return = m.word("exame") || m.word("exam") || m.word("retorno") || m.word("ultrassom")
                              || m.word("ultrasound") || m.word("scan") || m.word("checkup")
                              || m.phrase({"blood", "test"}) || m.phrase({"check", "up"});
  const bool me_there = m.phrase({"eu", "tenho", "que"}) || m.phrase({"me", "atender"})
                        || m.phrase({"am", "i"}) || m.phrase({"should", "i", "be"})
                        || m.phrase({"do", "i", "need", "to", "be"}) || m.phrase({"vai", "me"})
                        || m.phrase({"i", "have", "to", "come"}) || m.phrase({"tenho", "que", "ir"})
                        || m.phrase({"tenho", "que", "vir"}) || m.phrase({"do", "i", "come"})
                        || m.phrase({"vai", "atender"}) || m.phrase({"tenho", "que", "estar"})
                        || m.phrase({"have", "to", "come"}) || m.phrase({"have", "to", "be"})
                        || m.phrase({"devo", "chegar"}) || m.phrase({"devo", "estar"}) || m.phrase({"devo", "ir"})
                        || m.phrase({"should", "i", "arrive"}) || m.phrase({"tenho", "que", "chegar"});
  if (m.phrase({"did", "i", "book"}) || m.phrase({"did", "i", "schedule"}) || m.phrase({"have", "i", "booked"}))
    return sure(intent::my_appointments, 0.8);
  // ("tenho que ir", "I have to come" are the patient's own duty, not a wish)
  const bool asking_for_more = m.has(s_book | s_slot | s_open) || (m.has(s_want) && !me_there);
  if (!asking_for_more && asks_when && (m.has(s_appointment | s_booked) || exam_or_return || me_there))
    return sure(intent::my_appointments, 0.85);
  if (!asking_for_more && asks_when && m.has(s_mine) && (service || professional || m.has(s_medical)))
    return sure(intent::my_appointments, 0.8); // "my checkup is at what time?", "meu ultrassom é que dia?"
  // "tô marcada pra quinta?", "am I booked in?", "agendei semana passada, queria saber o dia"
  bool i_am_booked = m.phrase({"am", "i"}) || m.phrase({"are", "we"}) || m.phrase({"is", "it"});
  for (size_t i = 0; i + 1 < m.words.size(); ++i)
    i_am_booked = i_am_booked || (one_of(m.words[i], {"to", "tou", "estou", "ta", "esta", "fiquei"})
                                  && (m.signals[i + 1] & s_booked));
  const bool may_i = m.word("can") || m.word("could") || m.word("posso") || m.word("pode") || m.word("consigo");
  if (m.has(s_booked) && !m.has(s_book | s_cancel | s_change | s_reschedule)
      && (!m.has(s_want | s_slot) || checking) && (checking || i_am_booked || (asks_when && !may_i)))
    return sure(intent::my_appointments, 0.8);
  // "quando eu volto no médico?", "when do I come back?"
  if (asks_when && (m.word("volto") || m.phrase({"come", "back"}) || m.word("retorno") || m.word("retornar"))
      && !m.has(s_book | s_slot | s_want))
    return sure(intent::my_appointments, 0.8);
  // "dr carlos amanhã às 10, certo?", "so it's friday at 9am, right?": checking what is booked
  const auto& last = m.words.empty() ? std::string() : m.words.back();
  if (one_of(last, {"certo", "ne", "neh", "right", "correct", "confere", "isso"}) && m.words.size() > 2
      && (when || professional) && !m.has(s_want | s_book | s_slot | s_cancel | s_change | s_reschedule))
    return sure(intent::my_appointments, 0.75);
  // "me confirma a consulta de amanhã?"
  if (m.has(s_appointment) && (m.word("confirma") || m.word("confirmar") || m.word("confirm") || m.word("confirme"))
      && !m.has(s_book | s_slot | s_cancel | s_change | s_reschedule))
    return sure(intent::my_appointments, 0.8);
  // "I booked for friday, right?", "marquei pra quinta, né?"
  if (m.has(s_booked) && !m.has(s_want | s_slot | s_cancel | s_change | s_reschedule)
      && (m.word("right") || m.word("correct") || m.word("ne") || m.word("certo") || m.word("confere")))
    return sure(intent::my_appointments, 0.8);
  // "qual horário ficou?", "ficou marcado pra quando?"
  if ((m.word("ficou") || m.word("ficaram")) && (asks_when || m.has(s_horario | s_appointment | s_booked))
      && !m.has(s_want | s_slot))
    return sure(intent::my_appointments, 0.8);
  if (!asking_for_more && m.has(s_mine) && (exam_or_return || m.has(s_horario)))
    return sure(intent::my_appointments, 0.8);
  if (!asking_for_more && (m.has(s_appointment) || exam_or_return)
      && (m.word("confirmada") || m.word("confirmado") || m.word("confirmed")))
    return sure(intent::my_appointments, 0.8);
  const bool have_appointment =
    (m.word("tenho") || m.word("tem") || m.phrase({"do", "i", "have"}) || m.word("have"))
    && (m.has(s_appointment) || m.has(s_booked));
  // Wanting something new ("minha mãe precisa de uma consulta") is not asking about one's own.
  const bool wants_new = m.has(s_want) && !checking && !m.has(s_booked);
  bool for_relative = false;
  for (size_t i = 0; i + 1 < m.words.size(); ++i)
    for_relative = for_relative || ((m.signals[i] & s_mine) && i > 0 && one_of(m.words[i - 1], {"pro", "pra", "para", "for"})
                                    && one_of(m.words[i + 1], {"filho", "filha", "mae", "pai", "esposa", "marido", "avo", "vo",
                                                               "neto", "neta", "son", "daughter", "mother", "father", "wife",
                                                               "husband", "kid", "mom", "dad", "sogra", "sogro"}));
  if (!m.has(s_book) && m.has(s_appointment) && !wants_new && !(for_relative && !asks_when && !m.has(s_booked))
      && (m.has(s_mine) || m.has(s_booked) || (m.word("tenho") && !m.phrase({"tenho", "que"}))
          || m.phrase({"do", "i", "have"})
          || m.phrase({"i", "still", "have"}) || m.phrase({"ainda", "tenho"})))
    return sure(intent::my_appointments, 0.9);
  if (have_appointment && m.word("tenho") && !m.phrase({"tenho", "que"}) && !m.phrase({"tenho", "q"}))
    return sure(intent::my_appointments, 0.85);
  // 5. Booking verbs.
  if (m.has(s_book))
    return sure(intent::book, 0.95);
  // 6. Things a clinic never does.
  if (m.has(s_off_topic))
    return decision{intent::unknown, 0.6, false, {}};
  // 7. Prices and services.
  // Who does what here: "quem é o cardiologista de vocês?", "a dra ana é cardiologista?",
  // "what kind of doctor is dr lima?", "which doctor does skin problems?"
  const bool what_kind = m.phrase({"what", "kind"}) || m.phrase({"que", "tipo"}) || m.phrase({"qual", "especialidade"})
                         || m.phrase({"qual", "a", "especialidade"}) || m.phrase({"what", "type"});
  const bool which_doctor = m.phrase({"which", "doctor"}) || m.phrase({"qual", "medico"}) || m.phrase({"qual", "medica"})
                            || m.phrase({"qual", "doutor"}) || m.phrase({"qual", "doutora"})
                            || m.phrase({"quem", "e", "o"}) || m.phrase({"quem", "e", "a"}) || m.phrase({"who", "is", "the"})
                            || m.phrase({"who", "does"}) || m.phrase({"quem", "faz"}) || m.phrase({"quem", "atende"});
  const bool which_days = m.phrase({"que", "dias"}) || m.phrase({"quais", "dias"}) || m.phrase({"which", "days"})
                          || m.phrase({"what", "days"}) || m.phrase({"dias", "da", "semana"});
  if (!when && !m.has(s_slot | s_horario | s_want | s_mine | s_booked)
      && ((which_days && (professional || service))
          || (which_doctor && (service || m.has(s_medical)))
          || (what_kind && (professional || m.word("doctor") || m.word("medico") || m.word("medica")))
          || (professional && service && (m.word("e") || m.word("is")))))
    return sure(intent::services, 0.8);
  // "quanto é 2+2" is arithmetic, not a price question.
  bool digits = false;
  for (auto& w : m.words)
    digits = digits || (!w.empty() && w[0] >= '0' && w[0] <= '9');
  const bool only_quanto = m.word("quanto") && !m.word("custa") && !m.word("preco")
                           && !m.word("valor");
  const bool asap = m.phrase({"quanto", "antes"}) || m.phrase({"mais", "rapido", "possivel"});
  const bool price = (m.has(s_price) && !(digits && only_quanto) && !(asap && only_quanto)) || m.phrase({"how", "much"});
  if (price)
    return sure(intent::services, 0.9);
  if (m.has(s_service_word) && !m.has(s_slot))
    return sure(intent::services, 0.85);
  const bool to_know = m.word("saber") || m.word("know") || m.word("wondering") || m.word("perguntar");
  const bool see_me = m.phrase({"me", "atender"}) || m.phrase({"me", "ver"}) || m.phrase({"me", "examinar"})
                      || m.phrase({"see", "me"});
  if ((m.has(s_have) || m.has(s_attend)) && (service || m.has(s_medical)) && !when && !see_me && !see_doctor
      && !m.has(s_slot) && !m.has(s_horario) && (!professional || m.has(s_attend))
      && !(m.has(s_want) && service && !to_know))
    return sure(intent::services, 0.8);
  // "does dr ana see children?", "any psychiatrists there?"
  if (((m.word("does") && (m.word("see") || m.word("treat")) && professional)
       || (m.word("any") && !m.has(s_slot | s_want) && (m.word("there") || m.word("here"))))
      && m.has(s_medical) && !when && !m.has(s_slot))
    return sure(intent::services, 0.8);
  if ((m.phrase({"is", "there"}) || m.phrase({"are", "there"}) || m.phrase({"do", "you", "have"})
       || m.phrase({"do", "you", "see"}) || m.phrase({"do", "you", "treat"})
       || m.phrase({"do", "you", "do"}) || m.phrase({"does", "the", "clinic"}))
      && (service || m.has(s_medical)) && !when && !m.has(s_slot | s_want))
    return sure(intent::services, 0.8);
  if (m.phrase({"o", "que", "vcs", "atendem"}) || m.phrase({"o", "que", "voces", "atendem"})
      || m.phrase({"que", "vcs", "atendem"}))
    return sure(intent::services, 0.8);
  // 8. Opening hours, unless "horário" asks for a free slot.
  const bool slot_horario = m.has(s_horario)
                            && (m.word("tem") || m.has(s_slot) || professional || service
                                || e.time || m.has(s_want) || m.word("sobrou") || m.word("sobra")
                                || m.word("sobrando") || m.word("teria") || m.word("existe")
                                || m.word("algum") || m.word("outro") || m.word("any"));
  if (m.has(s_open) && !m.has(s_slot))
    return sure(intent::hours, 0.9);
  if (m.has(s_attend) && (m.word("almoco") || m.word("lunch") || m.word("feriado")) && !professional && !service)
    return sure(intent::hours, 0.8); // "vocês atendem no horário de almoço?"
  if (m.has(s_horario) && (m.has(s_attend) || m.word("funcionamento")) && !slot_horario)
    return sure(intent::hours, 0.9);
  if ((m.phrase({"que", "horas"}) || m.phrase({"q", "horas"}) || m.phrase({"what", "time"}))
      && (m.has(s_attend) || m.word("vcs") || m.word("voces") || m.word("you") || m.word("fica")))
    return sure(intent::hours, 0.8);
  if (m.has(s_horario) && m.has(s_attend) && !m.word("tem"))
    return sure(intent::hours, 0.85);
  if (m.has(s_horario) && !slot_horario)
    return sure(intent::hours, 0.75);
  // "vocês atendem aos sábados?"
  if (m.has(s_attend) && when && !professional && !service && !m.has(s_slot))
    return sure(intent::hours, 0.8);
  if (m.phrase({"ate", "que", "horas"}) || m.phrase({"ate", "q", "horas"}) || m.phrase({"until", "what", "time"}))
    return sure(intent::hours, 0.8); // "até que horas posso chegar aí?"
  // 9. Where the clinic is.
  if (m.has(s_place) || m.word("floor")) // ("floor" squeezed is "flor", a flower)
    return sure(intent::location, 0.9);
  if (m.has(s_where) && !m.has(s_appointment))
    return sure(intent::location, 0.8);
  if (m.phrase({"get", "there"}) || m.phrase({"chegar", "ai"}) || m.phrase({"chego", "ai"})
      || (m.phrase({"ir", "ai"}) && !when) || m.phrase({"get", "to", "you"}) || m.phrase({"ir", "ate", "ai"})
      || m.phrase({"find", "you"}) || m.phrase({"numero", "do", "predio"}))
    return sure(intent::location, 0.8);
  // 10. Weaker hints of a person or a booking.
  // Needing care, said indirectly: a doctor, a check-up, urgency, "can the doctor see me".
  const bool care = see_doctor || m.word("urgente") || m.word("urgencia") || m.word("asap") || m.word("urgent")
                    || m.word("emergencia")
                    || m.phrase({"passando", "mal"}) || m.phrase({"ser", "atendido"})
                    || m.phrase({"ser", "atendida"}) || m.phrase({"ser", "visto"})
                    || m.phrase({"ser", "vista"}) || m.phrase({"see", "me"})
                    || m.phrase({"me", "atender"}) || m.phrase({"look", "at"})
                    || m.word("olhasse") || m.word("olhar") || m.word("examinar") || asap
                    || m.phrase({"me", "ver"}) || m.phrase({"me", "examinar"}) || m.phrase({"me", "olhar"})
                    || m.phrase({"get", "in"}) || m.phrase({"see", "someone"}) || m.phrase({"take", "a", "look"})
                    || m.phrase({"seeing", "someone"}) || m.phrase({"see", "a", "doctor"})
                    || m.phrase({"ver", "um", "medico"}) || m.phrase({"ver", "uma", "medica"})
                    || ((m.word("ver") || m.word("see")) && (service || professional));
  const bool a_doctor = m.word("medico") || m.word("medica") || m.word("doctor")
                        || m.word("doutor") || m.word("doutora") || service || professional;
  // (an appointment or a free slot asked for outright is a surer booking, below)
  const bool come_in = m.phrase({"fit", "me", "in"}) || m.phrase({"squeeze", "me", "in"})
                       || ((m.phrase({"come", "in"}) || m.phrase({"come", "by"}) || m.phrase({"ir", "ai"})) && when);
  if ((care || (m.has(s_want) && a_doctor) || (m.has(s_want) && m.has(s_medical) && !checking) || (m.word("algo") && when) || come_in
       || ((m.word("see") || m.word("ver")) && a_doctor))
      && !m.has(s_appointment | s_slot) && !slot_horario
      && !((m.word("pessoa") || m.word("person") || m.word("humano") || m.word("human") || m.word("real"))
           && !service && !professional && !when)) // "ser atendido por uma pessoa"
    return sure(intent::book, 0.75);
  if (m.has(s_person) && !service && (m.has(s_want) || m.word("verdade") || m.word("real")))
    return sure(intent::human, 0.75);
  if (m.has(s_appointment) && m.has(s_want))
    return sure(intent::book, 0.9);
  if (m.has(s_appointment) || m.has(s_slot) || slot_horario)
    return sure(intent::book, 0.8);
  if ((service || professional) && !yes_no)
    return sure(intent::book, 0.7);
  if ((m.phrase({"need", "to", "see"}) || m.phrase({"can", "i", "see"})) && !yes_no)
    return sure(intent::book, 0.7);
  // 11. Goodbyes before greetings ("boa noite, obrigado"); "good day to you" opens.
  if (m.words.size() >= 2 && m.is(0, "good") && m.is(1, "day") && !m.has(s_thanks))
    return sure(intent::greeting, 0.85);
  if (m.has(s_thanks) || goodbye_phrase(m) || m.phrase({"nice", "day"}) || m.phrase({"era", "isso"})
      || m.phrase({"e", "so", "isso"}) || m.phrase({"thats", "all"})
      || m.phrase({"good", "day"}) || m.phrase({"take", "care"}) || m.phrase({"no", "aguardo"})
      || m.phrase({"ate", "a", "proxima"}) || m.phrase({"tenha", "um"}) || m.phrase({"have", "a", "good"})
      || (m.word("deus") && (m.word("abencoe") || m.word("abencoa") || m.word("pague") || m.word("pagar")))
      || m.phrase({"fica", "com", "deus"}) || m.phrase({"fique", "com", "deus"}) || m.phrase({"vai", "com", "deus"}))
    return sure(intent::goodbye, 0.9);
  if (m.has(s_greet) || greeting_phrase(m))
    return sure(intent::greeting, 0.95);
  // 12. A day or time with nothing else is about booking, unless it answers a question.
  if (yes_no)
    return decision{intent::unknown, 0.9, false, {}};
  // ("sexta às 3 e meia", "qualquer dia da próxima semana serve", "what about wed the 13th?")
  if (when)
    return sure(intent::book, 0.6);
  // Not understood, but about the clinic ("vcs atendem criança?", "preciso de um atestado"):
  // the reply offers a human rather than "I only help with the clinic".
  constexpr uint32_t clinic_signals = s_medical | s_attend | s_appointment | s_service_word
                                      | s_open | s_horario | s_booked | s_change;
  if (m.has(clinic_signals) || service || professional || m.has(s_clinic_other))
    return decision{intent::unknown, 0.5, true, {}};
  return decision{intent::unknown, 0.3, false, {}};
}

} // namespace

std::string_view to_string(intent i) {
  switch (i) {
    case intent::greeting: return "greeting";
    case intent::book: return "book";
    case intent::reschedule: return "reschedule";
    case intent::cancel: return "cancel";
    case intent::my_appointments: return "my_appointments";
    case intent::hours: return "hours";
    case intent::services: return "services";
    case intent::location: return "location";
    case intent::human: return "human";
    case intent::goodbye: return "goodbye";
    case intent::clinic_question: return "clinic_question";
    case intent::unknown: return "unknown";
  }
  return "unknown";
}

std::string_view to_string(day_period p) {
  switch (p) {
    case day_period::morning: return "morning";
    case day_period::afternoon: return "afternoon";
    case day_period::evening: return "evening";
  }
  return "morning";
}

understanding understand(std::string_view text, const date::year_month_day& today,
                         const clinic_profile& clinic, std::string_view lang_hint) {
  understanding u;
  auto m = read_message(text);
  u.lang = detect_language(m, lang_hint, clinic);
  u.entities = scan_when(m.raw, today);
  // The patient's own name ("sou a Ana") names nobody in the catalogue.
  auto catalogue_words = m.raw;
  for (size_t i = 0; i < catalogue_words.size(); ++i)
    if (m.name[i])
      catalogue_words[i].clear();
  u.entities.service = match_service(catalogue_words, clinic);
  u.entities.professional = match_professional(catalogue_words, clinic);
  u.entities.yes_no = detect_yes_no(m, text);
  auto d = decide_intent(m, u.entities, u.entities.service.has_value(),
                         u.entities.professional.has_value(), u.entities.yes_no);
  u.intent = d.what;
  // Two days named only make sense as a move: from the first, to the second.
  if (u.intent != intent::reschedule) {
    u.entities.original_date.reset();
    u.entities.new_date.reset();
  } else if (u.entities.new_date) {
    u.entities.date = u.entities.new_date;
  }
  // "tchau, até amanhã" names no day to book.
  if (u.intent == intent::goodbye && (m.phrase({"ate", "amanha"}) || m.phrase({"see", "you", "tomorrow"})))
    u.entities.date.reset();
  u.confidence = std::clamp(d.confidence, 0.0, 1.0);
  u.clinic_topic = d.clinic_topic;
  u.topic = std::move(d.topic);
  return u;
}

nlohmann::json to_json(const understanding& u, const clinic_profile& clinic) {
  auto iso = [](const date::year_month_day& d) { return date::format("%F", d); };
  auto ents = nlohmann::json::object();
  auto& e = u.entities;
  if (e.date)
    ents["date"] = iso(*e.date);
  if (e.date_from)
    ents["date_from"] = iso(*e.date_from);
  if (e.date_to)
    ents["date_to"] = iso(*e.date_to);
  if (!e.date_choices.empty()) {
    ents["date_choices"] = nlohmann::json::array();
    for (auto& d : e.date_choices)
      ents["date_choices"].push_back(iso(d));
  }
  if (e.original_date)
    ents["original_date"] = iso(*e.original_date);
  if (e.new_date)
    ents["new_date"] = iso(*e.new_date);
  if (e.time)
    ents["time"] = format_hhmm(*e.time);
  if (e.period)
    ents["period"] = std::string(to_string(*e.period));
  if (e.service) {
    std::string name = *e.service;
    for (auto& s : clinic.services)
      if (s.id == *e.service)
        name = s.name;
    ents["service"] = name;
  }
  if (e.professional) {
    std::string name = *e.professional;
    for (auto& p : clinic.professionals)
      if (p.id == *e.professional)
        name = p.name;
    ents["professional"] = name;
  }
  if (e.yes_no)
    ents["yes_no"] = *e.yes_no;
  // Two decimals are plenty and keep the CLI output stable.
  double confidence = static_cast<int>(u.confidence * 100 + 0.5) / 100.0;
  nlohmann::json out = {{"intent", std::string(to_string(u.intent))},
                        {"confidence", confidence},
                        {"lang", u.lang},
                        {"entities", std::move(ents)}};
  if (u.intent == intent::clinic_question && !u.topic.empty())
    out["topic"] = u.topic;
  return out;
}

} // namespace atendeai::core
