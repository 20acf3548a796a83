#include "persistence/agenda.hpp"

#include <chrono>

#include "core/agenda_rules.hpp"
#include "core/waitlist.hpp"
#include "core/phone.hpp"
#include "persistence/audit.hpp"
#include "persistence/database.hpp"

namespace atendeai::persistence {

namespace {

/// The columns read_entry expects, in order: the appointment's, then its contact's
/// channel and id there (whatever the statement calls the appointments table; $1 is the
/// clinic).
constexpr const char* entry_columns =
  "id::text, professional_id::text, service_id::text, "
  "(extract(epoch FROM starts_at) * 1000)::bigint, (extract(epoch FROM ends_at) * 1000)::bigint, "
  "status, contact_id::text, coalesce(conversation_id::text, ''), "
  "(SELECT ct.channel FROM atendeai.contacts ct WHERE ct.clinic_id = $1 AND ct.id = contact_id), "
  "(SELECT ct.external_id FROM atendeai.contacts ct WHERE ct.clinic_id = $1 AND ct.id = contact_id)";

agenda_entry read_entry(const pqxx::row& row) {
  agenda_entry e;
  auto& a = e.appointment;
  a.id = row[0].as<std::string>();
  a.professional_id = row[1].as<std::string>();
  a.service_id = row[2].as<std::string>();
  a.start = instant_of(row[3]);
  a.end = instant_of(row[4]);
  a.status = core::appointment_status_from_string(row[5].as<std::string>()).value_or(core::appointment_status::scheduled);
  a.contact_id = row[6].as<std::string>();
  e.conversation_id = row[7].as<std::string>();
  e.patient_phone = core::contact_phone(row[8].as<std::string>(""), row[9].as<std::string>(""));
  return e;
}

bool exclusion_violation(const pqxx::sql_error& e) { return e.sqlstate() == "23P01"; }

/// Runs one write transaction returning at most one entry row; the exclusion
/// constraint becomes slot_taken.
template <class F>
agenda_write write(pqxx::connection& conn, const std::string& clinic_id, F&& f) {
  try {
    pqxx::work tx(conn);
    set_clinic(tx, clinic_id);
    pqxx::result r = f(tx);
    tx.commit();
    if (r.empty())
      return {agenda_outcome::not_found, std::nullopt};
    return {agenda_outcome::ok, read_entry(r[0])};
  } catch (const pqxx::sql_error& e) {
    if (exclusion_violation(e))
      return {agenda_outcome::slot_taken, std::nullopt};
    throw;
  }
}

} // namespace

agenda_data load_agenda(pqxx::connection& conn, const std::string& clinic_id, core::instant from) {
  agenda_data out;
  const auto from_iso = core::format_iso(from);
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  for (auto row : tx.exec_params(std::string("SELECT ") + entry_columns +
                                   " FROM atendeai.appointments WHERE clinic_id = $1 AND ends_at > $2::timestamptz "
                                   "AND status IN ('scheduled', 'confirmed') ORDER BY starts_at",
                                 clinic_id, from_iso))
    out.appointments.push_back(read_entry(row));
  for (auto row : tx.exec_params("SELECT professional_id::text, (extract(epoch FROM starts_at) * 1000)::bigint, "
                                 "(extract(epoch FROM ends_at) * 1000)::bigint FROM atendeai.professional_absences "
                                 "WHERE clinic_id = $1 AND ends_at > $2::timestamptz ORDER BY starts_at",
                                 clinic_id, from_iso))
    out.absences.push_back({row[0].as<std::string>(), instant_of(row[1]), instant_of(row[2])});
  for (auto row : tx.exec_params("SELECT starts_on::text, ends_on::text, reason FROM atendeai.closures "
                                 "WHERE clinic_id = $1 AND ends_on >= ($2::timestamptz)::date - 1 ORDER BY starts_on",
                                 clinic_id, from_iso)) {
    auto first = core::parse_ymd(row[0].as<std::string>());
    auto last = core::parse_ymd(row[1].as<std::string>());
    if (first && last)
      out.closures.push_back({*first, *last, row[2].as<std::string>()});
  }
  for (auto row : tx.exec_params("SELECT waitlist_id::text, professional_id::text, service_id::text, "
                                 "(extract(epoch FROM starts_at) * 1000)::bigint, (extract(epoch FROM ends_at) * 1000)::bigint, "
                                 "(extract(epoch FROM hold_until) * 1000)::bigint FROM atendeai.waitlist_offers "
                                 "WHERE clinic_id = $1 AND state = 'offered' AND hold_until > $2::timestamptz",
                                 clinic_id, from_iso))
    out.holds.push_back({core::slot{row[1].as<std::string>(), row[2].as<std::string>(), instant_of(row[3]), instant_of(row[4])},
                         instant_of(row[5]), core::waitlist_hold_owner(row[0].as<std::string>())});
  tx.commit();
  return out;
}

agenda_write book_appointment(pqxx::connection& conn, const std::string& clinic_id,
                              const std::string& conversation_id, const core::slot& slot) {
  return write(conn, clinic_id, [&](pqxx::work& tx) {
    return tx.exec_params(std::string("INSERT INTO atendeai.appointments AS a (clinic_id, professional_id, service_id, "
                                      "contact_id, conversation_id, starts_at, ends_at) "
                                      "SELECT $1, $2, $3, c.contact_id, c.id, $5::timestamptz, $6::timestamptz "
                                      "FROM atendeai.conversations c WHERE c.clinic_id = $1 AND c.id = $4 "
                                      "RETURNING ") + entry_columns,
                          clinic_id, slot.professional_id, slot.service_id, conversation_id,
                          core::format_iso(slot.start), core::format_iso(slot.end));
  });
}

agenda_write reschedule_appointment(pqxx::connection& conn, const std::string& clinic_id,
                                    const std::string& appointment_id, const core::slot& slot) {
  return write(conn, clinic_id, [&](pqxx::work& tx) {
    return tx.exec_params(std::string("UPDATE atendeai.appointments SET professional_id = $3, "
                                      "starts_at = $4::timestamptz, ends_at = $5::timestamptz, updated_at = now() "
                                      "WHERE clinic_id = $1 AND id = $2 AND status IN ('scheduled', 'confirmed') "
                                      "RETURNING ") + entry_columns,
                          clinic_id, appointment_id, slot.professional_id, core::format_iso(slot.start),
                          core::format_iso(slot.end));
  });
}

agenda_write cancel_appointment(pqxx::connection& conn, const std::string& clinic_id,
                                const std::string& appointment_id, const std::string& reason) {
  return write(conn, clinic_id, [&](pqxx::work& tx) {
    return tx.exec_params(std::string("UPDATE atendeai.appointments SET status = 'cancelled', cancel_reason = $3, "
                                      "updated_at = now() WHERE clinic_id = $1 AND id = $2 "
                                      "AND status IN ('scheduled', 'confirmed') RETURNING ") + entry_columns,
                          clinic_id, appointment_id, reason);
  });
}

agenda_write confirm_appointment(pqxx::connection& conn, const std::string& clinic_id,
                                 const std::string& appointment_id) {
  return write(conn, clinic_id, [&](pqxx::work& tx) {
    return tx.exec_params(std::string("UPDATE atendeai.appointments SET status = 'confirmed', updated_at = now() "
                                      "WHERE clinic_id = $1 AND id = $2 AND status IN ('scheduled', 'confirmed') "
                                      "RETURNING ") + entry_columns,
                          clinic_id, appointment_id);
  });
}

// -- the admin API's view ----------------------------------------------------------------

namespace {

/// An appointment with its patient: read_entry's columns first, then name, cancel
/// reason, created_at, updated_at.
constexpr const char* record_select =
  "SELECT a.id::text, a.professional_id::text, a.service_id::text, "
  "(extract(epoch FROM a.starts_at) * 1000)::bigint, (extract(epoch FROM a.ends_at) * 1000)::bigint, "
  "a.status, a.contact_id::text, coalesce(a.conversation_id::text, ''), "
  "c.channel, c.external_id, coalesce(c.name, ''), coalesce(a.cancel_reason, ''), "
  "to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
  "to_char(a.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
  "FROM atendeai.appointments a JOIN atendeai.contacts c ON c.clinic_id = a.clinic_id AND c.id = a.contact_id ";

appointment_record read_record(const pqxx::row& row) {
  appointment_record r;
  r.entry = read_entry(row);
  r.patient_phone = r.entry.patient_phone.empty() ? row[9].as<std::string>() : r.entry.patient_phone;
  r.patient_name = row[10].as<std::string>();
  r.cancel_reason = row[11].as<std::string>();
  r.created_at = row[12].as<std::string>();
  r.updated_at = row[13].as<std::string>();
  return r;
}

std::optional<appointment_record> read_one(pqxx::transaction_base& tx, const std::string& clinic_id,
                                           const std::string& id, bool lock) {
  auto rows = tx.exec_params(std::string(record_select) + "WHERE a.clinic_id = $1 AND a.id = $2" +
                               (lock ? " FOR UPDATE OF a" : ""),
                             clinic_id, id);
  if (rows.empty())
    return std::nullopt;
  return read_record(rows[0]);
}

const char* action_name(staff_action a) {
  switch (a) {
    case staff_action::create: return "appointment.create";
    case staff_action::reschedule: return "appointment.reschedule";
    case staff_action::cancel: return "appointment.cancel";
    case staff_action::attended: return "appointment.attended";
    case staff_action::no_show: return "appointment.no_show";
  }
  return "appointment.change";
}

core::agenda_change change_of(staff_action a) {
  switch (a) {
    case staff_action::reschedule: return core::agenda_change::reschedule;
    case staff_action::cancel: return core::agenda_change::cancel;
    case staff_action::attended: return core::agenda_change::attended;
    default: return core::agenda_change::no_show;
  }
}

/// A PostgreSQL text[] literal of plain ids (digits, no quoting needed).
std::string text_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (auto& id : ids)
    out += (out.size() > 1 ? "," : "") + id;
  return out + "}";
}

/// Inserts the appointment of a create; returns its id. The patient is the WhatsApp
/// contact with their number in either form (one that wrote to the clinic first: a
/// contact the clinic only wrote to, its reminders, comes after), or a new one.
std::string insert_staff_appointment(pqxx::work& tx, const std::string& clinic_id, const staff_change& c) {
  auto ids = core::whatsapp_ids(c.patient_phone);
  if (ids.empty())
    throw std::invalid_argument("staff_change: patient_phone is not E.164");
  auto found = tx.exec_params("SELECT ct.id::text FROM atendeai.contacts ct WHERE ct.clinic_id = $1 "
                              "AND ct.channel = 'whatsapp' AND ct.external_id = ANY($2::text[]) "
                              "ORDER BY EXISTS (SELECT 1 FROM atendeai.conversations cv JOIN atendeai.inbound_messages i "
                              "ON i.clinic_id = cv.clinic_id AND i.conversation_id = cv.id WHERE cv.clinic_id = $1 "
                              "AND cv.contact_id = ct.id) DESC, ct.created_at, ct.id LIMIT 1",
                              clinic_id, text_array(ids));
  if (!found.empty())
    tx.exec_params("UPDATE atendeai.contacts SET name = $3 WHERE clinic_id = $1 AND id = $2 "
                   "AND coalesce(name, '') = '' AND $3 <> ''",
                   clinic_id, found[0][0].as<std::string>(), c.patient_name);
  auto contact = !found.empty() ? found[0][0].as<std::string>()
                                : tx.exec_params1(
                                      "INSERT INTO atendeai.contacts AS ct (clinic_id, channel, external_id, name) "
                                      "VALUES ($1, 'whatsapp', $2, nullif($3, '')) "
                                      "ON CONFLICT (clinic_id, channel, external_id) "
                                      "DO UPDATE SET name = coalesce(nullif(ct.name, ''), EXCLUDED.name) "
                                      "RETURNING ct.id::text",
                                      clinic_id, ids.front(), c.patient_name)[0]
                                    .as<std::string>();
  return tx
    .exec_params1("INSERT INTO atendeai.appointments (clinic_id, professional_id, service_id, contact_id, "
                  "conversation_id, starts_at, ends_at) "
                  "VALUES ($1, $2, $3, $4, (SELECT cv.id FROM atendeai.conversations cv WHERE cv.clinic_id = $1 "
                  "AND cv.contact_id = $4 AND cv.channel = 'whatsapp'), $5::timestamptz, $6::timestamptz) "
                  "RETURNING id::text",
                  clinic_id, c.slot.professional_id, c.slot.service_id, contact, core::format_iso(c.slot.start),
                  core::format_iso(c.slot.end))[0]
    .as<std::string>();
}

/// Applies a change to an existing, locked appointment.
void update_staff_appointment(pqxx::work& tx, const std::string& clinic_id, const staff_change& c) {
  switch (c.action) {
    case staff_action::reschedule:
      tx.exec_params("UPDATE atendeai.appointments SET professional_id = $3, starts_at = $4::timestamptz, "
                     "ends_at = $5::timestamptz, updated_at = now() WHERE clinic_id = $1 AND id = $2",
                     clinic_id, c.appointment_id, c.slot.professional_id, core::format_iso(c.slot.start),
                     core::format_iso(c.slot.end));
      return;
    case staff_action::cancel:
      tx.exec_params("UPDATE atendeai.appointments SET status = 'cancelled', cancel_reason = $3, updated_at = now() "
                     "WHERE clinic_id = $1 AND id = $2",
                     clinic_id, c.appointment_id, c.reason);
      return;
    case staff_action::attended:
    case staff_action::no_show:
      tx.exec_params("UPDATE atendeai.appointments SET status = $3, updated_at = now() "
                     "WHERE clinic_id = $1 AND id = $2",
                     clinic_id, c.appointment_id, c.action == staff_action::attended ? "attended" : "no_show");
      return;
    case staff_action::create:
      return;
  }
}

/// A LIKE pattern matching `s` anywhere, its wildcards escaped.
std::string contains_pattern(const std::string& s) {
  std::string out = "%";
  for (char ch : s) {
    if (ch == '%' || ch == '_' || ch == '\\')
      out += '\\';
    out += ch;
  }
  return out + "%";
}

std::optional<std::string> opt_iso(const std::optional<core::instant>& t) {
  return t ? std::optional<std::string>(core::format_iso(*t)) : std::nullopt;
}

} // namespace

