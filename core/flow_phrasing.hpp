#pragma once
/// How the appointment flow words its replies: names of services and professionals, days
/// and times as patients read them, the confirmation text, and WhatsApp buttons and lists
/// cut to WhatsApp's limits. Internal to the flow's files (see flow_internal.hpp).

#include <initializer_list>
#include <string>
#include <vector>

#include <date/date.h>
#include <date/tz.h>

#include "core/agenda.hpp"
#include "core/clinic.hpp"
#include "core/clock.hpp"
#include "core/outbound.hpp"
#include "core/understanding.hpp"

namespace atendeai::core::detail {

/// The service's name in the conversation's language (English when the clinic gave one).
std::string service_name(const clinic_profile& c, const std::string& id, bool en);
/// "a Dra. Ana Souza", "o Dr. Carlos Lima", or the bare name; English: the bare name.
std::string professional_ref(const clinic_profile& c, const std::string& id, bool en);
/// "com a Dra. Ana Souza" / "with Dra. Ana Souza"; empty for an unknown professional.
std::string with_professional(const clinic_profile& c, const std::string& id, bool en);
/// Capitalises an ASCII first letter ("a Dra." → "A Dra.").
std::string capitalize(std::string s);
/// The non-empty parts joined by single spaces.
std::string join_words(std::initializer_list<std::string> parts);

/// "quarta 25/11 às 14:00" / "Wednesday 25/11 at 14:00".
std::string when_long(const date::time_zone* tz, instant t, bool en);
/// "na quarta, 25/11, às 14:00" / "on Wednesday, 25/11, at 14:00".
std::string when_prompt(const date::time_zone* tz, instant t, bool en);
/// "qua 25/11 · 14:00" / "Wed 25/11 · 14:00".
std::string when_short(const date::time_zone* tz, instant t, bool en);
/// "amanhã (ter 24/11)", "na sexta 27/11"; capitalised for the start of a sentence.
std::string day_phrase(const date::year_month_day& d, const date::year_month_day& today, bool en,
                       bool sentence_start);
/// "de manhã" / "in the morning".
std::string period_phrase(day_period p, bool en);

/// "Cardiologia com a Dra. Ana Souza, quarta 25/11 às 14:00".
std::string appointment_summary(const clinic_profile& c, const date::time_zone* tz,
                                const std::string& service_id, const std::string& professional_id,
                                instant start, bool en);
/// "Pronto! Consulta confirmada: ..." ("remarcada" when `moved`), or English.
std::string confirmed_text(const clinic_profile& c, const appointment& a, bool en, bool moved);

/// The patient's first name, or "" (a number or a blank profile name is no name).
std::string first_name(const std::string& full);
/// "Olá, Maria!" / "Hello, Maria!" ("Olá!" / "Hello!" without a name): a proactive message's opening.
std::string greeting_to(const std::string& first_name, bool en);
/// How a template names the patient: their first name, else "paciente" / "patient".
std::string addressee(const std::string& first_name, bool en);
/// The clinic's notice template ("Olá {{1}}! {{2}}", no buttons) carrying `said` to the
/// patient (addressee()).
template_call notice_call(const std::string& name, const std::string& language, const std::string& first_name,
                          std::string said, bool en);

/// A button message: at most three buttons, titles cut to 20 code points.
outbound_message buttons(std::string text, std::vector<choice> choices);
/// A list message: at most ten rows, text, titles, descriptions and button cut to
/// WhatsApp's lengths.
outbound_message list(std::string text, std::vector<choice> rows, std::string button);

} // namespace atendeai::core::detail
