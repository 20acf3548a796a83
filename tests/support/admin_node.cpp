#include "support/admin_node.hpp"

#include <catch2/catch.hpp>

#include "support/chat.hpp"

namespace atendeai::test {

namespace {

const char* user_password = "Staff-pass-2024";

} // namespace

admin_node::admin_node(node_settings extra) {
  var_dir_ = test_var_dir("admin", db);
  options_ = {graph.base_url(), "test-token", admin_settings(jwt_secret, var_dir_)};
  for (auto& [k, v] : extra)
    options_.env[k] = v;
  start();
}

void admin_node::start() {
  node.reset();
  node = serve_node(db, options_);
}

std::string admin_node::super_token() const {
  auto token = demo_admin_token(*node, var_dir_, demo::super_admin_email);
  INFO(node->output());
  REQUIRE(!token.empty());
  return token;
}

std::string admin_node::clinic_admin_token() const {
  auto token = demo_admin_token(*node, var_dir_, demo::clinic_admin_email);
  INFO(node->output());
  REQUIRE(!token.empty());
  return token;
}

std::pair<std::string, std::string> admin_node::user(const std::string& role, const std::string& clinic) {
  auto email = role + "-" + std::to_string(++next_user_) + "@inbox.example.com";
  auto created = call(super_token(), "POST", "/api/v1/users",
                      {{"email", email}, {"password", user_password}, {"role", role}, {"name", "Staff member"},
                       {"clinic_id", clinic}},
                      201);
  auto token = api_login(*node, email, user_password);
  INFO("login of " << email);
  REQUIRE(!token.empty());
  return {created["id"], token};
}

std::string admin_node::other_clinic() {
  const std::string id = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbb" + std::to_string(next_user_ % 10);
  auto c = db.connect();
  pqxx::work tx(*c);
  tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", id);
  tx.exec_params("INSERT INTO atendeai.clinics (id, name) VALUES ($1, 'Clinic B') ON CONFLICT DO NOTHING", id);
  tx.commit();
  return id;
}

nlohmann::json admin_node::call(const std::string& token, const std::string& method, const std::string& path,
                                const nlohmann::json& body, long status) const {
  auto r = api(*node, token, method, path, body.is_null() ? std::string() : body.dump());
  INFO(method << " " << path << " → " << r.status << " " << r.body);
  REQUIRE(r.status == status);
  return r.json();
}

void admin_node::refused(const std::string& token, const std::string& method, const std::string& path,
                         const nlohmann::json& body, long status, const std::string& field) const {
  auto r = api(*node, token, method, path, body.dump());
  INFO(method << " " << path << " " << body.dump() << " → " << r.status << " " << r.body);
  CHECK(r.status == status);
  CHECK(r.json()["error"].value("field", "") == field);
}

nlohmann::json admin_node::reply(const std::string& patient, const std::string& text,
                                 const std::string& phone_number_id) {
  auto body = webhook_body({{patient, "wamid.admin-" + std::to_string(++next_wamid_), text}}, phone_number_id);
  INFO("the patient writes: " << text);
  return exchange(*node, db, graph, patient, body, std::chrono::seconds(60));
}

void admin_node::say_unanswered(const std::string& patient, const std::string& text) {
  auto before = sent_to(graph, patient).size();
  auto wamid = "wamid.admin-" + std::to_string(++next_wamid_);
  auto r = post_webhook(*node, webhook_body({{patient, wamid, text}}));
  INFO("webhook: " << r.body);
  REQUIRE(r.status == 200);
  INFO("the patient writes: " << text);
  REQUIRE(eventually([&] {
    return db.scalar("SELECT count(*) FROM atendeai.messages WHERE external_id = '" + wamid +
                     "' AND answered_at IS NOT NULL") == "1";
  }));
  REQUIRE(quiescent(db)); // a reply would be delivered by now
  REQUIRE(sent_to(graph, patient).size() == before);
}

std::string admin_node::conversation_of(const std::string& patient) const {
  return db.scalar("SELECT cv.id::text FROM atendeai.conversations cv JOIN atendeai.contacts ct "
                   "ON ct.clinic_id = cv.clinic_id AND ct.id = cv.contact_id WHERE ct.external_id = '" +
                   patient + "'");
}

double admin_node::metric(const std::string& line_prefix) const {
  auto m = scrape_metrics(*node);
  auto it = m.samples.find(line_prefix);
  return it == m.samples.end() ? -1 : it->second;
}

} // namespace atendeai::test
