#include "persistence/clinics.hpp"

#include <nlohmann/json.hpp>

#include "core/demo_clinic.hpp"
#include "persistence/database.hpp"
#include "persistence/faq.hpp"
#include "persistence/privacy.hpp"

namespace atendeai::persistence {

namespace {

std::vector<std::string> parse_text_array(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null())
    return out;
  auto parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done; item = parser.get_next())
    if (item.first == pqxx::array_parser::string_value)
      out.push_back(item.second);
  return out;
}

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\')
        out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

} // namespace

std::optional<core::clinic_profile> load_clinic(pqxx::connection& conn, const std::string& clinic_id) {
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  auto c = tx.exec_params("SELECT id::text, name, timezone, language, address, phone, context::text "
                          "FROM atendeai.clinics WHERE id = $1 AND active",
                          clinic_id);
  if (c.empty())
    return std::nullopt;
  core::clinic_profile p;
  p.id = c[0][0].as<std::string>();
  p.name = c[0][1].as<std::string>();
  p.timezone = c[0][2].as<std::string>();
  p.language = c[0][3].as<std::string>();
  p.address = c[0][4].as<std::string>();
  p.phone = c[0][5].as<std::string>();
  core::context_from_json(nlohmann::json::parse(c[0][6].as<std::string>()), p);
  p.privacy = load_privacy(tx, clinic_id);
  for (auto row : tx.exec_params("SELECT id::text, name, duration_minutes, price_cents, active, "
                                 "coalesce(name_en, '') FROM atendeai.services WHERE clinic_id = $1 ORDER BY name",
                                 clinic_id))
    p.services.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>(),
                          row[3].as<int64_t>(), row[4].as<bool>(), row[5].as<std::string>()});
  for (auto row : tx.exec_params("SELECT id::text, name, crm, specialties, service_ids::text[], "
                                 "hours::text, active, policy::text FROM atendeai.professionals "
                                 "WHERE clinic_id = $1 ORDER BY name",
                                 clinic_id)) {
    core::professional pro;
    pro.id = row[0].as<std::string>();
    pro.name = row[1].as<std::string>();
    pro.crm = row[2].as<std::string>();
    pro.specialties = parse_text_array(row[3]);
    pro.service_ids = parse_text_array(row[4]);
    if (!row[5].is_null())
      pro.hours = core::hours_from_json(nlohmann::json::parse(row[5].as<std::string>()), "hours");
    pro.active = row[6].as<bool>();
    if (!row[7].is_null())
      pro.policy = core::policy_from_json(nlohmann::json::parse(row[7].as<std::string>()), p.policy, "policy");
    p.professionals.push_back(std::move(pro));
  }
  p.faq = load_faq(tx, clinic_id);
  tx.commit();
  return p;
}

void seed_demo_clinic(pqxx::connection& conn, const std::string& phone_number_id) {
  auto demo = core::demo_clinic();
  pqxx::work tx(conn);
  set_clinic(tx, demo.id);
  tx.exec_params("INSERT INTO atendeai.clinics (id, name, timezone, language, address, phone, context) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (id) DO NOTHING",
                 demo.id, demo.name, demo.timezone, demo.language, demo.address, demo.phone,
                 core::context_to_json(demo).dump());
  for (auto& s : demo.services)
    tx.exec_params("INSERT INTO atendeai.services (clinic_id, id, name, duration_minutes, price_cents, name_en) "
                   "VALUES ($1, $2, $3, $4, $5, nullif($6, '')) ON CONFLICT DO NOTHING",
                   demo.id, s.id, s.name, s.duration_minutes, s.price_cents, s.name_en);
  for (auto& p : demo.professionals)
    tx.exec_params("INSERT INTO atendeai.professionals (clinic_id, id, name, crm, specialties, service_ids) "
                   "VALUES ($1, $2, $3, $4, $5::text[], $6::uuid[]) ON CONFLICT DO NOTHING",
                   demo.id, p.id, p.name, p.crm, text_array(p.specialties), text_array(p.service_ids));
  tx.exec_params("INSERT INTO atendeai.clinic_channels (clinic_id, channel, account_id) "
                 "VALUES ($1, 'whatsapp', $2) ON CONFLICT (channel, account_id) DO NOTHING",
                 demo.id, phone_number_id);
  for (auto& t : core::demo_templates())
    tx.exec_params("INSERT INTO atendeai.message_templates (clinic_id, id, name, language, category, body, buttons) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT DO NOTHING",
                   demo.id, t.id, t.name, t.language, t.category, t.body, nlohmann::json(t.buttons).dump());
  tx.commit();
}

} // namespace atendeai::persistence
