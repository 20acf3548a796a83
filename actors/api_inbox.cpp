/// Admin API: the staff inbox: conversations, their messages, replies as staff, ending a hand-over.
#include "actors/api_support.hpp"

namespace atendeai::actors {

void add_inbox_handlers(api_handlers&) {}

} // namespace atendeai::actors
