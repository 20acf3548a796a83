#pragma once
/// The demo clinic's ids as every test names them (core unit tests, actor tests and
/// integration tests alike): taken from core/demo_clinic.hpp, the product's source of the
/// demo clinic, never written again. Header-only, no CAF.

#include <string>

#include "core/demo_clinic.hpp"

namespace atendeai::test::demo {

inline const std::string clinic_id = core::demo_clinic_id;
inline const std::string clinico = core::demo_service_clinico_id; ///< Clínico geral
inline const std::string cardio = core::demo_service_cardio_id;   ///< Cardiologia
inline const std::string dermato = core::demo_service_dermato_id; ///< Dermatologia
inline const std::string ana = core::demo_professional_ana_id;    ///< Dra. Ana Souza
inline const std::string carlos = core::demo_professional_carlos_id; ///< Dr. Carlos Lima
inline const std::string address = core::demo_clinic().address;
inline const std::string template_reminder_pt = core::demo_template_reminder_pt_id; ///< lembrete_consulta, pt_BR
inline const std::string template_reminder_en = core::demo_template_reminder_en_id; ///< lembrete_consulta, en_US
inline const std::string super_admin_email = core::demo_super_admin_email;
inline const std::string clinic_admin_email = core::demo_clinic_admin_email;

} // namespace atendeai::test::demo
