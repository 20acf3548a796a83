/// Admin API: clinics, context, working hours, channels, services, professionals and their absences, closures.
#include "actors/api_support.hpp"

namespace atendeai::actors {

void add_catalogue_handlers(api_handlers&) {}

} // namespace atendeai::actors
