/// Admin API: free slots and appointments.
///
/// Reads (lists, one appointment) run on the worker's own connection under the clinic's
/// row-level security. Every change goes through the clinic actor, which serialises it
/// with the chat's holds and bookings, checks the time against its in-memory agenda
/// (the same core::free_slots the chat offers from) and has PostgreSQL write the row and
/// its audit entry in one transaction.
#include <caf/all.hpp>

#include "api/call.hpp"
#include "api/clinic_rows.hpp"
#include "api/validation.hpp"
#include "core/agenda_rules.hpp"
#include "core/log.hpp"
#include "core/phone.hpp"
#include "persistence/agenda.hpp"

namespace atendeai::api {

using namespace actors; // the clinic actor's typed interface and its atoms

namespace {

using nlohmann::json;

/// Longest date range of a slots query, in days.
constexpr int max_slot_range_days = 31;
/// How long a handler waits for the clinic actor (which may wait on PostgreSQL).
constexpr auto clinic_timeout = std::chrono::seconds(35);

// -- talking to the clinic actor ---------------------------------------------------------------

[[noreturn]] void unavailable(const caf::error& err) {
  core::log_event(spdlog::level::warn, "agenda_unavailable", {{"error", caf::to_string(err)}});
  fail(core::error_code::database_unavailable, "the agenda cannot be reached right now; retry later");
}

/// Asks the call's clinic actor (spawned on demand by the router) and waits for its answer.
template <class Answer, class... Ts>
Answer ask_clinic(api_call& call, Ts&&... xs) {
  caf::scoped_actor self{*call.w.system};
  caf::error failed;
  clinic_actor clinic;
  self->request(call.w.node->router(), std::chrono::seconds(5), clinic_atom::value, call.clinic_id)
    .receive([&](clinic_actor& c) { clinic = std::move(c); }, [&](caf::error& err) { failed = std::move(err); });
  if (failed)
    unavailable(failed);
  Answer out;
  self->request(clinic, clinic_timeout, std::forward<Ts>(xs)...)
    .receive([&](Answer& a) { out = std::move(a); }, [&](caf::error& err) { failed = std::move(err); });
  if (failed)
    unavailable(failed);
  return out;
}

json slot_json(const core::slot& s, const date::time_zone* tz) {
  return {{"professional_id", s.professional_id},
          {"service_id", s.service_id},
          {"starts_at", core::format_local_iso(tz, s.start)},
          {"ends_at", core::format_local_iso(tz, s.end)}};
}

json slots_json(const std::vector<core::slot>& slots, const date::time_zone* tz) {
  auto out = json::array();
  for (auto& s : slots)
    out.push_back(slot_json(s, tz));
  return out;
}

// -- input ---------------------------------------------------------------------------------------

/// A UUID member of a body or query: 422 naming it otherwise.
std::string uuid_of(const std::string& value, const char* field) {
  auto id = lower(value);
  if (!valid_uuid(id))
    fail(core::error_code::validation_failed, "must be a UUID", field);
  return id;
}

/// A required YYYY-MM-DD query parameter.
date::year_month_day day_of(const page_query& q, const char* field) {
  auto it = q.rest.find(field);
  if (it == q.rest.end())
    fail(core::error_code::validation_failed, "is required (YYYY-MM-DD)", field);
  auto d = core::parse_ymd(it->second);
  if (!d)
    fail(core::error_code::validation_failed, "must be a date YYYY-MM-DD", field);
  return *d;
}

/// An instant member: ISO 8601 with Z or an offset.
core::instant instant_of(const json& body, const char* field) {
  auto t = core::parse_iso(str(body, field));
  if (!t)
    fail(core::error_code::validation_failed, "must be an ISO 8601 time with Z or an offset", field);
  return *t;
}

/// A listing bound: a local date (its midnight in the clinic's zone, `next_day` for an
/// inclusive end) or an ISO 8601 instant.
core::instant bound_of(const std::string& value, const char* field, const date::time_zone* tz, bool next_day) {
  if (auto d = core::parse_ymd(value)) {
    auto day = date::sys_days{*d} + date::days{next_day ? 1 : 0};
    if (auto t = core::local_instant(tz, date::year_month_day{day}, 0))
      return *t;
    return core::instant{std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch())};
  }
  if (auto t = core::parse_iso(value))
    return *t;
  fail(core::error_code::validation_failed, "must be a date YYYY-MM-DD or an ISO 8601 time", field);
}

/// A patient's phone in E.164 (core::normalize_phone), or 422 naming the field.
std::string phone_of(const std::string& raw, const char* field) {
  auto n = core::normalize_phone(raw);
  if (!n.e164)
    fail(core::error_code::validation_failed, n.error, field);
  return *n.e164;
}

// -- who sees what ---------------------------------------------------------------------------

bool is_professional(const api_call& call) { return call.p.role == core::role::professional; }

/// The `status` of a listing's query, checked (422 naming it); none when not given.
std::optional<std::string> status_filter(page_query& q) {
  if (!q.rest.count("status"))
    return std::nullopt;
  if (!core::appointment_status_from_string(q.rest["status"]))
    fail(core::error_code::validation_failed, "must be one of scheduled, confirmed, attended, no_show, cancelled",
         "status");
  return q.rest["status"];
}

/// A professional's own agenda, the only one they see (an id matching nothing when the
/// user is linked to no professional); nullopt for every other role.
std::optional<std::string> own_agenda(const api_call& call) {
  if (!is_professional(call))
    return std::nullopt;
  const auto& own = call.p.user.professional_id;
  return own.empty() ? std::string("00000000-0000-0000-0000-000000000000") : own;
}

/// The appointment named by the path, in the caller's reach (a professional only sees
/// their own): 404 otherwise, also for another clinic's ids.
persistence::appointment_record target_of(api_call& call, std::string* timezone = nullptr) {
  auto id = call.id_param("aid", "appointment");
  auto found = call.w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::set_clinic(tx, call.clinic_id);
    auto r = persistence::find_appointment(tx, call.clinic_id, id);
    if (timezone)
      *timezone = persistence::clinic_timezone(tx, call.clinic_id);
    return r;
  });
  if (!found || (is_professional(call) && found->entry.appointment.professional_id != call.p.user.professional_id))
    fail(core::error_code::not_found, "no such appointment");
  return *found;
}

