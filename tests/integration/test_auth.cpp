#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sys/stat.h>
#include <thread>

#include "core/jwt.hpp"
#include "core/rbac.hpp"
#include "core/signature.hpp"
#include "persistence/redis.hpp"
#include "support/admin_node.hpp"
#include "support/fake_smtp.hpp"
#include "support/harness.hpp"

using namespace atendeai::test;
using nlohmann::json;

namespace {

const std::string jwt_secret = admin_node::jwt_secret;
const std::string good_password = "Correct-horse-42";

/// A node with a known JWT key, bcrypt cost 4 and generous limits unless overridden
/// (support/admin_node.hpp), and the auth tests' ways to create users and log in.
struct auth_node : admin_node {
  using admin_node::admin_node;

  /// Creates a user straight through the API as `admin` (or fails the test).
  json create_user(const std::string& admin_token, const std::string& email, const std::string& role,
                   const std::string& clinic = "") {
    json body = {{"email", email}, {"password", good_password}, {"role", role}, {"name", "Test user"}};
    if (!clinic.empty())
      body["clinic_id"] = clinic;
    return call(admin_token, "POST", "/api/v1/users", body, 201);
  }

  json login(const std::string& email, const std::string& password = good_password, long expect = 200) {
    auto r = atendeai::test::login(*node, email, password);
    INFO(r.body);
    REQUIRE(r.status == expect);
    return r.json();
  }
};

/// A route's path with its parameters filled from `ids` (by name: "id", "sid", ...);
/// a parameter missing from `ids` gets `fallback`.
std::string route_path(const atendeai::core::api_route& r, const std::map<std::string, std::string>& ids,
                       const std::string& fallback = "") {
  std::string p = r.path;
  for (size_t i = p.find("/:"); i != std::string::npos; i = p.find("/:", i + 1)) {
    auto end = p.find('/', i + 2);
    auto name = p.substr(i + 2, end == std::string::npos ? std::string::npos : end - i - 2);
    auto it = ids.find(name);
    p.replace(i + 1, name.size() + 1, it == ids.end() ? fallback : it->second);
  }
  return p;
}

std::string route_path(const atendeai::core::api_route& r, const std::string& id) {
  return route_path(r, {}, id);
}

/// True for routes under one clinic (`/clinics/:id/...`).
bool clinic_route(const atendeai::core::api_route& r) {
  return std::string(r.path).find("/clinics/:id") != std::string::npos;
}

/// The path the role matrix and the hostile-input test call: clinic routes on the demo
/// clinic (so their handlers run), other parameters `other`.
std::string exercised_path(const atendeai::core::api_route& r, const std::string& other) {
  if (clinic_route(r))
    return route_path(r, {{"id", demo::clinic_id}}, other);
  return route_path(r, other);
}

} // namespace