staff_write apply_staff_change(pqxx::connection& conn, const std::string& clinic_id, const staff_change& change,
                               core::instant now) {
  try {
    pqxx::work tx(conn);
    set_clinic(tx, clinic_id);
    std::optional<appointment_record> before;
    std::string id = change.appointment_id;
    if (change.action == staff_action::create) {
      id = insert_staff_appointment(tx, clinic_id, change);
    } else {
      before = read_one(tx, clinic_id, id, true);
      if (!before)
        return {agenda_outcome::not_found, {}, std::nullopt};
      if (auto refusal = core::check_transition(before->entry.appointment, change_of(change.action), now))
        return {agenda_outcome::ok, refusal->message, std::nullopt};
      if (change.action == staff_action::reschedule && change.slot.end <= change.slot.start)
        return {agenda_outcome::ok, "the appointment is not in this node's agenda; retry", std::nullopt};
      update_staff_appointment(tx, clinic_id, change);
    }
    auto after = read_one(tx, clinic_id, id, false);
    audit_entry e;
    e.clinic_id = clinic_id;
    e.actor_user_id = change.by.user_id;
    e.actor_role = change.by.role;
    e.action = action_name(change.action);
    e.target_type = "appointment";
    e.target_id = id;
    e.before = before ? to_json(*before, nullptr) : nlohmann::json();
    e.after = to_json(*after, nullptr);
    e.request_id = change.by.request_id;
    e.ip = change.by.ip;
    append_audit(tx, e);
    tx.commit();
    return {agenda_outcome::ok, {}, std::move(after)};
  } catch (const pqxx::sql_error& e) {
    if (exclusion_violation(e))
      return {agenda_outcome::slot_taken, {}, std::nullopt};
    throw;
  }
}

