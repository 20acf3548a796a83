#include "persistence/privacy.hpp"

#include "persistence/database.hpp"
#include "persistence/json_rows.hpp"

namespace atendeai::persistence {

core::privacy_settings load_privacy(pqxx::transaction_base& tx, const std::string& clinic_id) {
  core::privacy_settings s;
  auto r = tx.exec_params("SELECT legal_basis, notice, policy_url, dpo_contact, retention_days, on_erasure "
                          "FROM atendeai.clinic_privacy WHERE clinic_id = $1",
                          clinic_id);
  if (r.empty())
    return s;
  if (!r[0][0].is_null())
    s.legal_basis = r[0][0].as<std::string>();
  s.notice = r[0][1].as<std::string>();
  s.policy_url = r[0][2].as<std::string>();
  s.dpo_contact = r[0][3].as<std::string>();
  s.retention_days = r[0][4].as<int>();
  s.on_erasure = r[0][5].as<std::string>();
  return s;
}

void save_privacy(pqxx::transaction_base& tx, const std::string& clinic_id, const core::privacy_settings& s) {
  tx.exec_params("INSERT INTO atendeai.clinic_privacy AS p (clinic_id, legal_basis, notice, policy_url, dpo_contact, "
                 "retention_days, on_erasure, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now()) "
                 "ON CONFLICT (clinic_id) DO UPDATE SET legal_basis = excluded.legal_basis, notice = excluded.notice, "
                 "policy_url = excluded.policy_url, dpo_contact = excluded.dpo_contact, "
                 "retention_days = excluded.retention_days, on_erasure = excluded.on_erasure, updated_at = now()",
                 clinic_id, s.legal_basis, s.notice, s.policy_url, s.dpo_contact, s.retention_days, s.on_erasure);
}

void record_consent(pqxx::connection& conn, const std::string& clinic_id, const std::string& conversation_id,
                    const std::string& event, const std::string& legal_basis, const std::string& text_version,
                    const std::string& channel) {
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  auto r = tx.exec_params("INSERT INTO atendeai.consent_events (clinic_id, contact_id, conversation_id, event, "
                          "legal_basis, text_version, channel) SELECT c.clinic_id, c.contact_id, c.id, $3, $4, $5, $6 "
                          "FROM atendeai.conversations c WHERE c.clinic_id = $1 AND c.id = $2 RETURNING 1",
                          clinic_id, conversation_id, event, legal_basis, text_version, channel);
  if (r.empty())
    throw std::runtime_error("record_consent: no such conversation");
  tx.commit();
}

nlohmann::json latest_consent(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& contact_id) {
  auto row = maybe_json_row(tx.exec_params(
    "SELECT jsonb_build_object('state', event, 'at', at, 'legal_basis', legal_basis)::text "
    "FROM atendeai.consent_events WHERE clinic_id = $1 AND contact_id = $2 ORDER BY at DESC, id DESC LIMIT 1",
    clinic_id, contact_id));
  return row ? *row : nlohmann::json(nullptr);
}

std::optional<nlohmann::json> export_contact(pqxx::transaction_base& tx, const std::string& clinic_id,
                                             const std::string& contact_id, bool for_authorities) {
  // One document built by PostgreSQL: what the clinic holds about the contact, each part
  // in time order.
  return maybe_json_row(tx.exec_params(
    "SELECT jsonb_build_object("
    "'exported_at', now(), "
    "'contact', jsonb_build_object('id', ct.id, 'channel', ct.channel, "
    "  'phone', coalesce(ct.restricted_external_id, ct.external_id), 'name', ct.name, "
    "  'restricted_at', ct.restricted_at, "
    "  'created_at', ct.created_at, 'opt_in', CASE WHEN ct.opt_in_source IS NULL THEN NULL ELSE "
    "  jsonb_build_object('source', ct.opt_in_source, 'at', ct.opt_in_at) END), "
    "'conversations', coalesce((SELECT jsonb_agg(jsonb_build_object('id', cv.id, 'channel', cv.channel, "
    "  'status', cv.status, 'created_at', cv.created_at, 'messages', coalesce((SELECT jsonb_agg(m.msg ORDER BY m.at) "
    "  FROM (SELECT i.created_at AS at, jsonb_build_object('direction', 'in', 'at', i.created_at, 'type', i.type, "
    "          'text', i.body) AS msg FROM atendeai.inbound_messages i "
    "        WHERE i.clinic_id = cv.clinic_id AND i.conversation_id = cv.id "
    "        UNION ALL SELECT o.created_at, jsonb_build_object('direction', 'out', 'at', o.created_at, 'kind', o.kind, "
    "          'intent', o.intent, 'text', o.body) FROM atendeai.outbound_messages o "
    "        WHERE o.clinic_id = cv.clinic_id AND o.conversation_id = cv.id AND o.body IS NOT NULL) m), '[]')) "
    "  ORDER BY cv.created_at) FROM atendeai.conversations cv "
    "  WHERE cv.clinic_id = ct.clinic_id AND cv.contact_id = ct.id), '[]'), "
    "'appointments', coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'service_id', a.service_id, "
    "  'service', s.name, 'professional_id', a.professional_id, 'professional', p.name, 'starts_at', a.starts_at, "
    "  'ends_at', a.ends_at, 'status', a.status, 'created_at', a.created_at) ORDER BY a.starts_at) "
    "  FROM atendeai.appointments a "
    "  JOIN atendeai.services s ON s.clinic_id = a.clinic_id AND s.id = a.service_id "
    "  JOIN atendeai.professionals p ON p.clinic_id = a.clinic_id AND p.id = a.professional_id "
    "  WHERE a.clinic_id = ct.clinic_id AND a.contact_id = ct.id), '[]'), "
    "'consent_events', coalesce((SELECT jsonb_agg(jsonb_build_object('event', e.event, 'legal_basis', e.legal_basis, "
    "  'text_version', e.text_version, 'channel', e.channel, 'at', e.at) ORDER BY e.at) "
    "  FROM atendeai.consent_events e WHERE e.clinic_id = ct.clinic_id AND e.contact_id = ct.id), '[]'), "
    "'proactive_messages', coalesce((SELECT jsonb_agg(jsonb_build_object('intent', o.intent, 'text', o.body, "
    "  'at', o.created_at) ORDER BY o.created_at) FROM atendeai.outbound_messages o "
    "  JOIN atendeai.conversations cv ON cv.clinic_id = o.clinic_id AND cv.id = o.conversation_id "
    "  WHERE o.clinic_id = ct.clinic_id AND cv.contact_id = ct.id AND o.kind = 'notice'), '[]'), "
    "'waitlist', coalesce((SELECT jsonb_agg(jsonb_build_object('service_id', w.service_id, 'status', w.status, "
    "  'created_at', w.created_at) ORDER BY w.created_at) FROM atendeai.waitlist w "
    "  WHERE w.clinic_id = ct.clinic_id AND w.contact_id = ct.id), '[]')"
    ")::text FROM atendeai.contacts ct WHERE ct.clinic_id = $1 AND ct.id = $2 AND ct.erased_at IS NULL "
    "AND (ct.restricted_at IS NULL OR $3)",
    clinic_id, contact_id, for_authorities));
}

std::optional<contact_erasure_state> find_contact_for_erasure(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                              const std::string& contact_id) {
  auto r = tx.exec_params("SELECT ct.erased_at IS NOT NULL, ct.restricted_at IS NOT NULL, "
                          "coalesce((SELECT array_agg(z.id::text ORDER BY z.created_at) FROM atendeai.conversations z "
                          "          WHERE z.clinic_id = ct.clinic_id AND z.contact_id = ct.id), '{}') "
                          "FROM atendeai.contacts ct WHERE ct.clinic_id = $1 AND ct.id = $2",
                          clinic_id, contact_id);
  if (r.empty())
    return std::nullopt;
  contact_erasure_state s;
  s.erased = r[0][0].as<bool>();
  s.restricted = r[0][1].as<bool>();
  auto ids = r[0][2].as_array();
  for (auto item = ids.get_next(); item.first != pqxx::array_parser::done; item = ids.get_next())
    if (item.first == pqxx::array_parser::string_value)
      s.conversation_ids.push_back(item.second);
  return s;
}

std::vector<std::string> erase_contact(pqxx::transaction_base& tx, const std::string& clinic_id,
                                       const std::string& contact_id, const std::string& conversation_id,
                                       const std::string& mode) {
  set_clinic(tx, clinic_id);
  auto none = [](const std::string& s) { return s.empty() ? std::optional<std::string>() : std::optional(s); };
  std::vector<std::string> out;
  for (auto row : tx.exec_params("SELECT conversation_id::text FROM atendeai.erase_contact($1::uuid, $2::uuid, $3) "
                                 "WHERE conversation_id IS NOT NULL",
                                 none(contact_id), none(conversation_id), mode))
    out.push_back(row[0].as<std::string>());
  return out;
}

} // namespace atendeai::persistence