TEST_CASE("demo admins: generated once into a 0600 file, never a default password", "[auth]") {
  auth_node n;
  struct stat st {};
  REQUIRE(::stat((n.var_dir() + "/demo-admins.txt").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto pw = n.demo_password(demo::super_admin_email);
  CHECK(pw.size() >= 20);
  CHECK(n.demo_password(demo::clinic_admin_email) != pw);
  CHECK_THAT(n.node->output(), Catch::Contains("Demo administrators"));
  // Stored as bcrypt at the configured cost, never in clear.
  CHECK(n.db.scalar("SELECT left(password_hash, 7) FROM atendeai.users WHERE email = 'admin@atendeai.local'")
        == "$2b$04$");
  CHECK(n.count("SELECT count(*) FROM atendeai.users WHERE password_hash LIKE '%" + pw + "%'") == 0);
  CHECK(n.node->output().find("\"" + pw + "\"") == std::string::npos);
}

TEST_CASE("users create: generated password printed once, stdin-less, duplicate refused", "[auth]") {
  scratch_database db;
  std::map<std::string, std::string> env = {{"ATENDEAI_DATABASE_URL", db.url()},
                                            {"ATENDEAI_AUTH_BCRYPT_COST", "4"}};
  node_process p({"users", "create", "--email", "Root@Example.com", "--role", "super_admin"}, env);
  REQUIRE(p.wait_exit(std::chrono::seconds(60)) == 0);
  std::smatch m;
  auto out = p.output();
  REQUIRE(std::regex_search(out, m, std::regex("password: (\\S+)")));
  CHECK(m[1].str().size() >= 20);
  CHECK(db.scalar("SELECT role || ' ' || clinic_id FROM atendeai.users WHERE email = 'root@example.com'")
        == "super_admin 00000000-0000-0000-0000-000000000000");
  node_process again({"users", "create", "--email", "root@example.com", "--role", "super_admin"}, env);
  CHECK(again.wait_exit(std::chrono::seconds(60)) == 1);
  node_process bad({"users", "create", "--email", "x@example.com", "--role", "clinic_admin"}, env);
  CHECK(bad.wait_exit(std::chrono::seconds(60)) == 2); // no --clinic
  node_process help({"--help"}, env);
  help.wait_exit(std::chrono::seconds(30));
  CHECK_THAT(help.output(), Catch::Contains("users create --email"));
}

TEST_CASE("auth lifecycle: login, profile, refresh rotation, reuse revokes the family, logout at once", "[auth]") {
  auth_node n;
  auto super = n.super_token();
  auto admin = n.create_user(super, "Ana.Admin@example.com", "clinic_admin", demo::clinic_id);
  CHECK(admin["email"] == "ana.admin@example.com");
  CHECK(admin["clinic_id"] == demo::clinic_id);
  CHECK_FALSE(admin.contains("password_hash"));

  auto s1 = n.login("ana.admin@example.com");
  CHECK(s1["token_type"] == "Bearer");
  CHECK(s1["expires_in"] == 900);
  CHECK(s1["refresh_expires_in"] == 604800);
  auto access1 = s1["access_token"].get<std::string>();
  auto refresh1 = s1["refresh_token"].get<std::string>();
  auto claims = std::get<atendeai::core::jwt_claims>(atendeai::core::verify_jwt(access1, jwt_secret, std::time(nullptr)));
  CHECK(claims.exp - claims.iat == 900);
  CHECK(claims.role == "clinic_admin");
  CHECK(claims.clinic_id == demo::clinic_id);

  auto profile = http_get(n.url("/api/v1/auth/profile"), bearer_header(access1));
  REQUIRE(profile.status == 200);
  CHECK(profile.json()["email"] == "ana.admin@example.com");
  auto renamed = http_request("PUT", n.url("/api/v1/auth/profile"), R"({"name":"Ana Souza"})", bearer_header(access1));
  CHECK(renamed.status == 200);
  CHECK(renamed.json()["name"] == "Ana Souza");

  // Wrong password and unknown e-mail: the same 401.
  auto wrong = http_post(n.url("/api/v1/auth/login"), json{{"email", "ana.admin@example.com"}, {"password", "nope-nope-1"}}.dump());
  auto unknown = http_post(n.url("/api/v1/auth/login"), json{{"email", "ghost@example.com"}, {"password", "nope-nope-1"}}.dump());
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.json()["error"]["message"] == unknown.json()["error"]["message"]);

  // Rotation: each refresh token works once.
  auto r2 = http_post(n.url("/api/v1/auth/refresh"), json{{"refresh_token", refresh1}}.dump());
  REQUIRE(r2.status == 200);
  auto refresh2 = r2.json()["refresh_token"].get<std::string>();
  auto access2 = r2.json()["access_token"].get<std::string>();
  CHECK(refresh2 != refresh1);
  CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header(access2)).status == 200);
  // Reuse of the rotated token: refused, and the whole family dies (refresh2 and access2 too).
  auto reuse = http_post(n.url("/api/v1/auth/refresh"), json{{"refresh_token", refresh1}}.dump());
  CHECK(reuse.status == 401);
  CHECK(http_post(n.url("/api/v1/auth/refresh"), json{{"refresh_token", refresh2}}.dump()).status == 401);
  CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header(access2)).status == 401);
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action = 'auth.refresh_reuse'") == 1);

  // Logout: the access token is refused at once, its refresh token too.
  auto s3 = n.login("ana.admin@example.com");
  auto access3 = s3["access_token"].get<std::string>();
  CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header(access3)).status == 200);
  CHECK(http_post(n.url("/api/v1/auth/logout"), "", bearer_header(access3)).status == 200);
  CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header(access3)).status == 401);
  CHECK(http_post(n.url("/api/v1/auth/refresh"), json{{"refresh_token", s3["refresh_token"]}}.dump()).status == 401);
  // Another session of the same user is untouched.
  auto s4 = n.login("ana.admin@example.com");
  CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header(s4["access_token"])).status == 200);

  // Changing the password kills every token.
  auto change = http_request("PUT", n.url("/api/v1/auth/profile"),
                             json{{"current_password", good_password}, {"new_password", "Another-pass-77"}}.dump(),
                             bearer_header(s4["access_token"]));
  CHECK(change.status == 200);
  CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header(s4["access_token"])).status == 401);
  n.login("ana.admin@example.com", "Another-pass-77");
}

TEST_CASE("forgot and reset password: same answer for unknown e-mails, 0600 mail file, single use", "[auth]") {
  auth_node n;
  auto super = n.super_token();
  n.create_user(super, "bia@example.com", "attendant", demo::clinic_id);
  auto known = http_post(n.url("/api/v1/auth/forgot-password"), R"({"email":"bia@example.com"})");
  auto unknown = http_post(n.url("/api/v1/auth/forgot-password"), R"({"email":"nobody@example.com"})");
  CHECK(known.status == 202);
  CHECK(unknown.status == 202);
  CHECK(known.body == unknown.body);
  auto mail_path = n.var_dir() + "/mail-outbox.txt";
  struct stat st {};
  // The e-mail is written after the answer.
  REQUIRE(eventually([&] { return ::stat(mail_path.c_str(), &st) == 0 && st.st_size > 0; }));
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream f(mail_path);
  std::string mail((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK_THAT(mail, Catch::Contains("To: <bia@example.com>"));
  CHECK(mail.find("nobody@example.com") == std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(mail, m, std::regex("Token: ([A-Za-z0-9_-]+)")));
  auto token = m[1].str();
  // Never in the logs, never stored in clear.
  CHECK(n.node->output().find(token) == std::string::npos);
  CHECK(n.count("SELECT count(*) FROM atendeai.password_resets WHERE token_sha256 = '" + token + "'") == 0);

  auto session = n.login("bia@example.com");
  CHECK(http_post(n.url("/api/v1/auth/reset-password"), json{{"token", token}, {"new_password", "short"}}.dump()).status
        == 422);
  auto ok = http_post(n.url("/api/v1/auth/reset-password"), json{{"token", token}, {"new_password", "Brand-new-pass-9"}}.dump());
  CHECK(ok.status == 200);
  n.login("bia@example.com", "Brand-new-pass-9");
  n.login("bia@example.com", good_password, 401);
  // Old sessions are gone; the token is single use.
  CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header(session["access_token"])).status == 401);
  CHECK(http_post(n.url("/api/v1/auth/refresh"), json{{"refresh_token", session["refresh_token"]}}.dump()).status == 401);
  auto again = http_post(n.url("/api/v1/auth/reset-password"), json{{"token", token}, {"new_password", "Brand-new-pass-10"}}.dump());
  CHECK(again.status == 422);
  CHECK(again.json()["error"]["field"] == "token");
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action = 'auth.password_reset'") == 1);
}

