/// Admin API: free slots and appointments.
#include "actors/api_support.hpp"

namespace atendeai::actors {

void add_agenda_handlers(api_handlers&) {}

} // namespace atendeai::actors