std::optional<appointment_record> find_appointment(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                   const std::string& appointment_id) {
  return read_one(tx, clinic_id, appointment_id, false);
}

appointment_page list_appointments(pqxx::transaction_base& tx, const std::string& clinic_id,
                                   const appointment_filter& f, int page, int per_page) {
  // One fixed statement: unset filters are NULL parameters, never concatenated SQL.
  const char* where = "WHERE a.clinic_id = $1"
                      " AND ($2::timestamptz IS NULL OR a.starts_at >= $2::timestamptz)"
                      " AND ($3::timestamptz IS NULL OR a.starts_at < $3::timestamptz)"
                      " AND ($4::uuid IS NULL OR a.professional_id = $4::uuid)"
                      " AND ($5::text IS NULL OR a.status = $5)"
                      " AND ($6::text[] IS NULL OR c.external_id = ANY($6::text[]) OR c.name ILIKE $7)"
                      " AND ($8::uuid IS NULL OR a.contact_id = $8::uuid)";
  std::optional<std::string> phone, pattern;
  if (f.patient) {
    // The number as typed (digits only), and in every WhatsApp form of its E.164.
    std::vector<std::string> ids;
    std::string digits;
    for (char ch : *f.patient)
      if (ch >= '0' && ch <= '9')
        digits += ch;
    if (!digits.empty())
      ids.push_back(digits);
    if (auto n = core::normalize_phone(*f.patient); n.e164)
      for (auto& id : core::whatsapp_ids(*n.e164))
        ids.push_back(id);
    phone = text_array(ids);
    pattern = contains_pattern(*f.patient);
  }
  appointment_page out;
  out.total = tx.exec_params1(std::string("SELECT count(*) FROM atendeai.appointments a JOIN atendeai.contacts c "
                                          "ON c.clinic_id = a.clinic_id AND c.id = a.contact_id ") + where,
                              clinic_id, opt_iso(f.from), opt_iso(f.to), f.professional_id, f.status, phone, pattern,
                              f.contact_id)[0]
                .as<int64_t>();
  const char* order = f.newest_first ? " ORDER BY a.starts_at DESC, a.id DESC" : " ORDER BY a.starts_at, a.id";
  for (auto row : tx.exec_params(std::string(record_select) + where + order + " LIMIT $9 OFFSET $10", clinic_id,
                                 opt_iso(f.from), opt_iso(f.to), f.professional_id, f.status, phone, pattern,
                                 f.contact_id, per_page, static_cast<int64_t>(page - 1) * per_page))
    out.items.push_back(read_record(row));
  return out;
}