TEST_CASE("forged, expired, alg-none, wrong-key and misused tokens are refused", "[auth]") {
  auth_node n;
  auto session = n.login(demo::super_admin_email, n.demo_password(demo::super_admin_email));
  auto good = session["access_token"].get<std::string>();
  auto claims = std::get<atendeai::core::jwt_claims>(atendeai::core::verify_jwt(good, jwt_secret, std::time(nullptr)));
  using atendeai::core::base64url_encode;
  auto payload = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  std::vector<std::pair<std::string, std::string>> bad = {
    {"alg none", base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + payload + "."},
    {"wrong key", atendeai::core::sign_jwt(claims, "another-secret-another-secret-another")},
    {"expired", [&] {
       auto c = claims;
       c.iat -= 2000;
       c.exp = c.iat + 900;
       return atendeai::core::sign_jwt(c, jwt_secret);
     }()},
    {"tampered", good.substr(0, good.size() - 2) + (good.substr(good.size() - 2) == "AA" ? "BB" : "AA")},
    {"HS512 header", [&] {
       auto input = base64url_encode(R"({"alg":"HS512"})") + "." + payload;
       return input + "." + base64url_encode(atendeai::core::hmac_sha256(jwt_secret, input));
     }()},
    {"refresh as access", session["refresh_token"].get<std::string>()},
    {"unknown user", [&] {
       auto c = claims;
       c.sub = "11111111-1111-4111-8111-111111111111";
       return atendeai::core::sign_jwt(c, jwt_secret);
     }()},
    {"garbage", "not-a-token"},
  };
  for (auto& [what, token] : bad) {
    INFO(what);
    auto r = http_get(n.url("/api/v1/users"), bearer_header(token));
    CHECK(r.status == 401);
    CHECK(r.json()["error"]["code"] == "unauthorized");
  }
  CHECK(http_get(n.url("/api/v1/users"), {{"Authorization", "Basic abc"}}).status == 401);
  CHECK(http_get(n.url("/api/v1/users")).status == 401);
  CHECK(http_get(n.url("/api/v1/users"), bearer_header(good)).status == 200);
}

TEST_CASE("role matrix: every route of the table for every role", "[auth][rbac]") {
  auth_node n;
  auto super = n.super_token();
  std::map<atendeai::core::role, std::string> tokens;
  tokens[atendeai::core::role::super_admin] = super;
  for (auto r : {atendeai::core::role::clinic_admin, atendeai::core::role::attendant, atendeai::core::role::professional}) {
    auto email = std::string(atendeai::core::to_string(r)) + "@example.com";
    n.create_user(super, email, std::string(atendeai::core::to_string(r)), demo::clinic_id);
    tokens[r] = n.login(email)["access_token"];
  }
  const std::string missing = "99999999-9999-4999-8999-999999999999";
  int checked = 0;
  for (const auto& route : atendeai::core::api_routes()) {
    REQUIRE(route.op != nullptr);
    if (route.who == atendeai::core::access::open) {
      // Open routes answer without a token (never 401 for the missing header, never 404;
      // a secret URL whose token is wrong answers 404 for what it names, not the route).
      auto r = http_request(route.method, n.url(route.path), "{}");
      INFO(route.method << " " << route.path << " → " << r.body);
      if (std::string(route.path).find("/:token") != std::string::npos)
        CHECK(r.json().value("error", json::object()).value("message", "") == "no such feed");
      else
        CHECK(r.status != 404);
      CHECK(r.status < 500);
      continue;
    }
    if (std::string(route.op) == "auth.logout")
      continue; // below, last: it revokes the token
    // No token: 401 first, whatever else is wrong.
    CHECK(http_request(route.method, n.url(exercised_path(route, missing)), "{").status == 401);
    for (auto role : atendeai::core::all_roles) {
      auto r = http_request(route.method, n.url(exercised_path(route, missing)), "{}", bearer_header(tokens[role]));
      INFO(route.method << " " << route.path << " as " << atendeai::core::to_string(role) << " → " << r.status << " "
                        << r.body);
      if (atendeai::core::allows(route, role)) {
        CHECK(r.status != 403);
        CHECK(r.status != 401);
        CHECK(r.status < 500);
        CHECK(r.json().value("error", json::object()).value("message", "") != "no such route");
      } else {
        CHECK(r.status == 403);
        CHECK(r.json()["error"]["code"] == "forbidden");
      }
      ++checked;
    }
  }
  CHECK(checked >= 40);
  for (auto role : atendeai::core::all_roles) {
    auto route = atendeai::core::find_api_route("auth.logout");
    REQUIRE(route);
    auto r = http_post(n.url(route->path), "", bearer_header(tokens[role]));
    CHECK(r.status == (atendeai::core::allows(*route, role) ? 200 : 403));
  }
  // Routes the table does not declare do not exist.
  CHECK(http_request("PATCH", n.url("/api/v1/users"), "{}", bearer_header(super)).status == 404);
}

