#include "persistence/jobs.hpp"

#include <nlohmann/json.hpp>

#include "core/clinic.hpp"
#include "persistence/database.hpp"

namespace atendeai::persistence {

namespace {

/// A PostgreSQL array literal of uuids ({"a","b"}); the ids come from PostgreSQL itself.
std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i)
    out += (i ? ",\"" : "\"") + ids[i] + "\"";
  return out + "}";
}

/// "{1440,120}" → {1440, 120}.
std::vector<int> int_array(const std::string& literal) {
  std::vector<int> out;
  std::string digits;
  for (char c : literal) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (!digits.empty()) {
      out.push_back(std::stoi(digits));
      digits.clear();
    }
  }
  if (!digits.empty())
    out.push_back(std::stoi(digits));
  return out;
}

std::string int_array_literal(const std::vector<int>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? "," : "") + std::to_string(v[i]);
  return out + "}";
}

constexpr const char* to_ts = "to_timestamp($%d::bigint / 1000.0)";

std::string ts(int param) {
  char buf[64];
  std::snprintf(buf, sizeof buf, to_ts, param);
  return buf;
}

/// A clinic's reminder settings as columns, in the order settings_from reads them: the
/// same for reminder_settings itself and for a row of claim_jobs.
constexpr const char* settings_columns =
  "enabled, offsets_minutes::text, template_name, template_language, to_char(quiet_start, 'HH24:MI'), "
  "to_char(quiet_end, 'HH24:MI'), notify_created, notify_moved, notify_cancelled, notice_template_name, "
  "notice_template_language, no_show_after_minutes, require_opt_in";

/// Reads settings_columns from `row`, starting at column `first`.
core::reminder_settings settings_from(const pqxx::row& row, pqxx::row::size_type first) {
  core::reminder_settings s;
  auto at = [&](int i) { return row[first + i]; };
  s.enabled = at(0).as<bool>();
  s.offsets_minutes = int_array(at(1).as<std::string>());
  s.template_name = at(2).as<std::string>();
  s.template_language = at(3).as<std::string>();
  s.quiet_start = core::parse_hhmm(at(4).as<std::string>()).value_or(s.quiet_start);
  s.quiet_end = core::parse_hhmm(at(5).as<std::string>()).value_or(s.quiet_end);
  s.notify_created = at(6).as<bool>();
  s.notify_moved = at(7).as<bool>();
  s.notify_cancelled = at(8).as<bool>();
  s.notice_template_name = at(9).as<std::string>();
  s.notice_template_language = at(10).as<std::string>();
  if (!at(11).is_null())
    s.no_show_after_minutes = at(11).as<int>();
  s.require_opt_in = at(12).as<bool>();
  return s;
}

} // namespace

int plan_reminders(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& appointment_id,
                   core::instant now) {
  return tx
    .exec_params1("SELECT atendeai.plan_reminders($1::uuid, nullif($2, '')::uuid, " + ts(3) + ")", clinic_id,
                  appointment_id, ms_of(now))[0]
    .as<int>();
}

int plan_jobs(pqxx::connection& conn, const std::string& clinic_id, const std::string& appointment_id,
              const std::string& change, core::instant now) {
  pqxx::work tx(conn);
  auto n = change == "cancelled" ? 0 : plan_reminders(tx, clinic_id, appointment_id, now);
  if (!change.empty())
    n += tx.exec_params1("SELECT atendeai.plan_notice($1::uuid, $2::uuid, $3, " + ts(4) + ")", clinic_id,
                         appointment_id, change, ms_of(now))[0]
           .as<int>();
  tx.commit();
  return n;
}

core::due_jobs clinics_with_due_jobs(pqxx::connection& conn, core::instant now) {
  pqxx::work tx(conn); // it plans each clinic's retention job of the day too
  core::due_jobs out;
  for (auto row : tx.exec_params("SELECT c::text FROM atendeai.clinics_with_due_jobs(" + ts(1) + ") AS c", ms_of(now)))
    out.clinics.push_back(row[0].as<std::string>());
  auto next = tx.exec_params1("SELECT (extract(epoch FROM atendeai.next_job_due(" + ts(1) + ")) * 1000)::bigint",
                              ms_of(now));
  if (!next[0].is_null())
    out.next_due_ms = next[0].as<int64_t>();
  tx.commit();
  return out;
}

std::vector<retention_run> run_retention(pqxx::connection& conn, const std::vector<std::string>& clinics,
                                         core::instant now, const std::string& node) {
  std::vector<retention_run> out;
  if (clinics.empty())
    return out;
  pqxx::work tx(conn);
  for (auto row : tx.exec_params("SELECT clinic_id::text, messages, memories FROM atendeai.run_retention($1::uuid[], " +
                                   ts(2) + ", $3)",
                                 uuid_array(clinics), ms_of(now), node))
    out.push_back({row[0].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>()});
  tx.commit();
  return out;
}

