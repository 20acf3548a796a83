/// Admin API: authentication. Logging in (bcrypt, the same time for an unknown e-mail),
/// refresh tokens rotated on every use (a reused one revokes its whole session), logout
/// (the token refused at once, through Redis), one's own profile, and password resets
/// (single-use tokens sent by mail, api/mail.hpp). Every event is audited in its
/// transaction.
#include "api/call.hpp"
#include "api/checks.hpp"
#include "api/mail.hpp"
#include "api/validation.hpp"
#include "core/log.hpp"
#include "core/password.hpp"

namespace atendeai::api {

namespace {

using nlohmann::json;
using persistence::nil_clinic;

/// A signed token.
std::string sign(api_worker& w, const core::jwt_claims& c) {
  return core::sign_jwt(c, w.auth().jwt_secret);
}

// -- tokens ---------------------------------------------------------------------------

/// A fresh access/refresh pair in `family`; the refresh token is recorded in `tx`.
json issue(api_worker& w, pqxx::transaction_base& tx, const persistence::user_row& u, const std::string& family) {
  auto t = w.now_s();
  core::jwt_claims a;
  a.sub = u.id;
  a.clinic_id = u.clinic_id;
  a.role = u.role;
  a.jti = core::random_uuid();
  a.typ = "access";
  a.fam = family;
  a.ver = u.token_version;
  a.iat = t;
  a.exp = t + w.auth().access_ttl_s;
  auto rf = a;
  rf.jti = core::random_uuid();
  rf.typ = "refresh";
  rf.exp = t + w.auth().refresh_ttl_s;
  persistence::insert_refresh(tx, u.clinic_id, rf.jti, family, u.id, rf.exp);
  return {{"access_token", sign(w, a)},   {"refresh_token", sign(w, rf)},
          {"token_type", "Bearer"},    {"expires_in", w.auth().access_ttl_s},
          {"refresh_expires_in", w.auth().refresh_ttl_s}, {"user", persistence::to_json(u)}};
}

/// Makes the access tokens of a family unusable at once (Redis); throws on failure.
void revoke_family_access(api_worker& w, const std::string& family) {
  w.with_redis("revoke_family", [&](persistence::redis_client& rc) {
    rc.command({"SET", "atendeai:revoked:fam:" + family, "1", "EX", std::to_string(w.auth().access_ttl_s + 60)});
    return 0;
  });
}

// -- routes ----------------------------------------------------------------------------------

void login(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  auto body = parse_body(r.body, {{"email", ftype::string, true, 254}, {"password", ftype::string, true, 1024}});
  auto email = email_of(body);
  limit_account(w, email);
  auto password = str(body, "password");
  auto result = w.db->run([&](pqxx::connection& c) -> json {
    pqxx::work tx(c);
    auto found = persistence::user_for_login(tx, email);
    // Always one bcrypt verification, so an unknown e-mail takes as long as a wrong password.
    bool ok = core::verify_password(password, found ? found->password_hash : w.dummy_hash) && found
              && found->status == "active";
    auto clinic = found ? found->clinic_id : nil_clinic;
    persistence::set_clinic(tx, clinic);
    if (!ok) {
      w.audit(tx, r, nullptr, clinic, "auth.login_failed", "user", found ? found->id : "",
            nullptr, json{{"reason", !found ? "unknown_email" : found->status != "active" ? "inactive" : "wrong_password"}});
      tx.commit();
      return nullptr;
    }
    auto user = persistence::find_user(tx, clinic, found->id);
    persistence::touch_login(tx, *user);
    auto tokens = issue(w, tx, *user, core::random_uuid());
    principal self_login;
    self_login.user = *user;
    w.audit(tx, r, &self_login, clinic, "auth.login", "user", user->id, nullptr, json{{"role", user->role}});
    tx.commit();
    return tokens;
  });
  if (result.is_null())
    fail(core::error_code::unauthorized, "wrong e-mail or password");
  r.responder->respond(200, result.dump());
}

void refresh(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  auto body = parse_body(r.body, {{"refresh_token", ftype::string, true, 4096}});
  auto verified = core::verify_jwt(str(body, "refresh_token"), w.auth().jwt_secret, w.now_s());
  if (auto err = std::get_if<core::jwt_error>(&verified))
    fail(core::error_code::unauthorized, "invalid refresh token (" + std::string(core::to_string(*err)) + ")",
         "refresh_token");
  auto claims = std::get<core::jwt_claims>(verified);
  if (claims.typ != "refresh" || !valid_uuid(claims.jti) || !valid_uuid(claims.clinic_id)
      || !valid_uuid(claims.fam) || !valid_uuid(claims.sub))
    fail(core::error_code::unauthorized, "invalid refresh token", "refresh_token");
  limit_account(w, claims.sub);
  bool reused = false;
  auto result = w.db->run([&](pqxx::connection& c) -> json {
    pqxx::work tx(c);
    persistence::set_clinic(tx, claims.clinic_id);
    auto row = persistence::lock_refresh(tx, claims.clinic_id, claims.jti);
    if (!row || row->revoked || row->expired)
      return nullptr;
    if (row->used) {
      // Reuse: someone holds a copy. The whole family dies, the holder must log in again.
      int n = persistence::revoke_family(tx, claims.clinic_id, row->family_id);
      w.audit(tx, r, nullptr, claims.clinic_id, "auth.refresh_reuse", "user", row->user_id, nullptr,
            json{{"family_id", row->family_id}, {"revoked_tokens", n}});
      tx.commit();
      reused = true;
      return nullptr;
    }
    auto user = persistence::find_user(tx, claims.clinic_id, row->user_id);
    if (!user || user->status != "active" || user->token_version != claims.ver)
      return nullptr;
    persistence::mark_refresh_used(tx, claims.clinic_id, claims.jti);
    auto tokens = issue(w, tx, *user, row->family_id);
    tx.commit();
    return tokens;
  });
  if (reused) {
    try {
      revoke_family_access(w, claims.fam);
    } catch (const persistence::unavailable&) {
      // The family's refresh tokens are dead in PostgreSQL; its access tokens expire soon.
    }
    w.count("atendeai_refresh_reuse_total", "Refresh tokens presented twice (family revoked)", {});
    fail(core::error_code::unauthorized, "refresh token already used; its session is revoked", "refresh_token");
  }
  if (result.is_null())
    fail(core::error_code::unauthorized, "invalid refresh token", "refresh_token");
  r.responder->respond(200, result.dump());
}

void logout(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  const auto& p = call.p;
  parse_body(r.body.empty() ? std::string("{}") : r.body, {});
  // Redis first: if it is down the token stays usable, so say so instead of pretending.
  try {
    w.with_redis("revoke_token", [&](persistence::redis_client& rc) {
      auto ttl = std::max<int64_t>(1, p.claims.exp - w.now_s());
      rc.command({"SET", "atendeai:revoked:jti:" + p.claims.jti, "1", "EX", std::to_string(ttl)});
      return 0;
    });
    if (!p.claims.fam.empty())
      revoke_family_access(w, p.claims.fam);
  } catch (const persistence::unavailable&) {
    fail(core::error_code::service_unavailable, "logout cannot be recorded (Redis unavailable); retry");
  }
  w.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::set_clinic(tx, p.user.clinic_id);
    if (valid_uuid(p.claims.fam))
      persistence::revoke_family(tx, p.user.clinic_id, p.claims.fam);
    w.audit(tx, r, &p, p.user.clinic_id, "auth.logout", "user", p.user.id);
    tx.commit();
  });
  r.responder->respond(200, R"({"status":"logged_out"})");
}