TEST_CASE("tenant isolation: clinic A's admin reaches nothing of clinic B", "[auth][tenant]") {
  auth_node n;
  auto super = n.super_token();
  const std::string clinic_b = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
  // Clinic B with one of every resource, written straight in SQL under B's scope.
  std::map<std::string, std::string> b_ids{{"id", clinic_b}};
  {
    auto c = n.db.connect();
    pqxx::work tx(*c);
    tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", clinic_b);
    tx.exec_params("INSERT INTO atendeai.clinics (id, name) VALUES ($1, 'Clinic B')", clinic_b);
    auto one = [&](const char* sql) { return tx.exec_params1(sql, clinic_b)[0].as<std::string>(); };
    b_ids["chid"] = one("INSERT INTO atendeai.clinic_channels (clinic_id, channel, account_id) "
                        "VALUES ($1, 'whatsapp', 'clinic-b-phone') RETURNING id");
    b_ids["sid"] = one("INSERT INTO atendeai.services (clinic_id, name, duration_minutes, price_cents) "
                       "VALUES ($1, 'Consulta B', 30, 10000) RETURNING id");
    b_ids["pid"] = one("INSERT INTO atendeai.professionals (clinic_id, name) VALUES ($1, 'Dra. B') RETURNING id");
    b_ids["abid"] = tx.exec_params1("INSERT INTO atendeai.professional_absences (clinic_id, professional_id, starts_at, "
                                    "ends_at) VALUES ($1, $2, now() + interval '1 day', now() + interval '2 days') "
                                    "RETURNING id",
                                    clinic_b, b_ids["pid"])[0].as<std::string>();
    b_ids["clid"] = one("INSERT INTO atendeai.closures (clinic_id, starts_on, ends_on) "
                        "VALUES ($1, current_date + 10, current_date + 10) RETURNING id");
    auto contact = one("INSERT INTO atendeai.contacts (clinic_id, channel, external_id) "
                       "VALUES ($1, 'whatsapp', '5511900000000') RETURNING id");
    b_ids["cid"] = tx.exec_params1("INSERT INTO atendeai.conversations (clinic_id, channel, contact_id) "
                                   "VALUES ($1, 'whatsapp', $2) RETURNING id",
                                   clinic_b, contact)[0].as<std::string>();
    b_ids["fid"] = b_ids["cid"];
    b_ids["aid"] = tx.exec_params1("INSERT INTO atendeai.appointments (clinic_id, professional_id, service_id, "
                                   "contact_id, starts_at, ends_at) VALUES ($1, $2, $3, $4, "
                                   "date_trunc('hour', now()) + interval '3 days', "
                                   "date_trunc('hour', now()) + interval '3 days 30 minutes') RETURNING id",
                                   clinic_b, b_ids["pid"], b_ids["sid"], contact)[0].as<std::string>();
    tx.commit();
  }
  n.create_user(super, "admin.a@example.com", "clinic_admin", demo::clinic_id);
  auto b_admin = n.create_user(super, "admin.b@example.com", "clinic_admin", clinic_b);
  auto b_staff = n.create_user(super, "staff.b@example.com", "attendant", clinic_b);
  auto a = n.login("admin.a@example.com")["access_token"].get<std::string>();
  // Everything of B, to compare after the attempts.
  const std::string snapshot_sql =
    "SELECT md5(string_agg(t, ',' ORDER BY t)) FROM ("
    " SELECT id::text || name || role || status AS t FROM atendeai.users"
    " UNION ALL SELECT id::text || name || active FROM atendeai.clinics"
    " UNION ALL SELECT id::text || account_id || active FROM atendeai.clinic_channels"
    " UNION ALL SELECT id::text || name || duration_minutes || price_cents || active FROM atendeai.services"
    " UNION ALL SELECT id::text || name || active FROM atendeai.professionals"
    " UNION ALL SELECT id::text || starts_at FROM atendeai.professional_absences"
    " UNION ALL SELECT id::text || starts_on FROM atendeai.closures"
    " UNION ALL SELECT id::text || status FROM atendeai.conversations"
    " UNION ALL SELECT id::text || status || starts_at FROM atendeai.appointments"
    " UNION ALL SELECT count(*)::text FROM atendeai.messages) s";
  auto before = n.db.scalar(snapshot_sql);
  auto before_audit = n.count("SELECT count(*) FROM atendeai.audit_log");
  int tried = 0;
  for (const auto& route : atendeai::core::api_routes()) {
    const std::string path = route.path;
    if (path.find("/:") == std::string::npos || route.who == atendeai::core::access::open)
      continue;
    // Clinic routes name B and B's resources; user routes name B's users.
    std::vector<std::string> paths;
    if (path.find("/clinics/:id") != std::string::npos || path.find("/admin/") != std::string::npos)
      paths.push_back(route_path(route, b_ids));
    else
      for (auto& target : {b_admin, b_staff})
        paths.push_back(route_path(route, {{"id", target["id"].get<std::string>()}}));
    for (auto& p : paths) {
      auto body = std::string(route.method) == "GET" || std::string(route.method) == "DELETE"
                    ? std::string()
                    : (std::string(route.op) == "users.status" ? R"({"status":"disabled"})" : R"({"name":"Hacked"})");
      auto r = http_request(route.method, n.url(p), body, bearer_header(a));
      INFO(route.method << " " << p << " → " << r.body);
      // Routes a clinic admin may not use at all (super admin only) stop at the role check.
      CHECK(r.status == (atendeai::core::allows(route, atendeai::core::role::clinic_admin) ? 404 : 403));
      ++tried;
    }
  }
  CHECK(tried >= 7);
  // Listings naming clinic B, and creating a user there.
  CHECK(http_get(n.url("/api/v1/users?clinic_id=" + clinic_b), bearer_header(a)).status == 404);
  CHECK(http_get(n.url("/api/v1/audit?clinic_id=" + clinic_b), bearer_header(a)).status == 404);
  auto create = http_post(n.url("/api/v1/users"),
                          json{{"email", "intruder@example.com"}, {"password", good_password}, {"role", "attendant"},
                               {"clinic_id", clinic_b}}.dump(),
                          bearer_header(a));
  CHECK(create.status == 404);
  // A's own listing shows none of B.
  auto list = http_get(n.url("/api/v1/users"), bearer_header(a)).json();
  for (auto& u : list["items"])
    CHECK(u["clinic_id"] == demo::clinic_id);
  CHECK(n.db.scalar(snapshot_sql) == before);
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log") == before_audit);
  // The super admin does reach B, through the id alone.
  CHECK(http_get(n.url("/api/v1/users/" + b_staff["id"].get<std::string>()), bearer_header(super)).status == 200);
}