std::optional<contact_record> find_contact(pqxx::transaction_base& tx, const std::string& clinic_id,
                                           const std::string& contact_id,
                                           const std::optional<std::string>& professional_id) {
  auto r = tx.exec_params("SELECT c.id::text, c.channel, c.external_id, coalesce(c.name, ''), c.opt_in_source, "
                          "to_char(c.opt_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), c.opt_in_by::text "
                          "FROM atendeai.contacts c WHERE c.clinic_id = $1 AND c.id = $2",
                          clinic_id, contact_id);
  if (r.empty())
    return std::nullopt;
  contact_record out;
  out.id = r[0][0].as<std::string>();
  out.channel = r[0][1].as<std::string>();
  out.phone = r[0][2].as<std::string>();
  out.name = r[0][3].as<std::string>();
  auto opt = [](const pqxx::field& f) { return f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str()); };
  out.opt_in_source = opt(r[0][4]);
  out.opt_in_at = opt(r[0][5]);
  out.opt_in_by = opt(r[0][6]);
  for (auto status : {core::appointment_status::scheduled, core::appointment_status::confirmed,
                      core::appointment_status::attended, core::appointment_status::no_show,
                      core::appointment_status::cancelled})
    out.counts.emplace_back(core::to_string(status), 0);
  for (auto row : tx.exec_params("SELECT a.status, count(*) FROM atendeai.appointments a "
                                 "WHERE a.clinic_id = $1 AND a.contact_id = $2 "
                                 "AND ($3::uuid IS NULL OR a.professional_id = $3::uuid) GROUP BY a.status",
                                 clinic_id, contact_id, professional_id))
    for (auto& [status, n] : out.counts)
      if (status == row[0].c_str())
        n = row[1].as<int64_t>();
  return out;
}

