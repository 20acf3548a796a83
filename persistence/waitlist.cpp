#include "persistence/waitlist.hpp"

#include "persistence/database.hpp"
#include "persistence/json_rows.hpp"

namespace atendeai::persistence {

namespace {


std::optional<core::day_period> period_of(const std::string& s) {
  for (auto p : {core::day_period::morning, core::day_period::afternoon, core::day_period::evening})
    if (core::to_string(p) == s)
      return p;
  return std::nullopt;
}

std::string ymd_or_empty(const std::optional<date::year_month_day>& d) { return d ? core::format_ymd(*d) : std::string{}; }

/// An offer with its entry, as offer_columns lists them.
constexpr const char* offer_columns =
  "o.id::text, o.waitlist_id::text, w.conversation_id::text, o.state, w.status, w.lang, o.professional_id::text, "
  "o.service_id::text, (extract(epoch FROM o.starts_at) * 1000)::bigint, (extract(epoch FROM o.ends_at) * 1000)::bigint, "
  "(extract(epoch FROM o.hold_until) * 1000)::bigint";

/// One offer with its entry, by clinic ($1) and offer id ($2, text: a malformed id finds none).
std::string offer_by_id() {
  return std::string("SELECT ") + offer_columns +
         " FROM atendeai.waitlist_offers o JOIN atendeai.waitlist w ON w.clinic_id = o.clinic_id "
         "AND w.id = o.waitlist_id WHERE o.clinic_id = $1 AND o.id::text = $2";
}

core::waitlist_offer offer_from(const pqxx::row& r) {
  core::waitlist_offer o;
  o.id = r[0].as<std::string>();
  o.entry_id = r[1].as<std::string>();
  o.conversation_id = r[2].as<std::string>();
  o.state = r[3].as<std::string>();
  o.entry_status = r[4].as<std::string>();
  o.lang = r[5].as<std::string>();
  o.slot = {r[6].as<std::string>(), r[7].as<std::string>(), instant_of(r[8]), instant_of(r[9])};
  o.hold_until = instant_of(r[10]);
  return o;
}

/// An entry as the admin API shows it, built by PostgreSQL: the patient, the wish, the
/// open offer (null when none) and how many times were offered.
constexpr const char* entry_json =
  "jsonb_build_object('id', w.id, 'status', w.status, 'conversation_id', w.conversation_id, "
  "'contact', jsonb_build_object('id', ct.id, 'name', ct.name, 'phone', ct.external_id), "
  "'service_id', w.service_id, 'professional_id', w.professional_id, 'period', w.period, "
  "'date_from', w.date_from, 'date_to', w.date_to, 'lang', w.lang, 'offers', w.offers, "
  "'appointment_id', w.appointment_id, 'removed_by', w.removed_by, 'created_at', w.created_at, "
  "'updated_at', w.updated_at, "
  "'offer', (SELECT jsonb_build_object('id', o.id, 'professional_id', o.professional_id, 'service_id', o.service_id, "
  "'starts_at', o.starts_at, 'ends_at', o.ends_at, 'hold_until', o.hold_until) "
  "FROM atendeai.waitlist_offers o WHERE o.clinic_id = w.clinic_id AND o.waitlist_id = w.id AND o.state = 'offered'))::text "
  "FROM atendeai.waitlist w JOIN atendeai.contacts ct ON ct.clinic_id = w.clinic_id AND ct.id = w.contact_id ";

} // namespace

std::string join_waitlist(pqxx::connection& conn, const std::string& clinic_id, const std::string& conversation_id,
                          const core::waitlist_wish& wish, const std::string& lang) {
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  auto r = tx.exec_params1(
    "INSERT INTO atendeai.waitlist AS w (clinic_id, contact_id, conversation_id, service_id, professional_id, period, "
    "date_from, date_to, lang) "
    "SELECT c.clinic_id, c.contact_id, c.id, $3::uuid, nullif($4, '')::uuid, nullif($5, ''), nullif($6, '')::date, "
    "nullif($7, '')::date, $8 FROM atendeai.conversations c WHERE c.clinic_id = $1 AND c.id = $2 "
    "ON CONFLICT (clinic_id, contact_id, service_id) WHERE status IN ('waiting', 'offered') DO UPDATE SET "
    "conversation_id = excluded.conversation_id, professional_id = excluded.professional_id, period = excluded.period, "
    "date_from = excluded.date_from, date_to = excluded.date_to, lang = excluded.lang, updated_at = now() "
    "RETURNING w.id::text",
    clinic_id, conversation_id, wish.service_id, wish.professional_id.value_or(""),
    wish.period ? std::string(core::to_string(*wish.period)) : std::string{}, ymd_or_empty(wish.date_from),
    ymd_or_empty(wish.date_to), lang);
  tx.commit();
  return r[0].as<std::string>();
}

bool plan_waitlist_offer(pqxx::connection& conn, const std::string& clinic_id, const core::slot& freed,
                         core::instant now) {
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  auto r = tx.exec_params(
    "INSERT INTO atendeai.jobs (clinic_id, kind, cause_key, due_at, payload) "
    "SELECT $1::uuid, 'waitlist_offer', 'waitlist_offer:' || $2 || ':' || $4 || ':' || gen_random_uuid(), "
    "to_timestamp($6::bigint / 1000.0), jsonb_build_object('professional_id', $2::text, 'service_id', $3::text, "
    "'starts_at_ms', $4::bigint, 'ends_at_ms', $5::bigint) "
    "WHERE EXISTS (SELECT 1 FROM atendeai.waitlist w WHERE w.clinic_id = $1 AND w.status = 'waiting') "
    "ON CONFLICT (clinic_id, cause_key) DO NOTHING RETURNING 1",
    clinic_id, freed.professional_id, freed.service_id, ms_of(freed.start), ms_of(freed.end), ms_of(now));
  tx.commit();
  return !r.empty();
}

core::waitlist_round waitlist_candidates(pqxx::connection& conn, const std::string& clinic_id, const core::slot& freed,
                                   core::instant now) {
  pqxx::read_transaction tx(conn);
  set_clinic(tx, clinic_id);
  core::waitlist_round out;
  auto s = tx.exec_params("SELECT notice_template_name, notice_template_language FROM atendeai.reminder_settings "
                          "WHERE clinic_id = $1",
                          clinic_id);
  if (!s.empty()) {
    out.notice_template = s[0][0].as<std::string>();
    out.notice_language = s[0][1].as<std::string>();
  }
  auto rows = tx.exec_params(
    "SELECT w.id::text, w.conversation_id::text, w.lang, coalesce(ct.name, ''), coalesce(ib.account_id, ''), "
    "coalesce(ib.contact, ''), (extract(epoch FROM ib.sent_at + interval '24 hours') * 1000)::bigint, "
    "coalesce((cm.state ->> 'opted_out')::boolean, false), "
    "NOT coalesce(rs.require_opt_in, false) OR ct.opt_in_source IS NOT NULL, "
    "w.service_id::text, coalesce(w.professional_id::text, ''), coalesce(w.period, ''), "
    "coalesce(w.date_from::text, ''), coalesce(w.date_to::text, '') "
    "FROM atendeai.waitlist w "
    "JOIN atendeai.contacts ct ON ct.clinic_id = w.clinic_id AND ct.id = w.contact_id "
    "LEFT JOIN LATERAL (SELECT i.account_id, i.contact, coalesce(i.sent_at, i.created_at) AS sent_at "
    "  FROM atendeai.inbound_messages i WHERE i.clinic_id = w.clinic_id AND i.conversation_id = w.conversation_id "
    "  ORDER BY i.created_at DESC LIMIT 1) ib ON true "
    "LEFT JOIN atendeai.conversation_memory cm ON cm.clinic_id = w.clinic_id AND cm.conversation_id = w.conversation_id "
    "LEFT JOIN atendeai.reminder_settings rs ON rs.clinic_id = w.clinic_id "
    "WHERE w.clinic_id = $1 AND w.status = 'waiting' AND (w.professional_id IS NULL OR w.professional_id = $2::uuid) "
    "AND NOT EXISTS (SELECT 1 FROM atendeai.waitlist_offers o WHERE o.clinic_id = w.clinic_id AND o.waitlist_id = w.id "
    "  AND o.professional_id = $2::uuid AND o.starts_at = to_timestamp($3::bigint / 1000.0)) "
    "AND NOT EXISTS (SELECT 1 FROM atendeai.appointments a WHERE a.clinic_id = w.clinic_id "
    "  AND a.contact_id = w.contact_id AND a.service_id = w.service_id AND a.status IN ('scheduled', 'confirmed') "
    "  AND a.created_at > w.created_at AND a.starts_at > to_timestamp($4::bigint / 1000.0)) "
    "ORDER BY w.created_at, w.id LIMIT 50",
    clinic_id, freed.professional_id, ms_of(freed.start), ms_of(now));
  for (auto r : rows) {
    core::waitlist_candidate c;
    c.entry_id = r[0].as<std::string>();
    c.conversation_id = r[1].as<std::string>();
    c.lang = r[2].as<std::string>();
    c.patient_name = r[3].as<std::string>();
    c.account_id = r[4].as<std::string>();
    c.contact = r[5].as<std::string>();
    if (!r[6].is_null())
      c.window_until = instant_of(r[6]);
    c.opted_out = r[7].as<bool>();
    c.template_allowed = r[8].as<bool>();
    c.wish.service_id = r[9].as<std::string>();
    if (auto p = r[10].as<std::string>(); !p.empty())
      c.wish.professional_id = p;
    c.wish.period = period_of(r[11].as<std::string>());
    c.wish.date_from = core::parse_ymd(r[12].as<std::string>());
    c.wish.date_to = core::parse_ymd(r[13].as<std::string>());
    out.candidates.push_back(std::move(c));
  }
  return out;
}

std::optional<std::string> record_offer(pqxx::connection& conn, const std::string& clinic_id,
                                        const std::string& entry_id, const core::slot& s, core::instant hold_until) {
  try {
    pqxx::work tx(conn);
    set_clinic(tx, clinic_id);
    auto r = tx.exec_params(
      "WITH e AS (UPDATE atendeai.waitlist SET status = 'offered', offers = offers + 1, updated_at = now() "
      "  WHERE clinic_id = $1 AND id = $2 AND status = 'waiting' RETURNING id), "
      "o AS (INSERT INTO atendeai.waitlist_offers (clinic_id, waitlist_id, professional_id, service_id, starts_at, "
      "  ends_at, hold_until) SELECT $1, e.id, $3::uuid, $4::uuid, to_timestamp($5::bigint / 1000.0), "
      "  to_timestamp($6::bigint / 1000.0), to_timestamp($7::bigint / 1000.0) FROM e RETURNING id, hold_until), "
      "j AS (INSERT INTO atendeai.jobs (clinic_id, kind, cause_key, due_at, payload) "
      "  SELECT $1, 'waitlist_hold', 'waitlist_hold:' || o.id, o.hold_until, jsonb_build_object('offer_id', o.id) "
      "  FROM o RETURNING 1) "
      "SELECT o.id::text FROM o",
      clinic_id, entry_id, s.professional_id, s.service_id, ms_of(s.start), ms_of(s.end), ms_of(hold_until));
    tx.commit();
    if (r.empty())
      return std::nullopt;
    return r[0][0].as<std::string>();
  } catch (const pqxx::unique_violation&) {
    return std::nullopt; // the time is held for someone else already
  }
}

std::optional<core::waitlist_offer> load_offer(pqxx::connection& conn, const std::string& clinic_id,
                                         const std::string& offer_id) {
  pqxx::read_transaction tx(conn);
  set_clinic(tx, clinic_id);
  auto r = tx.exec_params(offer_by_id(), clinic_id, offer_id);
  if (r.empty())
    return std::nullopt;
  return offer_from(r[0]);
}

std::optional<core::waitlist_offer> close_offer(pqxx::connection& conn, const std::string& clinic_id,
                                          const std::string& offer_id, const std::string& state,
                                          const std::string& appointment_id) {
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  auto r = tx.exec_params(
    "UPDATE atendeai.waitlist_offers SET state = $3, answered_at = now(), appointment_id = nullif($4, '')::uuid "
    "WHERE clinic_id = $1 AND id::text = $2 AND state = 'offered' RETURNING waitlist_id",
    clinic_id, offer_id, state, appointment_id);
  if (r.empty())
    return std::nullopt;
  tx.exec_params("UPDATE atendeai.waitlist SET status = CASE WHEN $3 = 'accepted' THEN 'booked' ELSE 'waiting' END, "
                 "appointment_id = coalesce(nullif($4, '')::uuid, appointment_id), updated_at = now() "
                 "WHERE clinic_id = $1 AND id = $2 AND status = 'offered'",
                 clinic_id, r[0][0].as<std::string>(), state, appointment_id);
  auto o = tx.exec_params(offer_by_id(), clinic_id, offer_id);
  tx.commit();
  return offer_from(o[0]);
}

nlohmann::json list_waitlist(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& status) {
  return json_rows(tx.exec_params(std::string("SELECT ") + entry_json +
                                    "WHERE w.clinic_id = $1 AND (CASE WHEN $2 = '' THEN w.status IN ('waiting', 'offered') "
                                    "ELSE w.status = $2 END) ORDER BY w.created_at, w.id",
                                  clinic_id, status));
}

std::optional<nlohmann::json> find_waitlist_entry(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                  const std::string& entry_id) {
  return maybe_json_row(tx.exec_params(std::string("SELECT ") + entry_json + "WHERE w.clinic_id = $1 AND w.id = $2",
                                       clinic_id, entry_id));
}

std::optional<nlohmann::json> remove_waitlist_entry(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                    const std::string& entry_id, const std::string& by) {
  tx.exec_params("WITH o AS (UPDATE atendeai.waitlist_offers SET state = 'withdrawn', answered_at = now() "
                 "  WHERE clinic_id = $1 AND waitlist_id = $2 AND state = 'offered' RETURNING id) "
                 "UPDATE atendeai.jobs j SET due_at = least(j.due_at, now()) FROM o "
                 "WHERE j.clinic_id = $1 AND j.cause_key = 'waitlist_hold:' || o.id AND j.state = 'pending'",
                 clinic_id, entry_id);
  tx.exec_params("UPDATE atendeai.waitlist SET status = 'removed', removed_by = $3, updated_at = now() "
                 "WHERE clinic_id = $1 AND id = $2 AND status IN ('waiting', 'offered')",
                 clinic_id, entry_id, by);
  return find_waitlist_entry(tx, clinic_id, entry_id);
}

int leave_waitlist(pqxx::connection& conn, const std::string& clinic_id, const std::string& conversation_id) {
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  int left = 0;
  for (auto row : tx.exec_params("SELECT id::text FROM atendeai.waitlist WHERE clinic_id = $1 AND conversation_id = $2 "
                                 "AND status IN ('waiting', 'offered')",
                                 clinic_id, conversation_id)) {
    remove_waitlist_entry(tx, clinic_id, row[0].as<std::string>(), "patient");
    ++left;
  }
  tx.commit();
  return left;
}

} // namespace atendeai::persistence