TEST_CASE("rate limits: auth per IP and per account, API per user: 429 with Retry-After, then recovered", "[auth][ratelimit]") {
  // Only the short windows are under test: the hourly keys (per IP, shared by every
  // login from 127.0.0.1 in this clock hour, whatever test made it) get limits no earlier
  // test can reach. As if a thousand logins had come earlier this hour:
  // (The keys are put back as they were at the end: later tests keep their own limits.)
  struct hourly_keys {
    std::unique_ptr<atendeai::persistence::redis_client> redis =
      atendeai::persistence::redis_client::connect(test_redis_url(), 2000);
    std::map<std::string, std::optional<std::string>> before;
    hourly_keys() {
      auto hour =
        std::chrono::duration_cast<std::chrono::hours>(std::chrono::system_clock::now().time_since_epoch()).count();
      for (auto h : {hour, hour + 1}) {
        auto key = "atendeai:rl:auth_ip:h:127.0.0.1:" + std::to_string(h);
        before[key] = redis->command({"GET", key});
        redis->command({"SET", key, "1000", "EX", "7200"});
      }
    }
    ~hourly_keys() {
      try {
        for (auto& [key, value] : before)
          value ? redis->command({"SET", key, *value, "EX", "3601"}) : redis->command({"DEL", key});
      } catch (const std::exception&) {
      }
    }
  } earlier_logins;
  auth_node n({{"ATENDEAI_AUTH_RATE_AUTH_PER_MINUTE", "3"},
               {"ATENDEAI_AUTH_RATE_API_PER_MINUTE", "4"},
               {"ATENDEAI_AUTH_RATE_AUTH_PER_HOUR", "1000000"},
               {"ATENDEAI_AUTH_RATE_API_PER_HOUR", "1000000"},
               {"ATENDEAI_AUTH_RATE_WINDOW_S", "3"}});
  // Align to the start of a window so the whole burst falls into one.
  auto wait_window_start = [] {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(3000 - ms % 3000 + 50));
  };
  wait_window_start();
  auto body = json{{"email", "nobody@example.com"}, {"password", "whatever-123"}}.dump();
  for (int i = 0; i < 3; ++i)
    CHECK(http_post(n.url("/api/v1/auth/login"), body).status == 401);
  auto limited = http_post(n.url("/api/v1/auth/login"), body);
  CHECK(limited.status == 429);
  CHECK(limited.json()["error"]["code"] == "rate_limited");
  REQUIRE(limited.headers.count("retry-after"));
  auto retry = std::stoi(limited.headers["retry-after"]);
  CHECK(retry >= 1);
  CHECK(retry <= 3);
  std::this_thread::sleep_for(std::chrono::seconds(retry) + std::chrono::milliseconds(100));
  CHECK(http_post(n.url("/api/v1/auth/login"), body).status == 401); // recovered

  // API: per user.
  wait_window_start();
  auto token = n.login(demo::super_admin_email, n.demo_password(demo::super_admin_email))["access_token"].get<std::string>();
  for (int i = 0; i < 4; ++i)
    CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header(token)).status == 200);
  auto api_limited = http_get(n.url("/api/v1/auth/profile"), bearer_header(token));
  CHECK(api_limited.status == 429);
  CHECK(api_limited.headers.count("retry-after") == 1);
  // Authentication comes first: a bad token is 401, not 429.
  CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header("x.y.z")).status == 401);
  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(api_limited.headers["retry-after"])) + std::chrono::milliseconds(100));
  CHECK(http_get(n.url("/api/v1/auth/profile"), bearer_header(token)).status == 200);
}