bool set_opt_in(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& contact_id,
                const std::optional<std::string>& source, const std::string& by_user_id, core::instant at) {
  return !tx
            .exec_params("UPDATE atendeai.contacts SET opt_in_source = $3, "
                         "opt_in_at = CASE WHEN $3::text IS NULL THEN NULL ELSE $5::timestamptz END, "
                         "opt_in_by = CASE WHEN $3::text IS NULL THEN NULL ELSE nullif($4, '')::uuid END "
                         "WHERE clinic_id = $1 AND id = $2 RETURNING 1",
                         clinic_id, contact_id, source, by_user_id, core::format_iso(at))
            .empty();
}

nlohmann::json to_json(const contact_record& c) {
  nlohmann::json counts = nlohmann::json::object();
  int64_t total = 0;
  for (auto& [status, n] : c.counts) {
    counts[status] = n;
    total += n;
  }
  counts["total"] = total;
  nlohmann::json opt_in;
  if (c.opt_in_source)
    opt_in = {{"source", *c.opt_in_source}, {"at", c.opt_in_at.value_or("")},
              {"by", c.opt_in_by ? nlohmann::json(*c.opt_in_by) : nlohmann::json()}};
  return {{"id", c.id},
          {"channel", c.channel},
          {"phone", c.phone},
          {"name", c.name.empty() ? nlohmann::json() : nlohmann::json(c.name)},
          {"opt_in", opt_in},
          {"appointment_counts", counts}};
}

std::string clinic_timezone(pqxx::transaction_base& tx, const std::string& clinic_id) {
  auto r = tx.exec_params("SELECT timezone FROM atendeai.clinics WHERE id = $1", clinic_id);
  return r.empty() ? std::string() : r[0][0].as<std::string>();
}

nlohmann::json to_json(const appointment_record& r, const date::time_zone* tz) {
  const auto& a = r.entry.appointment;
  auto when = [&](core::instant t) { return tz ? core::format_local_iso(tz, t) : core::format_iso(t); };
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  return {{"id", a.id},
          {"service_id", a.service_id},
          {"professional_id", a.professional_id},
          {"starts_at", when(a.start)},
          {"ends_at", when(a.end)},
          {"status", std::string(core::to_string(a.status))},
          {"cancel_reason", or_null(r.cancel_reason)},
          {"patient", {{"contact_id", a.contact_id}, {"phone", r.patient_phone}, {"name", or_null(r.patient_name)}}},
          {"conversation_id", or_null(r.entry.conversation_id)},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at}};
}

} // namespace atendeai::persistence
