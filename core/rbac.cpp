#include "core/rbac.hpp"

namespace atendeai::core {

std::string_view to_string(role r) {
  switch (r) {
    case role::super_admin: return "super_admin";
    case role::clinic_admin: return "clinic_admin";
    case role::attendant: return "attendant";
    case role::professional: return "professional";
  }
  return "professional";
}

std::optional<role> parse_role(std::string_view name) {
  for (auto r : all_roles)
    if (to_string(r) == name)
      return r;
  return std::nullopt;
}

const std::vector<api_route>& api_routes() {
  using a = access;
  using l = rate_class;
  constexpr auto owner = placement::owner;
  static const std::vector<api_route> routes = {
    // -- auth -------------------------------------------------------------------------
    {"POST", "/api/v1/auth/register", "auth.register", a::bearer, l::api, admins},
    {"POST", "/api/v1/auth/login", "auth.login", a::open, l::auth, 0},
    {"POST", "/api/v1/auth/refresh", "auth.refresh", a::open, l::auth, 0},
    {"POST", "/api/v1/auth/logout", "auth.logout", a::bearer, l::api, staff},
    {"GET", "/api/v1/auth/profile", "auth.profile.get", a::bearer, l::api, staff},
    {"PUT", "/api/v1/auth/profile", "auth.profile.update", a::bearer, l::api, staff},
    {"POST", "/api/v1/auth/forgot-password", "auth.forgot_password", a::open, l::auth, 0},
    {"POST", "/api/v1/auth/reset-password", "auth.reset_password", a::open, l::auth, 0},
    // -- users ------------------------------------------------------------------------
    {"GET", "/api/v1/users", "users.list", a::bearer, l::api, admins},
    {"POST", "/api/v1/users", "users.create", a::bearer, l::api, admins},
    {"GET", "/api/v1/users/:id", "users.get", a::bearer, l::api, admins},
    {"PUT", "/api/v1/users/:id", "users.update", a::bearer, l::api, admins},
    {"DELETE", "/api/v1/users/:id", "users.delete", a::bearer, l::api, admins},
    {"PUT", "/api/v1/users/:id/status", "users.status", a::bearer, l::api, admins},
    {"GET", "/api/v1/users/:id/activity", "users.activity", a::bearer, l::api, admins},
    // -- audit ------------------------------------------------------------------------
    {"GET", "/api/v1/audit", "audit.list", a::bearer, l::api, admins},
    // -- clinics and their channels (catalogue) ---------------------------------------
    {"GET", "/api/v1/clinics", "clinics.list", a::bearer, l::api, admins},
    {"POST", "/api/v1/clinics", "clinics.create", a::bearer, l::api, super},
    {"GET", "/api/v1/clinics/:id", "clinics.get", a::bearer, l::api, staff},
    {"PUT", "/api/v1/clinics/:id", "clinics.update", a::bearer, l::api, admins},
    {"DELETE", "/api/v1/clinics/:id", "clinics.deactivate", a::bearer, l::api, super},
    {"GET", "/api/v1/clinics/:id/context", "clinics.context.get", a::bearer, l::api, admins},
    {"PUT", "/api/v1/clinics/:id/context", "clinics.context.update", a::bearer, l::api, admins},
    {"GET", "/api/v1/clinics/:id/working-hours", "clinics.hours.get", a::bearer, l::api, staff},
    {"PUT", "/api/v1/clinics/:id/working-hours", "clinics.hours.update", a::bearer, l::api, admins},
    {"GET", "/api/v1/clinics/:id/channels", "channels.list", a::bearer, l::api, admins},
    {"POST", "/api/v1/clinics/:id/channels", "channels.create", a::bearer, l::api, admins},
    {"DELETE", "/api/v1/clinics/:id/channels/:chid", "channels.delete", a::bearer, l::api, admins},
    // -- services, professionals, closures (catalogue) ---------------------------------
    {"GET", "/api/v1/clinics/:id/services", "services.list", a::bearer, l::api, staff},
    {"POST", "/api/v1/clinics/:id/services", "services.create", a::bearer, l::api, admins},
    {"GET", "/api/v1/clinics/:id/services/:sid", "services.get", a::bearer, l::api, staff},
    {"PUT", "/api/v1/clinics/:id/services/:sid", "services.update", a::bearer, l::api, admins},
    {"DELETE", "/api/v1/clinics/:id/services/:sid", "services.delete", a::bearer, l::api, admins},
    {"GET", "/api/v1/clinics/:id/professionals", "professionals.list", a::bearer, l::api, staff},
    {"POST", "/api/v1/clinics/:id/professionals", "professionals.create", a::bearer, l::api, admins},
    {"GET", "/api/v1/clinics/:id/professionals/:pid", "professionals.get", a::bearer, l::api, staff},
    {"PUT", "/api/v1/clinics/:id/professionals/:pid", "professionals.update", a::bearer, l::api, admins},
    {"DELETE", "/api/v1/clinics/:id/professionals/:pid", "professionals.delete", a::bearer, l::api, admins},
    {"GET", "/api/v1/clinics/:id/professionals/:pid/absences", "absences.list", a::bearer, l::api, staff},
    {"POST", "/api/v1/clinics/:id/professionals/:pid/absences", "absences.create", a::bearer, l::api, admins},
    // -- calendars: ICS feeds (the token in the URL is the credential) ------------------
    {"POST", "/api/v1/clinics/:id/professionals/:pid/ics-token", "calendar.rotate_professional", a::bearer, l::api,
     admins},
    {"GET", "/api/v1/clinics/:id/calendar-feed", "calendar.clinic_feed", a::bearer, l::api, admins},
    {"POST", "/api/v1/clinics/:id/calendar-feed/token", "calendar.rotate_clinic", a::bearer, l::api, admins},
    {"GET", "/ics/:token", "calendar.ics", a::open, l::api, 0},
    {"DELETE", "/api/v1/clinics/:id/professionals/:pid/absences/:abid", "absences.delete", a::bearer, l::api,
     admins},
    {"GET", "/api/v1/clinics/:id/closures", "closures.list", a::bearer, l::api, staff},
    {"POST", "/api/v1/clinics/:id/closures", "closures.create", a::bearer, l::api, admins},
    {"DELETE", "/api/v1/clinics/:id/closures/:clid", "closures.delete", a::bearer, l::api, admins},
    // -- knowledge base (FAQ) -------------------------------------------------------------
    {"GET", "/api/v1/clinics/:id/faq", "faq.list", a::bearer, l::api, staff},
    {"POST", "/api/v1/clinics/:id/faq", "faq.create", a::bearer, l::api, admins},
    {"GET", "/api/v1/clinics/:id/faq/:qid", "faq.get", a::bearer, l::api, staff},
    {"PUT", "/api/v1/clinics/:id/faq/:qid", "faq.update", a::bearer, l::api, admins},
    {"PATCH", "/api/v1/clinics/:id/faq/:qid", "faq.patch", a::bearer, l::api, admins},
    {"DELETE", "/api/v1/clinics/:id/faq/:qid", "faq.delete", a::bearer, l::api, admins},
    // -- WhatsApp message templates -----------------------------------------------------
    {"GET", "/api/v1/clinics/:id/templates", "templates.list", a::bearer, l::api, staff},
    {"POST", "/api/v1/clinics/:id/templates", "templates.create", a::bearer, l::api, admins},
    {"GET", "/api/v1/clinics/:id/templates/:tid", "templates.get", a::bearer, l::api, staff},
    {"PUT", "/api/v1/clinics/:id/templates/:tid", "templates.update", a::bearer, l::api, admins},
    {"DELETE", "/api/v1/clinics/:id/templates/:tid", "templates.delete", a::bearer, l::api, admins},
    // -- reminders ----------------------------------------------------------------------
    {"GET", "/api/v1/clinics/:id/reminders", "reminders.get", a::bearer, l::api, admins},
    {"PUT", "/api/v1/clinics/:id/reminders", "reminders.update", a::bearer, l::api, admins},
    // -- LGPD ---------------------------------------------------------------------------
    {"GET", "/api/v1/clinics/:id/privacy", "privacy.get", a::bearer, l::api, staff},
    {"PUT", "/api/v1/clinics/:id/privacy", "privacy.update", a::bearer, l::api, admins},
    {"GET", "/api/v1/clinics/:id/contacts/:cid/export", "contacts.export", a::bearer, l::api, desk},
    {"DELETE", "/api/v1/clinics/:id/contacts/:cid", "contacts.erase", a::bearer, l::api, admins, owner},
    // -- waitlist -------------------------------------------------------------------------
    {"GET", "/api/v1/clinics/:id/waitlist", "waitlist.list", a::bearer, l::api, staff},
    {"GET", "/api/v1/clinics/:id/waitlist/:wid", "waitlist.get", a::bearer, l::api, staff},
    {"DELETE", "/api/v1/clinics/:id/waitlist/:wid", "waitlist.delete", a::bearer, l::api, desk, owner},
    // -- agenda -------------------------------------------------------------------------
    {"GET", "/api/v1/clinics/:id/slots", "slots.list", a::bearer, l::api, staff, owner},
    {"GET", "/api/v1/clinics/:id/appointments", "appointments.list", a::bearer, l::api, staff},
    {"POST", "/api/v1/clinics/:id/appointments", "appointments.create", a::bearer, l::api, desk, owner},
    {"GET", "/api/v1/clinics/:id/appointments/:aid", "appointments.get", a::bearer, l::api, staff},
    {"POST", "/api/v1/clinics/:id/appointments/:aid/reschedule", "appointments.reschedule", a::bearer, l::api,
     desk, owner},
    {"POST", "/api/v1/clinics/:id/appointments/:aid/cancel", "appointments.cancel", a::bearer, l::api, desk, owner},
    {"POST", "/api/v1/clinics/:id/appointments/:aid/attended", "appointments.attended", a::bearer, l::api, staff, owner},
    {"POST", "/api/v1/clinics/:id/appointments/:aid/no-show", "appointments.no_show", a::bearer, l::api, staff, owner},
    // -- a patient's record ---------------------------------------------------------------
    {"GET", "/api/v1/clinics/:id/contacts/:cid/appointments", "contacts.appointments", a::bearer, l::api, staff},
    {"PUT", "/api/v1/clinics/:id/contacts/:cid/opt-in", "contacts.opt_in", a::bearer, l::api, desk},
    {"DELETE", "/api/v1/clinics/:id/contacts/:cid/opt-in", "contacts.opt_in_withdraw", a::bearer, l::api, desk},
    // -- staff inbox ----------------------------------------------------------------------
    {"GET", "/api/v1/clinics/:id/conversations", "conversations.list", a::bearer, l::api, desk},
    {"GET", "/api/v1/clinics/:id/conversations/:cid", "conversations.get", a::bearer, l::api, desk},
    {"GET", "/api/v1/clinics/:id/conversations/:cid/messages", "conversations.messages", a::bearer, l::api,
     desk},
    {"POST", "/api/v1/clinics/:id/conversations/:cid/messages", "conversations.reply", a::bearer, l::api, desk, owner},
    {"POST", "/api/v1/clinics/:id/conversations/:cid/release", "conversations.release", a::bearer, l::api,
     desk, owner},
    // -- live inspection ------------------------------------------------------------------
    {"GET", "/api/v1/admin/nodes", "inspect.nodes", a::bearer, l::api, super},
    {"GET", "/api/v1/admin/actors", "inspect.actors", a::bearer, l::api, super},
    {"GET", "/api/v1/admin/clinics/:id/actors", "inspect.clinic", a::bearer, l::api, admins, owner},
    {"GET", "/api/v1/admin/conversations/:cid", "inspect.conversation", a::bearer, l::api, admins, owner},
    {"GET", "/api/v1/admin/flows/:fid", "inspect.flow", a::bearer, l::api, admins, owner},
  };
  return routes;
}

const api_route* find_api_route(std::string_view op) {
  for (auto& r : api_routes())
    if (op == r.op)
      return &r;
  return nullptr;
}

} // namespace atendeai::core
