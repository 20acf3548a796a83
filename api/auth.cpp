#include "actors/auth_store.hpp"

#include <cctype>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <curl/curl.h>

#include "actors/api_support.hpp"
#include "core/error.hpp"
#include "core/jwt.hpp"
#include "core/log.hpp"
#include "core/password.hpp"
#include "persistence/audit.hpp"
#include "persistence/database.hpp"
#include "persistence/redis.hpp"
#include "persistence/users.hpp"

namespace atendeai::actors {

namespace {

using nlohmann::json;
using persistence::nil_clinic;

// -- mail -----------------------------------------------------------------------------------

std::string address_of(const std::string& from) {
  auto lt = from.find('<'), gt = from.find('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt)
    return from.substr(lt, gt - lt + 1);
  return "<" + from + ">";
}

std::string rfc2822_now() {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

struct upload {
  const std::string* text;
  size_t offset = 0;
};

size_t read_upload(char* out, size_t size, size_t n, void* data) {
  auto* u = static_cast<upload*>(data);
  size_t left = u->text->size() - u->offset;
  size_t take = std::min(left, size * n);
  std::memcpy(out, u->text->data() + u->offset, take);
  u->offset += take;
  return take;
}

} // namespace


struct auth_store_state : api_worker {
  static constexpr const char* name = "auth_store";
  auth_store_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------------

  std::string dummy_hash; ///< verified against when an e-mail is unknown (same timing)

  // -- helpers ------------------------------------------------------------------------

  const config::auth_settings& auth() const { return node->cfg.auth; }
  std::string sign(const core::jwt_claims& c) const { return core::sign_jwt(c, auth().jwt_secret); }

  // -- rate limits (fail open) -------------------------------------------------------

  /// Counts one request of `who` in `scope`; refuses with 429 past either window's limit.
  void limit(const std::string& scope, const std::string& who, int per_short, int per_hour) {
    const int64_t t = now_s();
    struct window {
      const char* tag;
      int64_t len;
      int max;
    };
    const window windows[] = {{"m", auth().rate_window_s, per_short}, {"h", 3600, per_hour}};
    for (auto& w : windows) {
      int64_t n = 0;
      auto key = "atendeai:rl:" + scope + ":" + w.tag + ":" + who + ":" + std::to_string(t / w.len);
      try {
        n = with_redis("rate_limit", [&](persistence::redis_client& rc) {
          auto v = std::stoll(rc.command({"INCR", key}).value_or("0"));
          if (v == 1)
            rc.command({"EXPIRE", key, std::to_string(w.len + 1)});
          return v;
        });
      } catch (const persistence::unavailable& e) {
        // Fail open: a Redis outage must not lock every administrator out.
        count("atendeai_rate_limit_skipped_total", "Rate limit checks skipped (Redis unavailable)", {});
        core::log_event(spdlog::level::warn, "rate_limit_skipped", {{"scope", scope}, {"error", e.what()}});
        return;
      }
      if (n > w.max) {
        count("atendeai_rate_limited_total", "Requests refused by a rate limit", {{"scope", scope}});
        throw api_failure{core::error_code::rate_limited, "too many requests; retry later", "",
                          w.len - t % w.len};
      }
    }
  }

  /// Per-IP limit of the auth routes.
  void limit_ip(const api_request& r) {
    limit("auth_ip", r.ip, auth().rate_auth_per_minute, auth().rate_auth_per_hour);
  }

  /// Per-account limit of the auth routes (the account is hashed: no e-mail in Redis).
  void limit_account(const std::string& account) {
    limit("auth_account", core::sha256_hex(account).substr(0, 32), auth().rate_auth_per_minute,
          auth().rate_auth_per_hour);
  }

  // -- authentication (revocation fails closed) ----------------------------------------

  principal authenticate(const api_request& r) {
    const auto& h = r.authorization;
    if (h.size() < 8 || lower(h.substr(0, 7)) != "bearer ")
      fail(core::error_code::unauthorized, "a bearer token is required", "Authorization");
    auto verified = core::verify_jwt(std::string_view(h).substr(7), auth().jwt_secret, now_s());
    if (auto err = std::get_if<core::jwt_error>(&verified)) {
      count("atendeai_auth_refused_total", "Tokens refused", {{"reason", std::string(core::to_string(*err))}});
      fail(core::error_code::unauthorized, "invalid token (" + std::string(core::to_string(*err)) + ")",
           "Authorization");
    }
    principal p;
    p.claims = std::get<core::jwt_claims>(verified);
    auto role = core::parse_role(p.claims.role);
    if (p.claims.typ != "access" || !role || !valid_uuid(p.claims.sub) || !valid_uuid(p.claims.clinic_id))
      fail(core::error_code::unauthorized, "invalid token (not an access token)", "Authorization");
    std::vector<std::string> revoked;
    try {
      revoked = with_redis("revocation_check", [&](persistence::redis_client& rc) {
        return rc.command_list({"MGET", "atendeai:revoked:jti:" + p.claims.jti, "atendeai:revoked:fam:" + p.claims.fam});
      });
    } catch (const persistence::unavailable& e) {
      core::log_event(spdlog::level::warn, "revocation_check_failed", {{"error", e.what()}});
      fail(core::error_code::service_unavailable, "token revocation cannot be checked (Redis unavailable); retry");
    }
    if (!revoked.empty())
      fail(core::error_code::unauthorized, "invalid token (revoked)", "Authorization");
    auto user = db->run([&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      persistence::set_clinic(tx, p.claims.clinic_id);
      return persistence::find_user(tx, p.claims.clinic_id, p.claims.sub);
    });
    if (!user || user->status != "active" || user->token_version != p.claims.ver || user->role != p.claims.role)
      fail(core::error_code::unauthorized, "invalid token (user disabled or credentials changed)", "Authorization");
    p.user = std::move(*user);
    p.role = *role;
    return p;
  }

  // -- tokens ---------------------------------------------------------------------------

  /// A fresh access/refresh pair in `family`; the refresh token is recorded in `tx`.
  json issue(pqxx::transaction_base& tx, const persistence::user_row& u, const std::string& family) {
    auto t = now_s();
    core::jwt_claims a;
    a.sub = u.id;
    a.clinic_id = u.clinic_id;
    a.role = u.role;
    a.jti = core::random_uuid();
    a.typ = "access";
    a.fam = family;
    a.ver = u.token_version;
    a.iat = t;
    a.exp = t + auth().access_ttl_s;
    auto rf = a;
    rf.jti = core::random_uuid();
    rf.typ = "refresh";
    rf.exp = t + auth().refresh_ttl_s;
    persistence::insert_refresh(tx, u.clinic_id, rf.jti, family, u.id, rf.exp);
    return {{"access_token", sign(a)},   {"refresh_token", sign(rf)},
            {"token_type", "Bearer"},    {"expires_in", auth().access_ttl_s},
            {"refresh_expires_in", auth().refresh_ttl_s}, {"user", persistence::to_json(u)}};
  }

  /// Makes the access tokens of a family unusable at once (Redis); throws on failure.
  void revoke_family_access(const std::string& family) {
    with_redis("revoke_family", [&](persistence::redis_client& rc) {
      rc.command({"SET", "atendeai:revoked:fam:" + family, "1", "EX", std::to_string(auth().access_ttl_s + 60)});
      return 0;
    });
  }

  // -- mail -----------------------------------------------------------------------------

  /// Sends an e-mail through SMTP, or appends it to the 0600 mail file when no server is set.
  void send_mail(const std::string& to, const std::string& subject, const std::string& text) {
    auto& m = node->cfg.mail;
    std::string message = "From: " + m.from + "\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\nDate: "
                          + rfc2822_now() + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n";
    if (m.smtp_url.empty()) {
      auto path = node->cfg.paths.var_dir + "/" + m.file;
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd < 0)
        throw std::runtime_error("cannot open the mail file");
      ::fchmod(fd, 0600);
      auto entry = message + "\r\n.\r\n";
      bool ok = ::write(fd, entry.data(), entry.size()) == static_cast<ssize_t>(entry.size());
      ::close(fd);
      if (!ok)
        throw std::runtime_error("cannot write the mail file");
      return;
    }
    CURL* c = curl_easy_init();
    curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
    upload u{&message};
    curl_easy_setopt(c, CURLOPT_URL, m.smtp_url.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, address_of(m.from).c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    auto rc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK)
      throw std::runtime_error(std::string("SMTP delivery failed: ") + curl_easy_strerror(rc));
  }

  // -- the request ------------------------------------------------------------------------

  void handle(api_request& r) {
    try {
      serve(r);
    } catch (const api_failure& f) {
      auto error = core::error_body(f.code, f.message, f.field);
      if (f.extra.is_object())
        error["error"].update(f.extra);
      auto body = error.dump();
      if (f.retry_after_s > 0)
        r.responder->respond_with(core::http_status(f.code), std::move(body),
                                  {{"Retry-After", std::to_string(f.retry_after_s)}});
      else
        r.responder->respond(core::http_status(f.code), std::move(body));
    } catch (const persistence::unavailable& e) {
      database_unreachable(r, e);
    } catch (const pqxx::broken_connection& e) {
      database_unreachable(r, e);
    } catch (const std::exception& e) {
      db->reset();
      core::log_event(spdlog::level::err, "api_failed",
                      {{"op", r.route->op}, {"request_id", r.request_id}, {"error", e.what()}});
      count("atendeai_api_errors_total", "Admin API requests that failed", {{"op", r.route->op}});
      r.responder->respond(500, core::error_body(core::error_code::internal_error, "internal error").dump());
    }
  }

  /// PostgreSQL could not be reached (at connect or mid-transaction): 503, counted; the
  /// connection is reopened on the next request.
  void database_unreachable(api_request& r, const std::exception& e) {
    db->reset();
    count("atendeai_db_errors_total", "PostgreSQL errors", {{"op", "api"}});
    core::log_event(spdlog::level::warn, "api_unavailable", {{"op", r.route->op}, {"error", e.what()}});
    r.responder->respond(503, core::error_body(core::error_code::database_unavailable,
                                               "the database is unreachable; retry later").dump());
  }

  /// Order of checks (API.md): 401 → 429 → 403 → 404 → 400/422 → 409.
  void serve(api_request& r) {
    const auto& route = *r.route;
    const std::string op = route.op;
    if (route.who == core::access::open) {
      limit_ip(r);
      if (op == "auth.login")
        return login(r);
      if (op == "auth.refresh")
        return refresh(r);
      if (op == "auth.forgot_password")
        return forgot_password(r);
      if (op == "auth.reset_password")
        return reset_password(r);
      fail(core::error_code::not_found, "no such route");
    }
    auto p = authenticate(r);
    if (r.forwarded_from.empty()) // a forwarded request was counted on the node that took it
      limit("api", p.user.id, auth().rate_api_per_minute, auth().rate_api_per_hour);
    if (!core::allows(route, p.role))
      fail(core::error_code::forbidden, "your role may not use this route");
    if (op == "auth.logout")
      return logout(r, p);
    if (op == "auth.profile.get")
      return r.responder->respond(200, persistence::to_json(p.user).dump());
    if (op == "auth.profile.update")
      return update_profile(r, p);
    if (op == "auth.register" || op == "users.create")
      return create_user(r, p);
    if (op == "users.list")
      return list_users(r, p);
    if (op == "audit.list")
      return list_audit(r, p);
    if (serve_module(r, p))
      return;
    if (op.rfind("users.", 0) != 0)
      fail(core::error_code::not_implemented, "this route is declared but not served yet");
    // Routes on one user: tenant first (404), then the body.
    auto target = find_target(r, p);
    if (op == "users.get")
      return r.responder->respond(200, persistence::to_json(target).dump());
    if (op == "users.update")
      return update_user(r, p, target);
    if (op == "users.delete")
      return delete_user(r, p, target);
    if (op == "users.status")
      return set_status(r, p, target);
    if (op == "users.activity")
      return activity(r, p, target);
    fail(core::error_code::not_found, "no such route");
  }

  /// The handlers of the routes served outside this file.
  static const api_handlers& handlers() {
    static const api_handlers h = [] {
      api_handlers out;
      add_catalogue_handlers(out);
      add_agenda_handlers(out);
      add_inbox_handlers(out);
      add_inspect_handlers(out);
      return out;
    }();
    return h;
  }

  /// The clinic a `/clinics/:id` route names, checked against the caller: one's own
  /// clinic, or any existing clinic for a super admin; 404 otherwise (API.md).
  std::string route_clinic(const api_request& r, const principal& p) {
    auto it = r.params.find("id");
    std::string path = r.route->path;
    if (it == r.params.end() || path.find("/clinics/:id") == std::string::npos)
      return {};
    auto id = lower(it->second);
    if (!valid_uuid(id))
      fail(core::error_code::not_found, "no such clinic");
    if (p.role != core::role::super_admin) {
      if (id != p.user.clinic_id)
        fail(core::error_code::not_found, "no such clinic");
      return id;
    }
    bool exists = db->run([&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      persistence::set_clinic(tx, id);
      return persistence::clinic_exists(tx, id);
    });
    if (!exists)
      fail(core::error_code::not_found, "no such clinic");
    return id;
  }

  /// A route of another module: tenant (404), then its handler — on the clinic's owner
  /// node when the route runs there (the owner answers; actors/api_forward.cpp).
  bool serve_module(api_request& r, const principal& p) {
    auto it = handlers().find(r.route->op);
    if (it == handlers().end())
      return false;
    api_call call{*this, r, p, route_clinic(r, p)};
    if (!forward_to_owner(call, call.clinic_id))
      it->second(call);
    return true;
  }

  /// A request another node forwarded here (this node owns its clinic): the same checks
  /// and handler, the answer kept for the entry node to write.
  forwarded_reply serve_forwarded(forwarded_api& f) {
    auto out = std::make_shared<captured_response>();
    auto r = from_forwarded(std::move(f), out);
    if (!r.route)
      out->respond(404, core::error_body(core::error_code::not_found, "no such route").dump());
    else
      handle(r);
    return out->reply();
  }

  // -- auth routes ------------------------------------------------------------------------

  void login(api_request& r) {
    auto body = parse_body(r.body, {{"email", ftype::string, true, 254}, {"password", ftype::string, true, 1024}});
    auto email = email_of(body);
    limit_account(email);
    auto password = str(body, "password");
    auto result = db->run([&](pqxx::connection& c) -> json {
      pqxx::work tx(c);
      auto found = persistence::user_for_login(tx, email);
      // Always one bcrypt verification, so an unknown e-mail takes as long as a wrong password.
      bool ok = core::verify_password(password, found ? found->password_hash : dummy_hash) && found
                && found->status == "active";
      auto clinic = found ? found->clinic_id : nil_clinic;
      persistence::set_clinic(tx, clinic);
      if (!ok) {
        audit(tx, r, nullptr, clinic, "auth.login_failed", "user", found ? found->id : "",
              nullptr, json{{"reason", !found ? "unknown_email" : found->status != "active" ? "inactive" : "wrong_password"}});
        tx.commit();
        return nullptr;
      }
      auto user = persistence::find_user(tx, clinic, found->id);
      persistence::touch_login(tx, *user);
      auto tokens = issue(tx, *user, core::random_uuid());
      principal self_login;
      self_login.user = *user;
      audit(tx, r, &self_login, clinic, "auth.login", "user", user->id, nullptr, json{{"role", user->role}});
      tx.commit();
      return tokens;
    });
    if (result.is_null())
      fail(core::error_code::unauthorized, "wrong e-mail or password");
    r.responder->respond(200, result.dump());
  }

  void refresh(api_request& r) {
    auto body = parse_body(r.body, {{"refresh_token", ftype::string, true, 4096}});
    auto verified = core::verify_jwt(str(body, "refresh_token"), auth().jwt_secret, now_s());
    if (auto err = std::get_if<core::jwt_error>(&verified))
      fail(core::error_code::unauthorized, "invalid refresh token (" + std::string(core::to_string(*err)) + ")",
           "refresh_token");
    auto claims = std::get<core::jwt_claims>(verified);
    if (claims.typ != "refresh" || !valid_uuid(claims.jti) || !valid_uuid(claims.clinic_id)
        || !valid_uuid(claims.fam) || !valid_uuid(claims.sub))
      fail(core::error_code::unauthorized, "invalid refresh token", "refresh_token");
    limit_account(claims.sub);
    bool reused = false;
    auto result = db->run([&](pqxx::connection& c) -> json {
      pqxx::work tx(c);
      persistence::set_clinic(tx, claims.clinic_id);
      auto row = persistence::lock_refresh(tx, claims.clinic_id, claims.jti);
      if (!row || row->revoked || row->expired)
        return nullptr;
      if (row->used) {
        // Reuse: someone holds a copy. The whole family dies, the holder must log in again.
        int n = persistence::revoke_family(tx, claims.clinic_id, row->family_id);
        audit(tx, r, nullptr, claims.clinic_id, "auth.refresh_reuse", "user", row->user_id, nullptr,
              json{{"family_id", row->family_id}, {"revoked_tokens", n}});
        tx.commit();
        reused = true;
        return nullptr;
      }
      auto user = persistence::find_user(tx, claims.clinic_id, row->user_id);
      if (!user || user->status != "active" || user->token_version != claims.ver)
        return nullptr;
      persistence::mark_refresh_used(tx, claims.clinic_id, claims.jti);
      auto tokens = issue(tx, *user, row->family_id);
      tx.commit();
      return tokens;
    });
    if (reused) {
      try {
        revoke_family_access(claims.fam);
      } catch (const persistence::unavailable&) {
        // The family's refresh tokens are dead in PostgreSQL; its access tokens expire soon.
      }
      count("atendeai_refresh_reuse_total", "Refresh tokens presented twice (family revoked)", {});
      fail(core::error_code::unauthorized, "refresh token already used; its session is revoked", "refresh_token");
    }
    if (result.is_null())
      fail(core::error_code::unauthorized, "invalid refresh token", "refresh_token");
    r.responder->respond(200, result.dump());
  }

  void logout(api_request& r, const principal& p) {
    parse_body(r.body.empty() ? std::string("{}") : r.body, {});
    // Redis first: if it is down the token stays usable, so say so instead of pretending.
    try {
      with_redis("revoke_token", [&](persistence::redis_client& rc) {
        auto ttl = std::max<int64_t>(1, p.claims.exp - now_s());
        rc.command({"SET", "atendeai:revoked:jti:" + p.claims.jti, "1", "EX", std::to_string(ttl)});
        return 0;
      });
      if (!p.claims.fam.empty())
        revoke_family_access(p.claims.fam);
    } catch (const persistence::unavailable&) {
      fail(core::error_code::service_unavailable, "logout cannot be recorded (Redis unavailable); retry");
    }
    db->run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      persistence::set_clinic(tx, p.user.clinic_id);
      if (valid_uuid(p.claims.fam))
        persistence::revoke_family(tx, p.user.clinic_id, p.claims.fam);
      audit(tx, r, &p, p.user.clinic_id, "auth.logout", "user", p.user.id);
      tx.commit();
    });
    r.responder->respond(200, R"({"status":"logged_out"})");
  }

