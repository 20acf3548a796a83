#pragma once
/// LGPD as decisions (issue 21): a clinic's legal basis and privacy notice, the short
/// notice the assistant's first message to a new contact carries, the consent request
/// (Aceito / Não aceito) and reading its answer or a revocation, which messages need no
/// personal data (answered before consent), and a patient asking for their data. Pure:
/// nothing is read or written.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/clinic.hpp"
#include "core/outbound.hpp"
#include "core/understanding.hpp"

namespace atendeai::core {

/// {"legal_basis","notice","policy_url","dpo_contact","retention_days","on_erasure"};
/// legal_basis is the effective one (`default_basis` when the clinic chose none).
nlohmann::json to_json(const privacy_settings& s, const std::string& default_basis);
/// The members present replace `base`'s. Unknown members, wrong types and out-of-range
/// values throw std::invalid_argument "<member>: <reason>".
privacy_settings privacy_settings_from_json(const nlohmann::json& j, privacy_settings base);
/// True for "health_protection" and "consent".
bool valid_legal_basis(std::string_view basis);

/// The legal basis in force: the clinic's, else the deployment's.
const std::string& legal_basis_of(const privacy_settings& s, const std::string& default_basis);

/// The short notice: the clinic's own text, or "🔒 A <clinic> usa seus dados para o seu
/// atendimento e agendamentos (LGPD). Encarregado de dados: <dpo>. Política: <url>."
std::string privacy_notice_text(const clinic_profile& clinic, const privacy_settings& s, bool en);
/// The first reply to a new contact with the notice after it (an interactive body stays
/// within WhatsApp's 1,024 characters: the notice is left for a later reply then, false).
bool add_privacy_notice(outbound_message& reply, const std::string& notice);

/// The consent request: the notice, what is asked, and buttons Aceito / Não aceito
/// (`consent:give`, `consent:refuse`); `refused_before` words it for a patient who said no.
outbound_message consent_request(const clinic_profile& clinic, const privacy_settings& s, bool en,
                                 bool refused_before);

/// A consent event.
enum class consent_event { given, refused, revoked };
/// "given" | "refused" | "revoked".
std::string_view to_string(consent_event e);
/// The patient's consent answer: a tap on the request's buttons, typed words right after
/// it ("aceito", "concordo" / "não aceito", "não concordo"), or a revocation at any time
/// ("revogar consentimento", "withdraw consent"); nullopt otherwise.
std::optional<consent_event> read_consent(std::string_view reply_id, std::string_view text, bool asked);
/// What the assistant answers to each event (pt-BR or English).
std::string consent_answer_text(consent_event e, const clinic_profile& clinic, bool en);

/// True for what needs no personal data and is answered before consent: opening hours,
/// address, services, greetings and goodbyes.
bool needs_no_personal_data(intent i);

/// "quero meus dados", "meus dados pessoais", "my personal data", "LGPD": the patient asks
/// for their data (staff send it after confirming who they are; never sent to the chat).
bool reads_data_request(std::string_view text);
/// The answer to that request (the conversation is handed to staff).
std::string data_request_text(bool en);

/// "apagar meus dados", "excluir meus dados", "delete my data": the patient asks for their
/// data to be erased (read before reads_data_request, whose "meus dados" it contains).
bool reads_erasure_request(std::string_view text);
/// The patient's answer to the erasure question: a tap on its buttons (`erasure:confirm`,
/// `erasure:cancel`) or, right after it (`asked`), typed "sim, pode apagar" / "não";
/// nullopt otherwise. True: erase.
std::optional<bool> read_erasure_answer(std::string_view reply_id, std::string_view text, bool asked);
/// What erasing means, asked with buttons Apagar meus dados / Não apagar; on_erasure
/// "restrict" words it for a clinic that must keep its records.
outbound_message erasure_question(const std::string& on_erasure, bool en);
/// The answer once confirmed (the last message of the conversation) or called off.
std::string erasure_answer_text(bool confirmed, const std::string& on_erasure, bool en);

} // namespace atendeai::core