/// Who makes a change, for the audit row.
persistence::change_author author_of(const api_call& call) {
  return {call.p.user.id, call.p.user.role, call.r.request_id, call.r.ip};
}

/// Sends a change through the clinic actor and answers with the appointment, or turns a
/// refusal into the API's error (a 409 on the time carries "alternatives").
void change(api_call& call, persistence::staff_change c, int status) {
  c.by = author_of(call);
  auto a = ask_clinic<staff_answer>(call, change_atom::value, std::move(c));
  const auto* tz = core::zone_or_default(a.timezone);
  if (!a.ok) {
    api_failure f{a.code, a.message, a.field};
    if (a.code == core::error_code::conflict && a.field == "starts_at")
      f.extra = {{"alternatives", slots_json(a.alternatives, tz)}};
    throw f;
  }
  call.reply(status, persistence::to_json(*a.record, tz));
}

// -- handlers -----------------------------------------------------------------------------------

void list_slots(api_call& call) {
  auto q = parse_query(call.r.query, {"service_id", "professional_id", "from", "to"});
  if (!q.rest.count("service_id"))
    fail(core::error_code::validation_failed, "is required", "service_id");
  core::slot_query sq;
  sq.service_id = uuid_of(q.rest["service_id"], "service_id");
  if (q.rest.count("professional_id"))
    sq.professional_id = uuid_of(q.rest["professional_id"], "professional_id");
  sq.from = day_of(q, "from");
  sq.to = day_of(q, "to");
  if (sq.to < sq.from)
    fail(core::error_code::validation_failed, "must not be before from", "to");
  if (date::sys_days{sq.to} - date::sys_days{sq.from} >= date::days{max_slot_range_days})
    fail(core::error_code::validation_failed,
         "the range may span at most " + std::to_string(max_slot_range_days) + " days", "to");
  auto list = ask_clinic<slot_list>(call, slots_atom::value, sq);
  if (!list.field.empty())
    fail(core::error_code::validation_failed, list.message, list.field);
  const auto* tz = core::zone_or_default(list.timezone);
  call.reply(200, {{"clinic_id", call.clinic_id},
                   {"service_id", sq.service_id},
                   {"professional_id", sq.professional_id ? json(*sq.professional_id) : json()},
                   {"from", core::format_ymd(sq.from)},
                   {"to", core::format_ymd(sq.to)},
                   {"timezone", list.timezone},
                   {"slots", slots_json(list.slots, tz)}});
}