TEST_CASE("hostile input at every endpoint: 4xx, never 5xx, nothing written", "[auth][hostile]") {
  auth_node n;
  auto super = n.super_token();
  auto target = n.create_user(super, "victim@example.com", "attendant", demo::clinic_id);
  const std::string huge(100000, 'A');
  const std::vector<std::string> bodies = {
    "{",
    "[]",
    "\"text\"",
    "null",
    R"({"email":123,"password":true,"role":[],"name":{},"status":5,"token":1,"refresh_token":2})",
    R"({"unknown_field":"x"})",
    R"({"email":"x' OR '1'='1","password":"' OR 1=1; --","role":"super_admin'; DROP TABLE atendeai.users; --"})",
    R"({"email":"evil@example.com","password":"Correct-horse-42","role":"attendant","name":"Robert'); DROP TABLE atendeai.users;--"})",
    R"({"email":"xss@example.com","password":"Correct-horse-42","role":"attendant","name":"<script>alert(1)</script>"})",
    R"({"name":"<img src=x onerror=alert(1)>"})",
    R"({"status":"disabled'; --"})",
    R"({"email":")" + huge + R"(","password":")" + huge + R"("})",
    R"({"name":")" + huge + R"("})",
    R"({"token":")" + huge + R"(","new_password":"x"})",
    R"({"refresh_token":"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."})",
    "{\"email\":\"a\\u0000b@example.com\",\"password\":\"x\"}",
    std::string("{\"name\":\"\xff\xfe\"}"),
  };
  auto snapshot = [&] {
    return n.db.scalar("SELECT string_agg(id::text || email || name || role || status || token_version, ',' ORDER BY id) "
                       "FROM atendeai.users")
           + "|" + n.db.scalar("SELECT count(*) FROM atendeai.audit_log WHERE action NOT IN ('auth.login_failed')")
           + "|" + n.db.scalar("SELECT count(*) FROM atendeai.password_resets") + "|"
           + n.db.scalar("SELECT (SELECT count(*) FROM atendeai.clinics) + (SELECT count(*) FROM atendeai.services)"
                         " + (SELECT count(*) FROM atendeai.professionals) + (SELECT count(*) FROM atendeai.closures)"
                         " + (SELECT count(*) FROM atendeai.clinic_channels) + (SELECT count(*) FROM atendeai.appointments)"
                         " + (SELECT count(*) FROM atendeai.messages)")
           + n.db.scalar("SELECT md5(string_agg(name || active, ',' ORDER BY id)) FROM atendeai.clinics");
  };
  auto before = snapshot();
  int requests = 0;
  for (const auto& route : atendeai::core::api_routes()) {
    if (std::string(route.op) == "auth.logout")
      continue;
    for (auto& body : bodies) {
      auto path = exercised_path(route, target["id"]);
      auto r = http_request(route.method, n.url(path), body, bearer_header(super));
      INFO(route.method << " " << path << " body " << body.substr(0, 80) << " → " << r.status << " " << r.body.substr(0, 200));
      if (std::string(route.method) == "GET") {
        CHECK(r.status < 500); // GET ignores bodies
      } else {
        CHECK(r.status >= 400);
        CHECK(r.status < 500);
        if (r.status >= 400 && r.status < 500 && r.status != 413)
          CHECK(r.json()["error"].contains("code"));
      }
      ++requests;
    }
  }
  // Query strings too.
  for (auto q : {"?page=0", "?page=abc", "?per_page=100000", "?role=admin'--", "?clinic_id=1%27%20OR%201=1",
                 "?from=2020-01-01';DROP", "?evil=1", "?actor_user_id=<script>"}) {
    for (auto path : {"/api/v1/users", "/api/v1/audit"}) {
      auto r = http_get(n.url(std::string(path) + q), bearer_header(super));
      INFO(path << q << " → " << r.body);
      CHECK(r.status >= 400);
      CHECK(r.status < 500);
    }
  }
  CHECK(requests > 100);
  CHECK(snapshot() == before);
  // Still serving, schema intact.
  CHECK(http_get(n.url("/api/v1/users"), bearer_header(super)).status == 200);
}

