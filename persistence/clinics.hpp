#pragma once
/// Reading clinics (profile, catalogue, channels) and seeding the demo clinic.

#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "core/clinic.hpp"

namespace atendeai::persistence {

/// A clinic's full profile (context, services, professionals); nullopt when unknown
/// or inactive. Runs under the clinic's row-level security scope.
std::optional<core::clinic_profile> load_clinic(pqxx::connection& conn, const std::string& clinic_id);

/// Creates or refreshes the demo clinic, its catalogue and its WhatsApp channel
/// (`phone_number_id`). Idempotent; keeps changes staff made to existing rows.
void seed_demo_clinic(pqxx::connection& conn, const std::string& phone_number_id);

} // namespace atendeai::persistence
