#pragma once
/// The demo clinic ("Clínica Exemplo") seeded on first start and used by
/// `atendeai understand --clinic demo`. Fixed ids so seeding is idempotent.

#include "core/clinic.hpp"

namespace atendeai::core {

/// Id of the demo clinic.
inline constexpr const char* demo_clinic_id = "00000000-0000-4000-8000-00000000c001";

/// The demo clinic's full profile.
clinic_profile demo_clinic();

} // namespace atendeai::core
