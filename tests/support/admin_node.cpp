#include "support/admin_node.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <sys/stat.h>

#include "core/demo_clinic.hpp"

namespace atendeai::test {

namespace {

const char* jwt_key = "inbox-tests-jwt-secret-0123456789abcdef-xyz";
const char* user_password = "Staff-pass-2024";

/// Fails loudly: the helpers are used inside REQUIRE-style flows.
void expect(bool ok, const std::string& what) {
  if (!ok)
    throw std::runtime_error(what);
}

} // namespace

std::string demo_clinic() {
  return core::demo_clinic().id;
}

std::string sent_text(const nlohmann::json& sent) {
  if (sent.value("type", "") == "text")
    return sent["text"].value("body", "");
  if (sent.value("type", "") == "interactive")
    return sent["interactive"]["body"].value("text", "");
  return "";
}

admin_node::admin_node(node_settings extra) {
  var_dir_ = env_or("ATENDEAI_TEST_VAR_DIR", "/tmp") + "/admin-" + db.name();
  ::mkdir(var_dir_.c_str(), 0700);
  node_options o{graph.base_url(), "test-token", {}};
  o.env = {{"ATENDEAI_AUTH_JWT_SECRET", jwt_key},
           {"ATENDEAI_AUTH_RATE_AUTH_PER_MINUTE", "100000"},
           {"ATENDEAI_AUTH_RATE_AUTH_PER_HOUR", "100000"},
           {"ATENDEAI_AUTH_RATE_API_PER_MINUTE", "100000"},
           {"ATENDEAI_AUTH_RATE_API_PER_HOUR", "100000"},
           {"ATENDEAI_PATHS_VAR_DIR", var_dir_}};
  for (auto& [k, v] : extra)
    o.env[k] = v;
  env_ = node_env(db, free_port(), o);
  start();
}

void admin_node::start() {
  node = std::make_unique<node_process>(std::vector<std::string>{"serve"}, env_);
  expect(node->wait_ready(), "the node did not start:\n" + node->output());
}

std::map<std::string, std::string> admin_node::bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

std::string admin_node::super_token() {
  // The demo run writes "<role> <email> <password>" lines into a 0600 file.
  std::ifstream f(var_dir_ + "/demo-admins.txt");
  std::string line, role, email, password;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    if (in >> role >> email >> password && email == "admin@atendeai.local")
      break;
    password.clear();
  }
  expect(!password.empty(), "no demo super admin password");
  auto r = http_post(url("/api/v1/auth/login"),
                     nlohmann::json{{"email", "admin@atendeai.local"}, {"password", password}}.dump());
  expect(r.status == 200, "super admin login: " + r.body);
  return r.json()["access_token"];
}

std::pair<std::string, std::string> admin_node::user(const std::string& role, const std::string& clinic) {
  auto email = role + "-" + std::to_string(++next_user_) + "@inbox.example.com";
  auto created = http_post(url("/api/v1/users"),
                           nlohmann::json{{"email", email}, {"password", user_password}, {"role", role},
                                          {"name", "Staff member"}, {"clinic_id", clinic}}
                             .dump(),
                           bearer(super_token()));
  expect(created.status == 201, "create user: " + created.body);
  auto login = http_post(url("/api/v1/auth/login"), nlohmann::json{{"email", email}, {"password", user_password}}.dump());
  expect(login.status == 200, "login: " + login.body);
  return {created.json()["id"], login.json()["access_token"]};
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

std::vector<nlohmann::json> admin_node::sent_to(const std::string& patient) const {
  std::vector<nlohmann::json> out;
  for (auto& m : graph.received())
    if (m.value("to", "") == patient)
      out.push_back(m);
  return out;
}

std::string admin_node::say(const std::string& patient, const std::string& text) {
  auto before = sent_to(patient).size();
  auto r = post_webhook(*node, webhook_body({{patient, "wamid.admin-" + std::to_string(++next_wamid_), text}}));
  expect(r.status == 200, "webhook: " + r.body);
  expect(eventually([&] { return sent_to(patient).size() > before; }, std::chrono::seconds(60)),
         "no reply to " + text + "\n" + node->output());
  expect(quiescent(db), "the node did not settle after " + text); // a second reply would be delivered by now
  auto all = sent_to(patient);
  expect(all.size() == before + 1, "more than one reply to " + text);
  return sent_text(all.back());
}

void admin_node::say_unanswered(const std::string& patient, const std::string& text) {
  auto before = sent_to(patient).size();
  auto wamid = "wamid.admin-" + std::to_string(++next_wamid_);
  auto r = post_webhook(*node, webhook_body({{patient, wamid, text}}));
  expect(r.status == 200, "webhook: " + r.body);
  expect(eventually([&] {
           return db.scalar("SELECT count(*) FROM atendeai.messages WHERE external_id = '" + wamid +
                            "' AND answered_at IS NOT NULL") == "1";
         }),
         "message not handled: " + text);
  expect(quiescent(db), "the node did not settle after " + text); // a reply would be delivered by now
  expect(sent_to(patient).size() == before, "unexpected reply to " + text);
}

std::string admin_node::conversation_of(const std::string& patient) const {
  return db.scalar("SELECT cv.id::text FROM atendeai.conversations cv JOIN atendeai.contacts ct "
                   "ON ct.clinic_id = cv.clinic_id AND ct.id = cv.contact_id WHERE ct.external_id = '" +
                   patient + "'");
}

double admin_node::metric(const std::string& line_prefix) const {
  auto body = http_get(url("/metrics")).body;
  auto pos = body.find("\n" + line_prefix + " ");
  if (pos == std::string::npos)
    return -1;
  return std::stod(body.substr(pos + line_prefix.size() + 2));
}

} // namespace atendeai::test
