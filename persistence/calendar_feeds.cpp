#include "persistence/calendar_feeds.hpp"

#include "persistence/database.hpp"

namespace atendeai::persistence {

namespace {

date::sys_seconds seconds_of(const pqxx::field& f) {
  return date::sys_seconds{std::chrono::seconds{f.as<int64_t>()}};
}

} // namespace

std::optional<feed_ref> feed_of_token(pqxx::transaction_base& tx, const std::string& token) {
  auto r = tx.exec_params("SELECT clinic_id::text, coalesce(professional_id::text, '') FROM atendeai.calendar_feed_of($1)",
                          token);
  if (r.empty())
    return std::nullopt;
  return feed_ref{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
}

std::string feed_token(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& professional_id) {
  auto r = tx.exec_params("SELECT token FROM atendeai.calendar_feeds WHERE clinic_id = $1 "
                          "AND professional_id IS NOT DISTINCT FROM $2::uuid",
                          clinic_id, null_if_empty(professional_id));
  return r.empty() ? std::string() : r[0][0].as<std::string>();
}

std::string rotate_feed_token(pqxx::transaction_base& tx, const std::string& clinic_id,
                              const std::string& professional_id) {
  auto r = tx.exec_params("INSERT INTO atendeai.calendar_feeds (clinic_id, professional_id) VALUES ($1, $2::uuid) "
                          "ON CONFLICT (clinic_id, professional_id) DO UPDATE "
                          "SET token = atendeai.new_feed_token(), rotated_at = now() RETURNING token",
                          clinic_id, null_if_empty(professional_id));
  return r[0][0].as<std::string>();
}

feed_contents feed_events(pqxx::transaction_base& tx, const feed_ref& feed, int64_t now_s, int past_days,
                          int future_days, feed_patient_detail detail) {
  feed_contents out;
  auto name = tx.exec_params(
    "SELECT c.name || coalesce(' — ' || p.name, '') FROM atendeai.clinics c "
    "LEFT JOIN atendeai.professionals p ON p.clinic_id = c.id AND p.id = $2::uuid WHERE c.id = $1",
    feed.clinic_id, null_if_empty(feed.professional_id));
  out.name = name.empty() ? std::string("AtendeAI") : name[0][0].as<std::string>();
  auto rows = tx.exec_params(
    "SELECT a.id::text, a.ics_sequence, extract(epoch FROM a.starts_at)::bigint, extract(epoch FROM a.ends_at)::bigint, "
    "extract(epoch FROM date_trunc('second', a.updated_at))::bigint, a.status, s.name, p.name, "
    "coalesce(ct.name, ''), coalesce(c.address, '') "
    "FROM atendeai.appointments a "
    "JOIN atendeai.services s ON s.clinic_id = a.clinic_id AND s.id = a.service_id "
    "JOIN atendeai.professionals p ON p.clinic_id = a.clinic_id AND p.id = a.professional_id "
    "JOIN atendeai.clinics c ON c.id = a.clinic_id "
    "LEFT JOIN atendeai.contacts ct ON ct.clinic_id = a.clinic_id AND ct.id = a.contact_id "
    "WHERE a.clinic_id = $1 AND ($2::uuid IS NULL OR a.professional_id = $2::uuid) "
    "AND a.starts_at >= to_timestamp($3) - make_interval(days => $4) "
    "AND a.starts_at < to_timestamp($3) + make_interval(days => $5) ORDER BY a.starts_at, a.id",
    feed.clinic_id, null_if_empty(feed.professional_id), now_s, past_days, future_days);
  for (auto r : rows) {
    core::ics_event e;
    e.uid = r[0].as<std::string>() + "@atendeai";
    e.sequence = r[1].as<int>();
    e.starts_at = seconds_of(r[2]);
    e.ends_at = seconds_of(r[3]);
    e.stamp = seconds_of(r[4]);
    auto status = r[5].as<std::string>();
    e.cancelled = status == "cancelled";
    e.confirmed = status != "scheduled" && !e.cancelled;
    auto service = r[6].as<std::string>();
    auto patient = detail == feed_patient_detail::first_name ? core::first_name(r[8].as<std::string>()) : "";
    e.summary = patient.empty() ? service : service + " — " + patient;
    if (feed.professional_id.empty())
      e.description = r[7].as<std::string>(); // the clinic's feed names the professional
    e.location = r[9].as<std::string>();
    out.events.push_back(std::move(e));
  }
  return out;
}

} // namespace atendeai::persistence