void update_profile(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  const auto& p = call.p;
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
    change.password_hash = core::hash_password(str(body, "new_password"), w.auth().bcrypt_cost);
    change.bump_tokens = true;
  }
  auto after = w.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::set_clinic(tx, p.user.clinic_id);
    auto updated = persistence::update_user(tx, p.user, change);
    json before = {{"name", p.user.name}}, now = {{"name", updated.name}};
    if (change.password_hash) {
      before["password"] = "old";
      now["password"] = "changed";
      persistence::revoke_user_tokens(tx, p.user.clinic_id, p.user.id);
    }
    w.audit(tx, r, &p, p.user.clinic_id, "auth.profile_update", "user", p.user.id, before, now);
    tx.commit();
    return updated;
  });
  r.responder->respond(200, persistence::to_json(after).dump());
}

void forgot_password(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  auto body = parse_body(r.body, {{"email", ftype::string, true, 254}});
  auto email = email_of(body);
  limit_account(w, email);
  auto token = core::random_token(32);
  bool sent = w.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto found = persistence::user_for_login(tx, email);
    if (!found || found->status != "active")
      return false;
    persistence::set_clinic(tx, found->clinic_id);
    persistence::insert_reset(tx, found->clinic_id, found->id, core::sha256_hex(token),
                              w.now_s() + w.auth().reset_ttl_s);
    w.audit(tx, r, nullptr, found->clinic_id, "auth.reset_requested", "user", found->id);
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
    send_mail(w.node->cfg.mail, w.node->cfg.paths.var_dir, email, "AtendeAI: redefinir sua senha / reset your password",
              "Para criar uma nova senha, abra / To choose a new password, open:\r\n" + w.node->cfg.mail.reset_url
                + token + "\r\n\r\nToken: " + token + "\r\nVálido por / valid for "
                + std::to_string(w.auth().reset_ttl_s / 60) + " min. Se não foi você, ignore / If it was not you, ignore it.");
  } catch (const std::exception& e) {
    w.node->metrics->counter_with("atendeai_mail_failures_total", "Password-reset mails that could not be sent").inc();
    core::log_event(spdlog::level::warn, "reset_mail_failed", {{"request_id", r.request_id}, {"error", e.what()}});
  }
}

void reset_password(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  auto body = parse_body(r.body, {{"token", ftype::string, true, 200}, {"new_password", ftype::string, true, 1024}});
  auto token = str(body, "token");
  auto outcome = w.db->run([&](pqxx::connection& c) -> std::string {
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
    change.password_hash = core::hash_password(str(body, "new_password"), w.auth().bcrypt_cost);
    change.bump_tokens = true;
    persistence::update_user(tx, *user, change);
    int n = persistence::revoke_user_tokens(tx, user->clinic_id, user->id);
    w.audit(tx, r, nullptr, user->clinic_id, "auth.password_reset", "user", user->id, json{{"password", "old"}},
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

/// One's own profile.
void get_profile(api_call& call) {
  call.r.responder->respond(200, persistence::to_json(call.p.user).dump());
}

} // namespace

void add_auth_handlers(api_handlers& h) {
  h["auth.login"] = login;
  h["auth.refresh"] = refresh;
  h["auth.logout"] = logout;
  h["auth.profile.get"] = get_profile;
  h["auth.profile.update"] = update_profile;
  h["auth.forgot_password"] = forgot_password;
  h["auth.reset_password"] = reset_password;
}

} // namespace atendeai::api