  void update_profile(api_request& r, const principal& p) {
    auto body = parse_body(r.body, {{"name", ftype::string, false, 200},
                                    {"current_password", ftype::string, false, 1024},
                                    {"new_password", ftype::string, false, 1024}});
    persistence::user_change change;
    if (body.contains("name"))
      change.name = name_of(body);
    if (body.contains("new_password")) {
      if (!body.contains("current_password"))
        fail(core::error_code::validation_failed, "is required to change the password", "current_password");
      if (auto weak = core::password_weakness(str(body, "new_password"), p.user.email))
        fail(core::error_code::validation_failed, *weak, "new_password");
      if (!core::verify_password(str(body, "current_password"), p.user.password_hash))
        fail(core::error_code::validation_failed, "does not match", "current_password");
      change.password_hash = core::hash_password(str(body, "new_password"), auth().bcrypt_cost);
      change.bump_tokens = true;
    }
    auto after = db->run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      persistence::set_clinic(tx, p.user.clinic_id);
      auto updated = persistence::update_user(tx, p.user, change);
      json before = {{"name", p.user.name}}, now = {{"name", updated.name}};
      if (change.password_hash) {
        before["password"] = "old";
        now["password"] = "changed";
        persistence::revoke_user_tokens(tx, p.user.clinic_id, p.user.id);
      }
      audit(tx, r, &p, p.user.clinic_id, "auth.profile_update", "user", p.user.id, before, now);
      tx.commit();
      return updated;
    });
    r.responder->respond(200, persistence::to_json(after).dump());
  }

  void forgot_password(api_request& r) {
    auto body = parse_body(r.body, {{"email", ftype::string, true, 254}});
    auto email = email_of(body);
    limit_account(email);
    auto token = core::random_token(32);
    bool sent = db->run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      auto found = persistence::user_for_login(tx, email);
      if (!found || found->status != "active")
        return false;
      persistence::set_clinic(tx, found->clinic_id);
      persistence::insert_reset(tx, found->clinic_id, found->id, core::sha256_hex(token),
                                now_s() + auth().reset_ttl_s);
      audit(tx, r, nullptr, found->clinic_id, "auth.reset_requested", "user", found->id);
      tx.commit();
      return true;
    });
    core::log_event(spdlog::level::debug, "reset_requested", {{"request_id", r.request_id}, {"known", sent}});
    // The same answer whether the address exists or not, written after the commit and
    // before the mail: the mail server's time (or failure) would tell known addresses
    // from unknown ones. A reset whose mail failed is only a stored hash nobody holds
    // the token of; it expires unused, and the user asks again.
    r.responder->respond(202, R"({"status":"accepted","message":"if the address belongs to an account, a message with instructions is on its way"})");
    if (!sent)
      return;
    try {
      send_mail(email, "AtendeAI: redefinir sua senha / reset your password",
                "Para criar uma nova senha, abra / To choose a new password, open:\r\n" + node->cfg.mail.reset_url
                  + token + "\r\n\r\nToken: " + token + "\r\nVálido por / valid for "
                  + std::to_string(auth().reset_ttl_s / 60) + " min. Se não foi você, ignore / If it was not you, ignore it.");
    } catch (const std::exception& e) {
      node->metrics->counter_with("atendeai_mail_failures_total", "Password-reset mails that could not be sent").inc();
      core::log_event(spdlog::level::warn, "reset_mail_failed", {{"request_id", r.request_id}, {"error", e.what()}});
    }
  }

  void reset_password(api_request& r) {
    auto body = parse_body(r.body, {{"token", ftype::string, true, 200}, {"new_password", ftype::string, true, 1024}});
    auto token = str(body, "token");
    auto outcome = db->run([&](pqxx::connection& c) -> std::string {
      pqxx::work tx(c);
      auto reset = persistence::reset_for(tx, core::sha256_hex(token));
      if (!reset || reset->expired || reset->used)
        return "token";
      persistence::set_clinic(tx, reset->clinic_id);
      auto user = persistence::find_user(tx, reset->clinic_id, reset->user_id, true);
      if (!user || user->status != "active")
        return "token";
      if (auto weak = core::password_weakness(str(body, "new_password"), user->email))
        return "weak:" + *weak;
      if (!persistence::use_reset(tx, *reset))
        return "token";
      persistence::user_change change;
      change.password_hash = core::hash_password(str(body, "new_password"), auth().bcrypt_cost);
      change.bump_tokens = true;
      persistence::update_user(tx, *user, change);
      int n = persistence::revoke_user_tokens(tx, user->clinic_id, user->id);
      audit(tx, r, nullptr, user->clinic_id, "auth.password_reset", "user", user->id, json{{"password", "old"}},
            json{{"password", "changed"}, {"revoked_tokens", n}});
      tx.commit();
      return "";
    });
    if (outcome == "token")
      fail(core::error_code::validation_failed, "invalid, used or expired reset token", "token");
    if (outcome.rfind("weak:", 0) == 0)
      fail(core::error_code::validation_failed, outcome.substr(5), "new_password");
    r.responder->respond(200, R"({"status":"password_changed"})");
  }

  // -- users --------------------------------------------------------------------------------

  /// The clinic whose rows a listing reads: a super admin's ?clinic_id=, else one's own.
  std::string listing_clinic(const principal& p, const page_query& q) {
    auto it = q.rest.find("clinic_id");
    if (it == q.rest.end())
      return p.user.clinic_id;
    if (!valid_uuid(it->second))
      fail(core::error_code::validation_failed, "must be a UUID", "clinic_id");
    if (p.role != core::role::super_admin && it->second != p.user.clinic_id)
      fail(core::error_code::not_found, "no such clinic");
    return lower(it->second);
  }

  /// The user named by the path, in the caller's reach; 404 otherwise (also for other clinics).
  persistence::user_row find_target(const api_request& r, const principal& p) {
    auto it = r.params.find("id");
    std::string id = it == r.params.end() ? "" : lower(it->second);
    if (!valid_uuid(id))
      fail(core::error_code::not_found, "no such user");
    auto user = db->run([&](pqxx::connection& c) -> std::optional<persistence::user_row> {
      pqxx::work tx(c);
      std::string clinic = p.user.clinic_id;
      if (p.role == core::role::super_admin) {
        auto where = persistence::user_clinic(tx, id);
        if (!where)
          return std::nullopt;
        clinic = *where;
      }
      persistence::set_clinic(tx, clinic);
      auto u = persistence::find_user(tx, clinic, id);
      tx.commit();
      return u;
    });
    if (!user)
      fail(core::error_code::not_found, "no such user");
    return *user;
  }

  void create_user(api_request& r, const principal& p) {
    auto body = parse_body(r.body, {{"email", ftype::string, true, 254},
                                    {"password", ftype::string, true, 1024},
                                    {"name", ftype::string, false, 200},
                                    {"role", ftype::string, true, 32},
                                    {"clinic_id", ftype::string, false, 36},
                                    {"professional_id", ftype::string, false, 36}});
    // Tenant: a clinic admin creates only in its clinic; a super admin names the clinic.
    std::string clinic = p.user.clinic_id;
    if (body.contains("clinic_id")) {
      auto named = lower(str(body, "clinic_id"));
      if (!valid_uuid(named))
        fail(core::error_code::validation_failed, "must be a UUID", "clinic_id");
      if (p.role != core::role::super_admin && named != p.user.clinic_id)
        fail(core::error_code::not_found, "no such clinic");
      clinic = named;
    }
    auto role = core::parse_role(str(body, "role"));
    if (!role)
      fail(core::error_code::validation_failed, "must be one of super_admin, clinic_admin, attendant, professional",
           "role");
    if (*role == core::role::super_admin && p.role != core::role::super_admin)
      fail(core::error_code::forbidden, "only a super admin may create a super admin", "role");
    if (*role == core::role::super_admin) {
      if (body.contains("clinic_id") && clinic != nil_clinic)
        fail(core::error_code::validation_failed, "a super admin belongs to no clinic", "clinic_id");
      clinic = nil_clinic;
    } else if (clinic == nil_clinic) {
      fail(core::error_code::validation_failed, "is required for this role", "clinic_id");
    }
    auto professional = professional_of(body, clinic);
    auto email = email_of(body);
    auto name = name_of(body);
    auto password = str(body, "password");
    if (auto weak = core::password_weakness(password, email))
      fail(core::error_code::validation_failed, *weak, "password");
    auto hash = core::hash_password(password, auth().bcrypt_cost);
    auto created = db->run([&](pqxx::connection& c) -> std::optional<persistence::user_row> {
      pqxx::work tx(c);
      persistence::set_clinic(tx, clinic);
      if (clinic != nil_clinic && !persistence::clinic_exists(tx, clinic))
        fail(core::error_code::not_found, "no such clinic");
      if (persistence::email_taken(tx, email))
        return std::nullopt;
      auto u = persistence::insert_user(tx, clinic, email, name, std::string(core::to_string(*role)), hash);
      if (professional && !professional->empty()) {
        check_professional(tx, clinic, *professional);
        persistence::user_change link;
        link.professional_id = professional;
        u = persistence::update_user(tx, u, link);
      }
      audit(tx, r, &p, clinic, "user.create", "user", u.id, nullptr, persistence::to_json(u));
      tx.commit();
      return u;
    });
    if (!created)
      fail(core::error_code::conflict, "a user with this e-mail exists", "email");
    r.responder->respond(201, persistence::to_json(*created).dump());
  }

  /// The professional a body links a user to ("" unlinks; absent: no change): a UUID,
  /// and only for users of a clinic.
  std::optional<std::string> professional_of(const json& body, const std::string& clinic) {
    if (!body.contains("professional_id"))
      return std::nullopt;
    auto id = lower(str(body, "professional_id"));
    if (!id.empty() && !valid_uuid(id))
      fail(core::error_code::validation_failed, "must be a UUID (or \"\" to unlink)", "professional_id");
    if (!id.empty() && clinic == nil_clinic)
      fail(core::error_code::validation_failed, "a super admin has no agenda", "professional_id");
    return id;
  }

  /// Refuses a professional the clinic does not have (422).
  static void check_professional(pqxx::transaction_base& tx, const std::string& clinic, const std::string& id) {
    if (!persistence::professional_exists(tx, clinic, id))
      fail(core::error_code::validation_failed, "no such professional in this clinic", "professional_id");
  }

  void list_users(api_request& r, const principal& p) {
    auto q = parse_query(r.query, {"clinic_id", "role", "status"});
    auto clinic = listing_clinic(p, q);
    auto role = q.rest.count("role") ? q.rest["role"] : "";
    if (!role.empty() && !core::parse_role(role))
      fail(core::error_code::validation_failed, "unknown role", "role");
    auto status = q.rest.count("status") ? q.rest["status"] : "";
    if (!status.empty() && status != "active" && status != "disabled")
      fail(core::error_code::validation_failed, "must be active or disabled", "status");
    auto page = db->run([&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      persistence::set_clinic(tx, clinic);
      return persistence::list_users(tx, clinic, role, status, q.page, q.per_page);
    });
    r.responder->respond(200, page.dump());
  }

  /// Admins act on users of lower or equal standing; a clinic admin never on a super admin.
  void check_may_manage(const principal& p, const persistence::user_row& target) {
    if (p.role != core::role::super_admin && target.role == "super_admin")
      fail(core::error_code::not_found, "no such user");
  }

  void update_user(api_request& r, const principal& p, const persistence::user_row& target) {
    check_may_manage(p, target);
    auto body = parse_body(r.body, {{"name", ftype::string, false, 200},
                                    {"role", ftype::string, false, 32},
                                    {"professional_id", ftype::string, false, 36}});
    persistence::user_change change;
    change.professional_id = professional_of(body, target.clinic_id);
    if (body.contains("name"))
      change.name = name_of(body);
    if (body.contains("role")) {
      auto role = core::parse_role(str(body, "role"));
      if (!role)
        fail(core::error_code::validation_failed,
             "must be one of super_admin, clinic_admin, attendant, professional", "role");
      if ((*role == core::role::super_admin) != (target.role == "super_admin"))
        fail(core::error_code::validation_failed, "a user cannot move between a clinic and super admin", "role");
      if (target.id == p.user.id && str(body, "role") != target.role)
        fail(core::error_code::conflict, "you cannot change your own role", "role");
      if (str(body, "role") != target.role) {
        change.role = str(body, "role");
        change.bump_tokens = true;
      }
    }
    mutate(r, p, target, change, "user.update");
  }

  void set_status(api_request& r, const principal& p, const persistence::user_row& target) {
    check_may_manage(p, target);
    auto body = parse_body(r.body, {{"status", ftype::string, true, 16}});
    auto status = str(body, "status");
    if (status != "active" && status != "disabled")
      fail(core::error_code::validation_failed, "must be active or disabled", "status");
    if (target.id == p.user.id)
      fail(core::error_code::conflict, "you cannot change your own status", "status");
    persistence::user_change change;
    if (status != target.status) {
      change.status = status;
      change.bump_tokens = status == "disabled";
    }
    mutate(r, p, target, change, "user.status");
  }

  /// Applies a change with its audit row (before/after) in one transaction.
  void mutate(api_request& r, const principal& p, const persistence::user_row& target,
              const persistence::user_change& change, const char* action) {
    auto after = db->run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      persistence::set_clinic(tx, target.clinic_id);
      auto current = persistence::find_user(tx, target.clinic_id, target.id, true);
      if (!current)
        fail(core::error_code::not_found, "no such user");
      if (change.professional_id && !change.professional_id->empty())
        check_professional(tx, target.clinic_id, *change.professional_id);
      auto updated = persistence::update_user(tx, *current, change);
      if (change.bump_tokens)
        persistence::revoke_user_tokens(tx, target.clinic_id, target.id);
      audit(tx, r, &p, target.clinic_id, action, "user", target.id, persistence::to_json(*current),
            persistence::to_json(updated));
      tx.commit();
      return updated;
    });
    r.responder->respond(200, persistence::to_json(after).dump());
  }

  void delete_user(api_request& r, const principal& p, const persistence::user_row& target) {
    check_may_manage(p, target);
    if (!r.body.empty())
      parse_body(r.body, {});
    if (target.id == p.user.id)
      fail(core::error_code::conflict, "you cannot delete yourself");
    db->run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      persistence::set_clinic(tx, target.clinic_id);
      persistence::delete_user(tx, target);
      audit(tx, r, &p, target.clinic_id, "user.delete", "user", target.id, persistence::to_json(target), nullptr);
      tx.commit();
    });
    r.responder->respond(200, R"({"status":"deleted"})");
  }

  void activity(api_request& r, const principal& p, const persistence::user_row& target) {
    check_may_manage(p, target);
    auto q = parse_query(r.query, {});
    persistence::audit_filter f;
    f.actor_or_target = target.id;
    auto page = db->run([&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      persistence::set_clinic(tx, target.clinic_id);
      return persistence::list_audit(tx, target.clinic_id, f, q.page, q.per_page);
    });
    r.responder->respond(200, page.dump());
  }

  void list_audit(api_request& r, const principal& p) {
    auto q = parse_query(r.query, {"clinic_id", "action", "actor_user_id", "target_id", "from", "to"});
    auto clinic = listing_clinic(p, q);
    persistence::audit_filter f;
    f.action = q.rest["action"];
    f.actor_user_id = lower(q.rest["actor_user_id"]);
    if (!f.actor_user_id.empty() && !valid_uuid(f.actor_user_id))
      fail(core::error_code::validation_failed, "must be a UUID", "actor_user_id");
    f.target_id = q.rest["target_id"];
    f.from = q.rest["from"];
    f.to = q.rest["to"];
    if (!f.from.empty() && !plausible_timestamp(f.from))
      fail(core::error_code::validation_failed, "must be an ISO-8601 date or timestamp", "from");
    if (!f.to.empty() && !plausible_timestamp(f.to))
      fail(core::error_code::validation_failed, "must be an ISO-8601 date or timestamp", "to");
    auto page = db->run([&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      persistence::set_clinic(tx, clinic);
      return persistence::list_audit(tx, clinic, f, q.page, q.per_page);
    });
    r.responder->respond(200, page.dump());
  }
};

auth_store_actor::behavior_type auth_store(auth_store_actor::stateful_pointer<auth_store_state> self,
                                           node_context_ptr node) {
  self->state.self = self;
  self->state.node = node;
  self->state.system = &self->system();
  self->state.db = std::make_unique<persistence::db_session>(
    persistence::db_target{node->cfg.database.url, node->cfg.database.connect_timeout_s, node->cfg.database.app_role});
  self->state.dummy_hash = core::hash_password(core::random_token(16), node->cfg.auth.bcrypt_cost);
  return {
    [self](api_atom, api_request& r) { self->state.handle(r); },
    [self](api_atom, forwarded_api& f) { return self->state.serve_forwarded(f); },
  };
}

auth_store_actor spawn_auth_store(caf::actor_system& sys, node_context_ptr node) {
  return sys.spawn<caf::detached>(auth_store, node);
}

} // namespace atendeai::actors
