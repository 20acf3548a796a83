/// Admin API: live inspection of nodes and actors.
#include "actors/api_support.hpp"

namespace atendeai::actors {

void add_inspect_handlers(api_handlers&) {}

} // namespace atendeai::actors
