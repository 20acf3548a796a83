#include "persistence/agenda.hpp"

#include <chrono>

#include "persistence/database.hpp"

namespace atendeai::persistence {

namespace {

/// The columns read_entry expects, in order.
constexpr const char* entry_columns =
  "id::text, professional_id::text, service_id::text, "
  "(extract(epoch FROM starts_at) * 1000)::bigint, (extract(epoch FROM ends_at) * 1000)::bigint, "
  "status, contact_id::text, coalesce(conversation_id::text, '')";

core::instant from_ms(const pqxx::field& f) {
  return core::instant{std::chrono::milliseconds{f.as<int64_t>()}};
}

agenda_entry read_entry(const pqxx::row& row) {
  agenda_entry e;
  auto& a = e.appointment;
  a.id = row[0].as<std::string>();
  a.professional_id = row[1].as<std::string>();
  a.service_id = row[2].as<std::string>();
  a.start = from_ms(row[3]);
  a.end = from_ms(row[4]);
  a.status = core::appointment_status_from_string(row[5].as<std::string>()).value_or(core::appointment_status::scheduled);
  a.contact_id = row[6].as<std::string>();
  e.conversation_id = row[7].as<std::string>();
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
    out.absences.push_back({row[0].as<std::string>(), from_ms(row[1]), from_ms(row[2])});
  for (auto row : tx.exec_params("SELECT starts_on::text, ends_on::text, reason FROM atendeai.closures "
                                 "WHERE clinic_id = $1 AND ends_on >= ($2::timestamptz)::date - 1 ORDER BY starts_on",
                                 clinic_id, from_iso)) {
    auto first = core::parse_ymd(row[0].as<std::string>());
    auto last = core::parse_ymd(row[1].as<std::string>());
    if (first && last)
      out.closures.push_back({*first, *last, row[2].as<std::string>()});
  }
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

std::vector<agenda_entry> conversation_appointments(pqxx::connection& conn, const std::string& clinic_id,
                                                    const std::string& conversation_id, core::instant from) {
  std::vector<agenda_entry> out;
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  for (auto row : tx.exec_params(std::string("SELECT ") + entry_columns +
                                   " FROM atendeai.appointments a WHERE a.clinic_id = $1 AND a.starts_at >= $3::timestamptz "
                                   "AND a.status IN ('scheduled', 'confirmed') AND a.contact_id = "
                                   "(SELECT c.contact_id FROM atendeai.conversations c WHERE c.clinic_id = $1 AND c.id = $2) "
                                   "ORDER BY a.starts_at",
                                 clinic_id, conversation_id, core::format_iso(from)))
    out.push_back(read_entry(row));
  tx.commit();
  return out;
}

} // namespace atendeai::persistence
