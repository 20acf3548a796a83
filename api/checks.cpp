#include "api/checks.hpp"

#include "core/log.hpp"
#include "core/password.hpp"

namespace atendeai::api {

checked_request check_request(api_worker& w, const api_request& r) {
  const auto& route = *r.route;
  checked_request out;
  auto found = handlers().find(route.op);
  if (route.who == core::access::open) {
    // Credentials in the body (logins): the strict auth limits per IP; a secret URL (an
    // ICS feed polled by calendar applications): the API's limits per IP.
    if (route.limit == core::rate_class::api)
      rate_limit(w, "open_ip", r.ip, w.auth().rate_api_per_minute, w.auth().rate_api_per_hour); // 429
    else
      rate_limit(w, "auth_ip", r.ip, w.auth().rate_auth_per_minute, w.auth().rate_auth_per_hour); // 429
    if (found == handlers().end())
      fail(core::error_code::not_found, "no such route");
    out.handler = found->second;
    return out;
  }
  out.caller = authenticate(w, r); // 401
  if (r.forwarded_from.empty())    // a forwarded request was counted on the node that took it
    rate_limit(w, "api", out.caller.user.id, w.auth().rate_api_per_minute, w.auth().rate_api_per_hour); // 429
  if (!core::allows(route, out.caller.role))
    fail(core::error_code::forbidden, "your role may not use this route"); // 403
  if (found == handlers().end())
    fail(core::error_code::not_implemented, "this route is declared but not served yet");
  out.handler = found->second;
  out.clinic_id = route_clinic(w, r, out.caller); // 404
  return out;
}

void rate_limit(api_worker& w, const std::string& scope, const std::string& who, int per_short, int per_hour) {
  const int64_t t = w.now_s();
  struct window {
    const char* tag;
    int64_t len;
    int max;
  };
  const window windows[] = {{"m", w.auth().rate_window_s, per_short}, {"h", 3600, per_hour}};
  for (auto& win : windows) {
    int64_t n = 0;
    auto key = "atendeai:rl:" + scope + ":" + win.tag + ":" + who + ":" + std::to_string(t / win.len);
    try {
      n = w.with_redis("rate_limit", [&](persistence::redis_client& rc) {
        auto v = std::stoll(rc.command({"INCR", key}).value_or("0"));
        if (v == 1)
          rc.command({"EXPIRE", key, std::to_string(win.len + 1)});
        return v;
      });
    } catch (const persistence::unavailable& e) {
      // Fail open: a Redis outage must not lock every administrator out.
      w.count("atendeai_rate_limit_skipped_total", "Rate limit checks skipped (Redis unavailable)", {});
      core::log_event(spdlog::level::warn, "rate_limit_skipped", {{"scope", scope}, {"error", e.what()}});
      return;
    }
    if (n > win.max) {
      w.count("atendeai_rate_limited_total", "Requests refused by a rate limit", {{"scope", scope}});
      throw api_failure{core::error_code::rate_limited, "too many requests; retry later", "",
                        win.len - t % win.len};
    }
  }
}

void limit_account(api_worker& w, const std::string& account) {
  rate_limit(w, "auth_account", core::sha256_hex(account).substr(0, 32), w.auth().rate_auth_per_minute,
             w.auth().rate_auth_per_hour);
}

principal authenticate(api_worker& w, const api_request& r) {
  const auto& h = r.authorization;
  if (h.size() < 8 || lower(h.substr(0, 7)) != "bearer ")
    fail(core::error_code::unauthorized, "a bearer token is required", "Authorization");
  auto verified = core::verify_jwt(std::string_view(h).substr(7), w.auth().jwt_secret, w.now_s());
  if (auto err = std::get_if<core::jwt_error>(&verified)) {
    w.count("atendeai_auth_refused_total", "Tokens refused", {{"reason", std::string(core::to_string(*err))}});
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
    revoked = w.with_redis("revocation_check", [&](persistence::redis_client& rc) {
      return rc.command_list({"MGET", "atendeai:revoked:jti:" + p.claims.jti, "atendeai:revoked:fam:" + p.claims.fam});
    });
  } catch (const persistence::unavailable& e) {
    core::log_event(spdlog::level::warn, "revocation_check_failed", {{"error", e.what()}});
    fail(core::error_code::service_unavailable, "token revocation cannot be checked (Redis unavailable); retry");
  }
  if (!revoked.empty())
    fail(core::error_code::unauthorized, "invalid token (revoked)", "Authorization");
  auto user = w.db->run([&](pqxx::connection& c) {
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

std::string route_clinic(api_worker& w, const api_request& r, const principal& p) {
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
  bool exists = w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::set_clinic(tx, id);
    return persistence::clinic_exists(tx, id);
  });
  if (!exists)
    fail(core::error_code::not_found, "no such clinic");
  return id;
}

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

} // namespace atendeai::api
