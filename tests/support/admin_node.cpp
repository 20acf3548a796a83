#include "support/admin_node.hpp"

#include <stdexcept>
#include <thread>

#include "core/demo_clinic.hpp"
#include "support/admin_api.hpp"

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

admin_node::admin_node(node_settings extra) {
  var_dir_ = test_var_dir("admin", db);
  node_options o{graph.base_url(), "test-token", {}};
  o.env = admin_settings(jwt_key, var_dir_);
  for (auto& [k, v] : extra)
    o.env[k] = v;
  env_ = node_env(db, free_port(), o);
  start();
}

void admin_node::start() {
  node = std::make_unique<node_process>(std::vector<std::string>{"serve"}, env_);
  expect(node->wait_ready(), "the node did not start:\n" + node->output());
}

std::string admin_node::super_token() {
  expect(!demo_admin_password(var_dir_, "admin@atendeai.local").empty(), "no demo super admin password");
  auto token = demo_super_token(*node, var_dir_);
  expect(!token.empty(), "super admin login refused");
  return token;
}

std::pair<std::string, std::string> admin_node::user(const std::string& role, const std::string& clinic) {
  auto email = role + "-" + std::to_string(++next_user_) + "@inbox.example.com";
  auto created = http_post(url("/api/v1/users"),
                           nlohmann::json{{"email", email}, {"password", user_password}, {"role", role},
                                          {"name", "Staff member"}, {"clinic_id", clinic}}
                             .dump(),
                           bearer_header(super_token()));
  expect(created.status == 201, "create user: " + created.body);
  auto token = api_login(*node, email, user_password);
  expect(!token.empty(), "login of " + email + " refused");
  return {created.json()["id"], token};
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

std::string admin_node::say(const std::string& patient, const std::string& text) {
  auto before = sent_to(graph, patient).size();
  auto r = post_webhook(*node, webhook_body({{patient, "wamid.admin-" + std::to_string(++next_wamid_), text}}));
  expect(r.status == 200, "webhook: " + r.body);
  expect(eventually([&] { return sent_to(graph, patient).size() > before; }, std::chrono::seconds(60)),
         "no reply to " + text + "\n" + node->output());
  expect(quiescent(db), "the node did not settle after " + text); // a second reply would be delivered by now
  auto all = sent_to(graph, patient);
  expect(all.size() == before + 1, "more than one reply to " + text);
  return text_of(all.back());
}

void admin_node::say_unanswered(const std::string& patient, const std::string& text) {
  auto before = sent_to(graph, patient).size();
  auto wamid = "wamid.admin-" + std::to_string(++next_wamid_);
  auto r = post_webhook(*node, webhook_body({{patient, wamid, text}}));
  expect(r.status == 200, "webhook: " + r.body);
  expect(eventually([&] {
           return db.scalar("SELECT count(*) FROM atendeai.messages WHERE external_id = '" + wamid +
                            "' AND answered_at IS NOT NULL") == "1";
         }),
         "message not handled: " + text);
  expect(quiescent(db), "the node did not settle after " + text); // a reply would be delivered by now
  expect(sent_to(graph, patient).size() == before, "unexpected reply to " + text);
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