std::vector<core::due_reminder> claim_reminders(pqxx::connection& conn, const std::vector<std::string>& clinics,
                                                core::instant now, const std::string& node,
                                                std::chrono::seconds lease, int max_attempts, int limit) {
  std::vector<core::due_reminder> out;
  if (clinics.empty())
    return out;
  pqxx::work tx(conn);
  auto rows = tx.exec_params(
    "SELECT clinic_id::text, job_id::text, payload::text, coalesce(appointment_status, ''), "
    "coalesce((extract(epoch FROM starts_at) * 1000)::bigint, 0), coalesce((extract(epoch FROM ends_at) * 1000)::bigint, 0), "
    "coalesce(professional_id::text, ''), coalesce(service_id::text, ''), coalesce(conversation_id::text, ''), "
    "patient_name, coalesce(account_id, ''), coalesce(contact, ''), "
    "(extract(epoch FROM window_until) * 1000)::bigint, opted_out, kind, opt_in, " + std::string(settings_columns) +
      " FROM atendeai.claim_jobs($1::uuid[], " + ts(2) + ", $3, make_interval(secs => $4), $5, $6)",
    uuid_array(clinics), ms_of(now), node, static_cast<int>(lease.count()), max_attempts, limit);
  tx.commit();
  for (auto row : rows) {
    core::due_reminder r;
    r.clinic_id = row[0].as<std::string>();
    r.job_id = row[1].as<std::string>();
    auto payload = nlohmann::json::parse(row[2].as<std::string>(), nullptr, false);
    if (payload.is_object()) {
      r.appointment_id = payload.value("appointment_id", "");
      r.offset_minutes = payload.value("offset_minutes", 0);
      r.planned_start = core::instant{std::chrono::milliseconds{payload.value("starts_at_ms", int64_t{0})}};
      r.change = payload.value("change", "");
      r.planned_end = core::instant{std::chrono::milliseconds{payload.value("ends_at_ms", int64_t{0})}};
      r.after_minutes = payload.value("after_minutes", 0);
      r.offer_id = payload.value("offer_id", "");
      r.freed = {payload.value("professional_id", ""), payload.value("service_id", ""), r.planned_start, r.planned_end};
    }
    r.kind = row[14].as<std::string>();
    r.appointment_status = row[3].as<std::string>();
    r.starts_at = instant_of(row[4]);
    r.ends_at = instant_of(row[5]);
    r.professional_id = row[6].as<std::string>();
    r.service_id = row[7].as<std::string>();
    r.conversation_id = row[8].as<std::string>();
    r.patient_name = row[9].as<std::string>();
    r.account_id = row[10].as<std::string>();
    r.contact = row[11].as<std::string>();
    if (!row[12].is_null())
      r.window_until = instant_of(row[12]);
    r.opted_out = row[13].as<bool>();
    r.opt_in = row[15].as<bool>();
    r.settings = settings_from(row, 16);
    out.push_back(std::move(r));
  }
  return out;
}

void finish_job(pqxx::connection& conn, const std::string& clinic_id, const std::string& job_id,
                const std::string& state, const std::string& outcome, core::instant due, core::instant now) {
  pqxx::work tx(conn);
  tx.exec_params("SELECT atendeai.finish_job($1::uuid, $2::uuid, $3, $4, " + ts(5) + ", " + ts(6) + ")", clinic_id,
                 job_id, state, outcome, ms_of(due), ms_of(now));
  tx.commit();
}

core::reminder_settings load_reminder_settings(pqxx::transaction_base& tx, const std::string& clinic_id) {
  auto r = tx.exec_params(std::string("SELECT ") + settings_columns +
                            " FROM atendeai.reminder_settings WHERE clinic_id = $1",
                          clinic_id);
  return r.empty() ? core::reminder_settings{} : settings_from(r[0], 0);
}

void save_reminder_settings(pqxx::transaction_base& tx, const std::string& clinic_id, const core::reminder_settings& s) {
  tx.exec_params("INSERT INTO atendeai.reminder_settings AS r (clinic_id, enabled, offsets_minutes, template_name, "
                 "template_language, quiet_start, quiet_end, notify_created, notify_moved, notify_cancelled, "
                 "notice_template_name, notice_template_language, no_show_after_minutes, require_opt_in, updated_at) "
                 "VALUES ($1, $2, $3::int[], $4, $5, $6::time, $7::time, $8, $9, $10, $11, $12, $13, $14, now()) "
                 "ON CONFLICT (clinic_id) DO UPDATE SET enabled = excluded.enabled, "
                 "offsets_minutes = excluded.offsets_minutes, template_name = excluded.template_name, "
                 "template_language = excluded.template_language, quiet_start = excluded.quiet_start, "
                 "quiet_end = excluded.quiet_end, notify_created = excluded.notify_created, "
                 "notify_moved = excluded.notify_moved, notify_cancelled = excluded.notify_cancelled, "
                 "notice_template_name = excluded.notice_template_name, "
                 "notice_template_language = excluded.notice_template_language, "
                 "no_show_after_minutes = excluded.no_show_after_minutes, require_opt_in = excluded.require_opt_in, "
                 "updated_at = now()",
                 clinic_id, s.enabled, int_array_literal(s.offsets_minutes), s.template_name, s.template_language,
                 core::format_hhmm(s.quiet_start), core::format_hhmm(s.quiet_end), s.notify_created, s.notify_moved,
                 s.notify_cancelled, s.notice_template_name, s.notice_template_language, s.no_show_after_minutes,
                 s.require_opt_in);
}

std::optional<core::instant> window_until(pqxx::transaction_base& tx, const std::string& clinic_id,
                                          const std::string& conversation_id) {
  auto r = tx.exec_params("SELECT (extract(epoch FROM coalesce(sent_at, created_at) + interval '24 hours') * 1000)::bigint "
                          "FROM atendeai.inbound_messages WHERE clinic_id = $1 AND conversation_id = $2 "
                          "ORDER BY created_at DESC LIMIT 1",
                          clinic_id, conversation_id);
  if (r.empty() || r[0][0].is_null())
    return std::nullopt;
  return instant_of(r[0][0]);
}

} // namespace atendeai::persistence