TEST_CASE("audit: every mutation with before/after, request id and IP, filtered and paginated", "[auth][audit]") {
  auth_node n;
  auto super = n.super_token();
  auto admin = n.create_user(super, "chefe@example.com", "clinic_admin", demo::clinic_id);
  auto a = n.login("chefe@example.com")["access_token"].get<std::string>();
  auto hdr = bearer_header(a);
  hdr["X-Request-Id"] = "req-audit-1";
  auto created = http_post(n.url("/api/v1/users"),
                           json{{"email", "pro@example.com"}, {"password", good_password}, {"role", "professional"},
                                {"name", "Dra. Paula"}}.dump(),
                           hdr);
  REQUIRE(created.status == 201);
  auto id = created.json()["id"].get<std::string>();
  CHECK(http_request("PUT", n.url("/api/v1/users/" + id), R"({"name":"Dra. Paula Lima","role":"attendant"})", hdr).status == 200);
  CHECK(http_request("PUT", n.url("/api/v1/users/" + id + "/status"), R"({"status":"disabled"})", hdr).status == 200);
  // Conflicts are refused and leave no row.
  CHECK(http_post(n.url("/api/v1/users"),
                  json{{"email", "pro@example.com"}, {"password", good_password}, {"role", "attendant"}}.dump(), hdr)
          .status == 409);
  CHECK(http_request("PUT", n.url("/api/v1/users/" + admin["id"].get<std::string>() + "/status"), R"({"status":"disabled"})", hdr).status == 409);
  CHECK(http_request("DELETE", n.url("/api/v1/users/" + id), "", hdr).status == 200);
  CHECK(http_get(n.url("/api/v1/users/" + id), hdr).status == 404);

  auto rows = http_get(n.url("/api/v1/audit?actor_user_id=" + admin["id"].get<std::string>()), hdr);
  REQUIRE(rows.status == 200);
  auto items = rows.json()["items"];
  std::map<std::string, json> by_action;
  for (auto& row : items)
    by_action[row["action"]] = row;
  REQUIRE(by_action.count("user.create"));
  CHECK(by_action["user.create"]["before"].is_null());
  CHECK(by_action["user.create"]["after"]["email"] == "pro@example.com");
  CHECK(by_action["user.create"]["request_id"] == "req-audit-1");
  CHECK(by_action["user.create"]["ip"] == "127.0.0.1");
  CHECK(by_action["user.create"]["actor_role"] == "clinic_admin");
  REQUIRE(by_action.count("user.update"));
  CHECK(by_action["user.update"]["before"]["name"] == "Dra. Paula");
  CHECK(by_action["user.update"]["after"]["name"] == "Dra. Paula Lima");
  CHECK(by_action["user.update"]["before"]["role"] == "professional");
  CHECK(by_action["user.update"]["after"]["role"] == "attendant");
  REQUIRE(by_action.count("user.status"));
  CHECK(by_action["user.status"]["before"]["status"] == "active");
  CHECK(by_action["user.status"]["after"]["status"] == "disabled");
  REQUIRE(by_action.count("user.delete"));
  CHECK(by_action["user.delete"]["before"]["id"] == id);
  CHECK(by_action["user.delete"]["after"].is_null());
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action IN ('user.create','user.update','user.status','user.delete') "
                "AND target_id = '" + id + "'") == 4);
  // Login events are audited too.
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action = 'auth.login' AND target_id = '"
                + admin["id"].get<std::string>() + "'") == 1);

  // Filter and pages.
  auto filtered = http_get(n.url("/api/v1/audit?action=user.update"), hdr).json();
  CHECK(filtered["total"] == 1);
  auto page1 = http_get(n.url("/api/v1/audit?per_page=2&page=1"), hdr).json();
  auto page2 = http_get(n.url("/api/v1/audit?per_page=2&page=2"), hdr).json();
  CHECK(page1["items"].size() == 2);
  CHECK(page1["total"].get<int>() >= 5);
  CHECK(page1["items"][0]["id"] != page2["items"][0]["id"]);
  // The activity of the admin lists what it did.
  auto activity = http_get(n.url("/api/v1/users/" + admin["id"].get<std::string>() + "/activity"), bearer_header(super));
  REQUIRE(activity.status == 200);
  CHECK(activity.json()["total"].get<int>() >= 5);
}

TEST_CASE("Redis down: rate limits fail open, token checks fail closed", "[auth][redis]") {
  auth_node n;
  auto token = n.super_token();
  services("stop", "redis");
  auto r = http_get(n.url("/api/v1/users"), bearer_header(token));
  auto login = http_post(n.url("/api/v1/auth/login"),
                         json{{"email", demo::super_admin_email}, {"password", n.demo_password(demo::super_admin_email)}}.dump());
  services("start", "redis");
  CHECK(r.status == 503);
  CHECK(r.json()["error"]["code"] == "service_unavailable");
  CHECK(login.status == 200); // the auth rate limit is skipped, login still works
  CHECK(eventually([&] { return http_get(n.url("/api/v1/users"), bearer_header(token)).status == 200; },
                   std::chrono::seconds(20)));
}

