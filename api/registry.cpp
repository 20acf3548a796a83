/// The admin API's one handler registry: every route of core::api_routes() is served
/// by the handler its module registers under the route's operation name. A route of
/// the table without a handler answers 501 (api/checks.cpp).
#include "api/call.hpp"

namespace atendeai::api {

const api_handlers& handlers() {
  static const api_handlers h = [] {
    api_handlers out;
    add_auth_handlers(out);
    add_user_handlers(out);
    add_audit_handlers(out);
    add_catalogue_handlers(out);
    add_agenda_handlers(out);
    add_inbox_handlers(out);
    add_faq_handlers(out);
    add_template_handlers(out);
    add_reminder_handlers(out);
    add_waitlist_handlers(out);
    add_privacy_handlers(out);
    add_inspection_handlers(out);
    add_calendar_handlers(out);
    return out;
  }();
  return h;
}

} // namespace atendeai::api