void list_appointments(api_call& call) {
  auto q = parse_query(call.r.query, {"from", "to", "professional_id", "status", "patient"});
  persistence::appointment_filter f;
  if (q.rest.count("professional_id"))
    f.professional_id = uuid_of(q.rest["professional_id"], "professional_id");
  f.status = status_filter(q);
  if (q.rest.count("patient")) {
    if (q.rest["patient"].empty())
      fail(core::error_code::validation_failed, "must not be empty", "patient");
    f.patient = q.rest["patient"];
  }
  if (auto own = own_agenda(call)) {
    if (f.professional_id && *f.professional_id != call.p.user.professional_id)
      fail(core::error_code::forbidden, "a professional sees only their own agenda", "professional_id");
    f.professional_id = own;
  }
  std::string timezone;
  auto page = call.w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::set_clinic(tx, call.clinic_id);
    timezone = persistence::clinic_timezone(tx, call.clinic_id);
    const auto* tz = core::zone_or_default(timezone);
    if (q.rest.count("from"))
      f.from = bound_of(q.rest["from"], "from", tz, false);
    if (q.rest.count("to"))
      f.to = bound_of(q.rest["to"], "to", tz, core::parse_ymd(q.rest["to"]).has_value());
    if (f.from && f.to && *f.to <= *f.from)
      fail(core::error_code::validation_failed, "must be after from", "to");
    return persistence::list_appointments(tx, call.clinic_id, f, q.page, q.per_page);
  });
  const auto* tz = core::zone_or_default(timezone);
  auto items = json::array();
  for (auto& r : page.items)
    items.push_back(persistence::to_json(r, tz));
  call.reply(200, {{"items", items}, {"page", q.page}, {"per_page", q.per_page}, {"total", page.total}});
}

void get_appointment(api_call& call) {
  parse_query(call.r.query, {});
  std::string timezone;
  auto r = target_of(call, &timezone);
  call.reply(200, persistence::to_json(r, core::zone_or_default(timezone)));
}

void create_appointment(api_call& call) {
  auto body = parse_body(call.r.body, {{"service_id", ftype::string, true, 36},
                                       {"professional_id", ftype::string, true, 36},
                                       {"starts_at", ftype::string, true, 40},
                                       {"patient", ftype::object, true, 0}});
  persistence::staff_change c;
  c.action = persistence::staff_action::create;
  c.slot.service_id = uuid_of(str(body, "service_id"), "service_id");
  c.slot.professional_id = uuid_of(str(body, "professional_id"), "professional_id");
  c.slot.start = instant_of(body, "starts_at");
  auto patient =
    nested_body(body, "patient", {{"phone", ftype::string, true, 32}, {"name", ftype::string, false, 200}});
  c.patient_phone = phone_of(str(patient, "phone"), "patient.phone");
  try {
    c.patient_name = name_of(patient, "name");
  } catch (api_failure& f) {
    f.field = "patient.name";
    throw;
  }
  change(call, std::move(c), 201);
}

void reschedule_appointment(api_call& call) {
  auto target = target_of(call);
  auto body =
    parse_body(call.r.body, {{"starts_at", ftype::string, true, 40}, {"professional_id", ftype::string, false, 36}});
  persistence::staff_change c;
  c.action = persistence::staff_action::reschedule;
  c.appointment_id = target.entry.appointment.id;
  c.slot.start = instant_of(body, "starts_at");
  if (body.contains("professional_id"))
    c.slot.professional_id = uuid_of(str(body, "professional_id"), "professional_id");
  change(call, std::move(c), 200);
}

void cancel_appointment(api_call& call) {
  auto target = target_of(call);
  auto body = parse_body(call.r.body, {{"reason", ftype::string, true, 500}});
  auto reason = str(body, "reason");
  if (reason.find_first_not_of(' ') == std::string::npos)
    fail(core::error_code::validation_failed, "must not be empty", "reason");
  persistence::staff_change c;
  c.action = persistence::staff_action::cancel;
  c.appointment_id = target.entry.appointment.id;
  c.reason = reason;
  change(call, std::move(c), 200);
}

