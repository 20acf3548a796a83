#include "core/privacy.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/flow_phrasing.hpp"
#include "core/format.hpp"
#include "core/reading.hpp"

namespace atendeai::core {

namespace {

using nlohmann::json;

[[noreturn]] void invalid(const std::string& path, const std::string& why) {
  throw std::invalid_argument(path + ": " + why);
}

std::string text_member(const json& j, const char* key, size_t max) {
  const auto& v = j[key];
  if (!v.is_string())
    invalid(key, "must be a string");
  auto s = v.get<std::string>();
  if (s.size() > max)
    invalid(key, "must have at most " + std::to_string(max) + " bytes");
  return s;
}

constexpr std::string_view give_id = "consent:give";
constexpr std::string_view refuse_id = "consent:refuse";
constexpr std::string_view erase_confirm_id = "erasure:confirm";
constexpr std::string_view erase_cancel_id = "erasure:cancel";

} // namespace

bool valid_legal_basis(std::string_view basis) { return basis == "health_protection" || basis == "consent"; }

const std::string& legal_basis_of(const privacy_settings& s, const std::string& default_basis) {
  return s.legal_basis ? *s.legal_basis : default_basis;
}

json to_json(const privacy_settings& s, const std::string& default_basis) {
  return {{"legal_basis", legal_basis_of(s, default_basis)},
          {"notice", s.notice},
          {"policy_url", s.policy_url},
          {"dpo_contact", s.dpo_contact},
          {"retention_days", s.retention_days},
          {"on_erasure", s.on_erasure}};
}

privacy_settings privacy_settings_from_json(const json& j, privacy_settings base) {
  if (!j.is_object())
    invalid("body", "must be an object");
  for (auto& [key, value] : j.items()) {
    if (key == "legal_basis") {
      auto b = text_member(j, "legal_basis", 32);
      if (!valid_legal_basis(b))
        invalid(key, "must be health_protection or consent");
      base.legal_basis = b;
    } else if (key == "notice") {
      base.notice = text_member(j, "notice", 700);
    } else if (key == "policy_url") {
      base.policy_url = text_member(j, "policy_url", 500);
      if (!base.policy_url.empty() && base.policy_url.rfind("https://", 0) != 0 &&
          base.policy_url.rfind("http://", 0) != 0)
        invalid(key, "must be an http(s) URL");
    } else if (key == "dpo_contact") {
      base.dpo_contact = text_member(j, "dpo_contact", 200);
    } else if (key == "retention_days") {
      if (!value.is_number_integer() || value.get<long long>() < 30 || value.get<long long>() > 3650)
        invalid(key, "must be an integer from 30 to 3650");
      base.retention_days = value.get<int>();
    } else if (key == "on_erasure") {
      auto e = text_member(j, "on_erasure", 16);
      if (e != "anonymise" && e != "restrict")
        invalid(key, "must be anonymise or restrict");
      base.on_erasure = e;
    } else {
      invalid(key.size() > 64 ? key.substr(0, 64) : key, "unknown member");
    }
  }
  return base;
}

std::string privacy_notice_text(const clinic_profile& clinic, const privacy_settings& s, bool en) {
  if (!s.notice.empty())
    return s.notice;
  std::string out = en ? "🔒 " + clinic.name + " uses your data to care for you and manage your appointments (LGPD)."
                       : "🔒 A " + clinic.name + " usa seus dados para o seu atendimento e agendamentos (LGPD).";
  if (!s.dpo_contact.empty())
    out += (en ? " Data protection officer: " : " Encarregado de dados: ") + s.dpo_contact + ".";
  if (!s.policy_url.empty())
    out += (en ? " Privacy policy: " : " Política de privacidade: ") + s.policy_url;
  return out;
}

bool add_privacy_notice(outbound_message& reply, const std::string& notice) {
  auto text = reply.text + "\n\n" + notice;
  size_t code_points = 0;
  for (unsigned char c : text)
    code_points += (c & 0xC0) != 0x80;
  if (reply.style != choice_style::none && code_points > 1024)
    return false;
  reply.text = std::move(text);
  return true;
}

outbound_message consent_request(const clinic_profile& clinic, const privacy_settings& s, bool en,
                                 bool refused_before) {
  std::string ask =
    refused_before
      ? (en ? "You haven't agreed to us using your data, so I can only tell you our opening hours, address and "
              "services. To talk about appointments, do you agree?"
            : "Como você não concordou com o uso dos seus dados, só posso informar horários, endereço e serviços. "
              "Para tratar de consultas, você concorda?")
      : (en ? "Before we talk about your health and appointments, do you agree that we use your data for this?"
            : "Antes de tratarmos da sua saúde e das suas consultas, você concorda com o uso dos seus dados para "
              "isso?");
  return detail::buttons(privacy_notice_text(clinic, s, en) + "\n\n" + ask,
                         {{std::string(give_id), en ? "I agree" : "Aceito", {}},
                          {std::string(refuse_id), en ? "I don't agree" : "Não aceito", {}}});
}

std::string_view to_string(consent_event e) {
  switch (e) {
    case consent_event::given: return "given";
    case consent_event::refused: return "refused";
    case consent_event::revoked: return "revoked";
  }
  return "given";
}

std::optional<consent_event> read_consent(std::string_view reply_id, std::string_view text, bool asked) {
  if (reply_id == give_id)
    return consent_event::given;
  if (reply_id == refuse_id)
    return consent_event::refused;
  if (!reply_id.empty())
    return std::nullopt;
  auto norm = normalize_text(text);
  static const word_list revoking = {"revogar consentimento", "revogo o consentimento", "revogo meu consentimento",
                                     "retirar consentimento", "retiro meu consentimento", "retiro o consentimento",
                                     "withdraw consent", "withdraw my consent", "revoke consent", "revoke my consent"};
  if (has_any_phrase(norm, revoking))
    return consent_event::revoked;
  if (!asked)
    return std::nullopt;
  static const word_list refusing = {"nao aceito", "nao concordo", "nao autorizo", "i dont agree", "i do not agree",
                                     "dont agree", "i refuse"};
  static const word_list giving = {"aceito", "concordo", "autorizo", "de acordo", "i agree", "agree", "i accept",
                                   "accept"};
  if (has_any_phrase(norm, refusing))
    return consent_event::refused;
  if (has_any_phrase(norm, giving))
    return consent_event::given;
  auto a = read_answer(norm, std::nullopt);
  if (a.no)
    return consent_event::refused;
  if (a.yes)
    return consent_event::given;
  return std::nullopt;
}

std::string consent_answer_text(consent_event e, const clinic_profile& clinic, bool en) {
  switch (e) {
    case consent_event::given:
      return en ? "Thank you! How can I help you?" : "Obrigado! Como posso ajudar?";
    case consent_event::refused:
      return en ? "All right, we respect your choice and recorded it. I can still tell you our opening hours, "
                  "address and services" +
                    (clinic.phone.empty() ? std::string(".") : ", and you can call us on " + clinic.phone + ".")
                : "Tudo bem, respeitamos sua escolha e ela ficou registrada. Ainda posso informar horários, endereço "
                  "e serviços" +
                    (clinic.phone.empty() ? std::string(".") : ", e você pode ligar para " + clinic.phone + ".");
    case consent_event::revoked:
      return en ? "Done: your consent is withdrawn and recorded. I'll only answer about opening hours, address and "
                  "services from now on."
                : "Pronto: seu consentimento foi revogado e isso ficou registrado. A partir de agora só respondo "
                  "sobre horários, endereço e serviços.";
  }
  return {};
}

bool needs_no_personal_data(intent i) {
  return i == intent::hours || i == intent::location || i == intent::services || i == intent::greeting ||
         i == intent::goodbye;
}

bool reads_erasure_request(std::string_view text) {
  auto norm = normalize_text(text);
  static const word_list erasing = {"apagar", "apague", "apaguem", "apaga", "excluir", "exclua", "excluam", "exclui", "deletar", "delete",
                                    "remover", "remova", "removam", "eliminar", "erase", "remove", "esquecer", "esqueca"};
  static const word_list mine = {"meus dados", "minhas informacoes", "meu cadastro", "my data", "my personal data",
                                 "my information", "my details", "tudo sobre mim", "everything about me"};
  return has_any_phrase(norm, erasing) && has_any_phrase(norm, mine);
}

std::optional<bool> read_erasure_answer(std::string_view reply_id, std::string_view text, bool asked) {
  if (reply_id == erase_confirm_id)
    return true;
  if (reply_id == erase_cancel_id)
    return false;
  if (!reply_id.empty() || !asked)
    return std::nullopt;
  auto norm = normalize_text(text);
  auto a = read_answer(norm, std::nullopt);
  static const word_list confirming = {"pode apagar", "apaga", "apague", "apagar", "confirmo", "delete", "erase"};
  if (a.no || a.give_up)
    return false;
  if (a.yes || has_any_phrase(norm, confirming))
    return true;
  return std::nullopt;
}

outbound_message erasure_question(const std::string& on_erasure, bool en) {
  const bool restrict = on_erasure == "restrict";
  std::string text =
    en ? (restrict ? "The clinic must keep health records by law, so your data will be locked: no one will use or see "
                     "it except when the authorities require it, and this conversation ends. Do you confirm?"
                   : "I'll permanently erase your messages, name and phone number from our service, and this "
                     "conversation ends (your appointments stay on the agenda without your data). Do you confirm?")
       : (restrict ? "A clínica precisa guardar os registros de saúde por lei, então seus dados serão bloqueados: "
                     "ninguém vai usá-los nem vê-los, exceto por exigência das autoridades, e esta conversa se "
                     "encerra. Você confirma?"
                   : "Vou apagar de vez suas mensagens, seu nome e seu telefone do nosso atendimento, e esta "
                     "conversa se encerra (suas consultas ficam na agenda, sem seus dados). Você confirma?");
  return detail::buttons(text, {{std::string(erase_confirm_id), en ? "Erase my data" : "Apagar meus dados", {}},
                        {std::string(erase_cancel_id), en ? "Don't erase" : "Não apagar", {}}});
}

std::string erasure_answer_text(bool confirmed, const std::string& on_erasure, bool en) {
  if (!confirmed)
    return en ? "All right, nothing was erased. How can I help you?" : "Tudo bem, nada foi apagado. Como posso ajudar?";
  if (on_erasure == "restrict")
    return en ? "Done: your data is locked and will not be used. If you write again, we start from scratch."
              : "Pronto: seus dados foram bloqueados e não serão usados. Se escrever de novo, começamos do zero.";
  return en ? "Done: your data is being erased now. If you write again, we start from scratch."
            : "Pronto: seus dados estão sendo apagados agora. Se escrever de novo, começamos do zero.";
}

bool reads_data_request(std::string_view text) {
  auto norm = normalize_text(text);
  static const word_list asking = {"meus dados", "minhas informacoes pessoais", "dados pessoais", "copia dos meus dados",
                                   "my data", "my personal data"};
  return has_any_phrase(norm, asking);
}

std::string data_request_text(bool en) {
  return en ? "We received your request for your data. Someone from the front desk will confirm it's you and send "
              "it to you; they'll continue here shortly."
            : "Recebemos seu pedido dos seus dados. Alguém da recepção vai confirmar sua identidade e enviar para "
              "você; a conversa continua por aqui em breve.";
}

} // namespace atendeai::core