TEST_CASE("CORS: only configured origins, on the admin API only, with preflight", "[auth][cors]") {
  auth_node n(std::map<std::string, std::string>{
    {"ATENDEAI_HTTP_CORS_ORIGINS", "https://admin.clinic.example,http://localhost:5173"}});
  const std::string good = "https://admin.clinic.example";

  // Preflight from an allowed origin: 204 with what the browser may send.
  auto pre = http_request("OPTIONS", n.url("/api/v1/auth/login"), "",
                          {{"Origin", good}, {"Access-Control-Request-Method", "POST"}});
  CHECK(pre.status == 204);
  CHECK(pre.headers["access-control-allow-origin"] == good);
  CHECK(pre.headers["access-control-allow-methods"].find("POST") != std::string::npos);
  CHECK(pre.headers["access-control-allow-headers"].find("Authorization") != std::string::npos);

  // Preflight from anywhere else: refused naming the Origin, no CORS header.
  auto bad = http_request("OPTIONS", n.url("/api/v1/auth/login"), "",
                          {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  CHECK(bad.status == 403);
  CHECK(bad.json()["error"]["field"] == "Origin");
  CHECK(bad.headers.count("access-control-allow-origin") == 0);

  // Real calls: the allowed origin is echoed (also on errors), others get nothing.
  auto login = http_post(n.url("/api/v1/auth/login"), json{{"email", "nobody@x.example"}, {"password", "x"}}.dump(),
                         {{"Origin", good}});
  CHECK(login.status == 401);
  CHECK(login.headers["access-control-allow-origin"] == good);
  CHECK(login.headers["vary"] == "Origin");
  auto other = http_post(n.url("/api/v1/auth/login"), json{{"email", "nobody@x.example"}, {"password", "x"}}.dump(),
                         {{"Origin", "https://admin.clinic.example.evil.example"}});
  CHECK(other.headers.count("access-control-allow-origin") == 0);
  // Never on webhooks or health, whatever the origin.
  auto health = http_get(n.url("/health"), {{"Origin", good}});
  CHECK(health.headers.count("access-control-allow-origin") == 0);
  // Security headers on every answer.
  for (auto* r : {&login, &other, &health, &bad}) {
    CHECK(r->headers["x-content-type-options"] == "nosniff");
    CHECK(r->headers["x-frame-options"] == "DENY");
  }
}

TEST_CASE("CORS origins are validated at start", "[auth][cors][cli]") {
  scratch_database db;
  node_options o;
  o.env = {{"ATENDEAI_HTTP_CORS_ORIGINS", "*"}};
  node_process node({"serve"}, node_env(db, free_port(), o));
  CHECK(node.wait_exit(std::chrono::seconds(30)) == 2);
  CHECK(node.output().find("http.cors_origins") != std::string::npos);
}

TEST_CASE("forgot password through an SMTP server: delivered to the account's address only, token works", "[auth][smtp]") {
  fake_smtp smtp;
  auth_node n(std::map<std::string, std::string>{{"ATENDEAI_MAIL_SMTP_URL", smtp.url()},
                                                 {"ATENDEAI_MAIL_FROM", "AtendeAI <no-reply@atendeai.test>"}});
  auto super = n.super_token();
  n.create_user(super, "carla@example.com", "attendant", demo::clinic_id);
  CHECK(http_post(n.url("/api/v1/auth/forgot-password"), R"({"email":"nobody@example.com"})").status == 202);
  CHECK(http_post(n.url("/api/v1/auth/forgot-password"), R"({"email":"Carla@Example.com"})").status == 202);
  REQUIRE(eventually([&] { return !smtp.received().empty(); }));
  // Both requests were handled in order by one worker or another; give the unknown one time too.
  REQUIRE(eventually([&] {
    return n.count("SELECT count(*) FROM atendeai.password_resets") == 1;
  }));
  auto mails = smtp.received();
  REQUIRE(mails.size() == 1);
  CHECK(mails[0].mail_from == "<no-reply@atendeai.test>");
  REQUIRE(mails[0].rcpt.size() == 1);
  CHECK(mails[0].rcpt[0] == "<carla@example.com>");
  CHECK_THAT(mails[0].data, Catch::Contains("Subject: AtendeAI: redefinir sua senha"));
  std::smatch m;
  REQUIRE(std::regex_search(mails[0].data, m, std::regex("Token: ([A-Za-z0-9_-]+)")));
  // Nothing went to the mail file, and the token is not in the logs.
  struct stat st {};
  CHECK(::stat((n.var_dir() + "/mail-outbox.txt").c_str(), &st) != 0);
  CHECK(n.node->output().find(m[1].str()) == std::string::npos);
  CHECK(http_post(n.url("/api/v1/auth/reset-password"), json{{"token", m[1].str()}, {"new_password", "Fresh-start-77"}}.dump())
          .status == 200);
  n.login("carla@example.com", "Fresh-start-77");
}

TEST_CASE("forgot password with the mail server down: the same 202 for known and unknown addresses, the failure counted",
          "[auth][smtp]") {
  // Nothing listens on this port: every delivery fails after the answer.
  auth_node n(std::map<std::string, std::string>{{"ATENDEAI_MAIL_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(free_port())}});
  auto super = n.super_token();
  n.create_user(super, "dora@example.com", "attendant", demo::clinic_id);
  auto known = http_post(n.url("/api/v1/auth/forgot-password"), R"({"email":"dora@example.com"})");
  auto unknown = http_post(n.url("/api/v1/auth/forgot-password"), R"({"email":"nobody@example.com"})");
  CHECK(known.status == 202);
  CHECK(unknown.status == 202);
  CHECK(known.body == unknown.body);
  REQUIRE(eventually([&] {
    return http_get(n.url("/metrics")).body.find("atendeai_mail_failures_total 1") != std::string::npos;
  }));
  CHECK(n.node->output().find("reset_mail_failed") != std::string::npos);
  CHECK(n.node->output().find("dora@example.com") == std::string::npos);
  // The user can ask again once the mail server is back; the reset stored meanwhile is
  // a hash nobody holds the token of.
  CHECK(n.count("SELECT count(*) FROM atendeai.password_resets WHERE used_at IS NULL") == 1);
}