/// attended / no-show: only once the appointment has started.
void mark(api_call& call, persistence::staff_action action) {
  auto target = target_of(call);
  no_body(call);
  persistence::staff_change c;
  c.action = action;
  c.appointment_id = target.entry.appointment.id;
  change(call, std::move(c), 200);
}

void mark_attended(api_call& call) { mark(call, persistence::staff_action::attended); }
void mark_no_show(api_call& call) { mark(call, persistence::staff_action::no_show); }

// -- a patient's record ---------------------------------------------------------

/// The contact of the route (:cid) with its appointment counts, or 404. A professional
/// sees the counts of their own appointments only.
persistence::contact_record contact_of(api_call& call, pqxx::transaction_base& tx) {
  auto id = call.id_param("cid", "contact");
  auto found = persistence::find_contact(tx, call.clinic_id, id, own_agenda(call));
  if (!found)
    fail(core::error_code::not_found, "no such contact");
  return *found;
}

/// GET .../contacts/{cid}/appointments: the patient (with the opt-in on record) and their
/// appointments, latest first, with the count in each status — how often they came,
/// cancelled or did not show up.
void contact_appointments(api_call& call) {
  auto q = parse_query(call.r.query, {"status"});
  persistence::appointment_filter f;
  f.newest_first = true;
  f.status = status_filter(q);
  std::string timezone;
  persistence::contact_record contact;
  auto page = call.w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::set_clinic(tx, call.clinic_id);
    contact = contact_of(call, tx);
    f.contact_id = contact.id;
    f.professional_id = own_agenda(call);
    timezone = persistence::clinic_timezone(tx, call.clinic_id);
    return persistence::list_appointments(tx, call.clinic_id, f, q.page, q.per_page);
  });
  const auto* tz = core::zone_or_default(timezone);
  auto items = json::array();
  for (auto& r : page.items)
    items.push_back(persistence::to_json(r, tz));
  call.reply(200, {{"contact", persistence::to_json(contact)},
                   {"items", items},
                   {"page", q.page},
                   {"per_page", q.per_page},
                   {"total", page.total}});
}

/// PUT .../contacts/{cid}/opt-in {"source"}: records the opt-in the clinic collected
/// (WhatsApp requires one before templates); DELETE withdraws it. Audited.
void set_opt_in(api_call& call, bool given) {
  std::optional<std::string> source;
  if (given) {
    auto body = parse_body(call.r.body, {{"source", ftype::string, true, 200}});
    source = str(body, "source");
    if (source->find_first_not_of(" \n\t") == std::string::npos)
      fail(core::error_code::validation_failed, "must say where the patient agreed (a form, the website, a call...)",
           "source");
  } else {
    no_body(call);
  }
  auto after = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto before = contact_of(call, tx);
    persistence::set_opt_in(tx, call.clinic_id, before.id, source, call.p.user.id, call.w.node->clock->now());
    auto updated = *persistence::find_contact(tx, call.clinic_id, before.id);
    audit(call, tx, given ? "contact.opt_in" : "contact.opt_in_withdrawn", "contact", before.id,
          persistence::to_json(before)["opt_in"], persistence::to_json(updated)["opt_in"]);
    return updated;
  });
  call.reply(200, persistence::to_json(after));
}

void record_opt_in(api_call& call) { set_opt_in(call, true); }
void withdraw_opt_in(api_call& call) { set_opt_in(call, false); }

} // namespace

void add_agenda_handlers(api_handlers& h) {
  h["contacts.appointments"] = contact_appointments;
  h["contacts.opt_in"] = record_opt_in;
  h["contacts.opt_in_withdraw"] = withdraw_opt_in;
  h["slots.list"] = list_slots;
  h["appointments.list"] = list_appointments;
  h["appointments.create"] = create_appointment;
  h["appointments.get"] = get_appointment;
  h["appointments.reschedule"] = reschedule_appointment;
  h["appointments.cancel"] = cancel_appointment;
  h["appointments.attended"] = mark_attended;
  h["appointments.no_show"] = mark_no_show;
}

} // namespace atendeai::api
