#pragma once
/// The demo clinic ("Clínica Exemplo") seeded on first start and used by
/// `atendeai understand --clinic demo`. Fixed ids so seeding is idempotent.

#include <vector>

#include "core/clinic.hpp"
#include "core/templates.hpp"

namespace atendeai::core {

/// Id of the demo clinic.
inline constexpr const char* demo_clinic_id = "00000000-0000-4000-8000-00000000c001";

/// Ids of the demo clinic's services.
inline constexpr const char* demo_service_clinico_id = "00000000-0000-4000-8000-00000000a001"; ///< Clínico geral
inline constexpr const char* demo_service_cardio_id = "00000000-0000-4000-8000-00000000a002";  ///< Cardiologia
inline constexpr const char* demo_service_dermato_id = "00000000-0000-4000-8000-00000000a003"; ///< Dermatologia

/// Ids of the demo clinic's professionals.
inline constexpr const char* demo_professional_ana_id = "00000000-0000-4000-8000-00000000b001";    ///< Dra. Ana Souza
inline constexpr const char* demo_professional_carlos_id = "00000000-0000-4000-8000-00000000b002"; ///< Dr. Carlos Lima

/// The demo clinic's reminder template (pt_BR and en_US) and the ids of its two rows.
/// Parameters: {{1}} the patient's first name, {{2}} the service, {{3}} the professional,
/// {{4}} the date and time as text, {{5}} the clinic's address.
inline constexpr const char* demo_reminder_template_name = "lembrete_consulta";
inline constexpr const char* demo_template_reminder_pt_id = "00000000-0000-4000-8000-00000000d001";
inline constexpr const char* demo_template_reminder_en_id = "00000000-0000-4000-8000-00000000d002";
/// The demo clinic's notice of a staff change (pt_BR and en_US): {{1}} the patient's first
/// name, {{2}} what changed ("Sua consulta de ... foi remarcada para ...").
inline constexpr const char* demo_notice_template_name = "aviso_consulta";
inline constexpr const char* demo_template_notice_pt_id = "00000000-0000-4000-8000-00000000d003";
inline constexpr const char* demo_template_notice_en_id = "00000000-0000-4000-8000-00000000d004";

/// E-mails of the demo administrators created on first start (app/users_command.cpp).
inline constexpr const char* demo_super_admin_email = "admin@atendeai.local";
inline constexpr const char* demo_clinic_admin_email = "admin@clinica-exemplo.local";

/// The demo clinic's full profile.
clinic_profile demo_clinic();

/// The demo clinic's registered WhatsApp templates (seeded with it): the appointment
/// reminder in pt_BR and en_US, with the quick replies confirm, reschedule, cancel, and
/// the notice of a staff change.
std::vector<message_template> demo_templates();

} // namespace atendeai::core
