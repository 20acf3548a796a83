/// Admin API: users. Creating (also auth.register), listing, reading, changing,
/// disabling and deleting the users of a clinic, and a user's activity in the audit log.
/// A clinic admin reaches only its own clinic's users and never a super admin (404, as
/// for another clinic's); every change is audited with before/after in its transaction,
/// and a change of role, status or password refuses the user's existing tokens.
#include "api/call.hpp"
#include "api/checks.hpp"
#include "api/validation.hpp"
#include "core/password.hpp"

namespace atendeai::api {

namespace {

using nlohmann::json;
using persistence::nil_clinic;

/// The user named by the path, in the caller's reach; 404 otherwise (also for other clinics).
persistence::user_row find_target(api_call& call) {
  const auto& r = call.r;
  const auto& p = call.p;
  auto it = r.params.find("id");
  std::string id = it == r.params.end() ? "" : lower(it->second);
  if (!valid_uuid(id))
    fail(core::error_code::not_found, "no such user");
  auto user = call.w.db->run([&](pqxx::connection& c) -> std::optional<persistence::user_row> {
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

/// Admins act on users of lower or equal standing; a clinic admin never on a super admin.
void check_may_manage(const principal& p, const persistence::user_row& target) {
  if (p.role != core::role::super_admin && target.role == "super_admin")
    fail(core::error_code::not_found, "no such user");
}

/// The user named by the path, whom the caller may act on (404 otherwise).
persistence::user_row managed_target(api_call& call) {
  auto target = find_target(call);
  check_may_manage(call.p, target);
  return target;
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
void check_professional(pqxx::transaction_base& tx, const std::string& clinic, const std::string& id) {
  if (!persistence::professional_exists(tx, clinic, id))
    fail(core::error_code::validation_failed, "no such professional in this clinic", "professional_id");
}

/// Applies a change with its audit row (before/after) in one transaction.
void mutate(api_call& call, const persistence::user_row& target,
            const persistence::user_change& change, const char* action) {
  auto after = call.w.db->run([&](pqxx::connection& c) {
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
    call.w.audit(tx, call.r, &call.p, target.clinic_id, action, "user", target.id, persistence::to_json(*current),
          persistence::to_json(updated));
    tx.commit();
    return updated;
  });
  call.r.responder->respond(200, persistence::to_json(after).dump());
}

void create_user(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  const auto& p = call.p;
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
  auto hash = core::hash_password(password, w.auth().bcrypt_cost);
  auto created = w.db->run([&](pqxx::connection& c) -> std::optional<persistence::user_row> {
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
    w.audit(tx, r, &p, clinic, "user.create", "user", u.id, nullptr, persistence::to_json(u));
    tx.commit();
    return u;
  });
  if (!created)
    fail(core::error_code::conflict, "a user with this e-mail exists", "email");
  r.responder->respond(201, persistence::to_json(*created).dump());
}

void list_users(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  const auto& p = call.p;
  auto q = parse_query(r.query, {"clinic_id", "role", "status"});
  auto clinic = listing_clinic(p, q);
  auto role = q.rest.count("role") ? q.rest["role"] : "";
  if (!role.empty() && !core::parse_role(role))
    fail(core::error_code::validation_failed, "unknown role", "role");
  auto status = q.rest.count("status") ? q.rest["status"] : "";
  if (!status.empty() && status != "active" && status != "disabled")
    fail(core::error_code::validation_failed, "must be active or disabled", "status");
  auto page = w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::set_clinic(tx, clinic);
    return persistence::list_users(tx, clinic, role, status, q.page, q.per_page);
  });
  r.responder->respond(200, page.dump());
}

void update_user(api_call& call) {
  auto& r = call.r;
  const auto& p = call.p;
  auto target = managed_target(call);
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
  mutate(call, target, change, "user.update");
}

void set_status(api_call& call) {
  auto& r = call.r;
  const auto& p = call.p;
  auto target = managed_target(call);
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
  mutate(call, target, change, "user.status");
}

void delete_user(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  const auto& p = call.p;
  auto target = managed_target(call);
  if (!r.body.empty())
    parse_body(r.body, {});
  if (target.id == p.user.id)
    fail(core::error_code::conflict, "you cannot delete yourself");
  w.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::set_clinic(tx, target.clinic_id);
    persistence::delete_user(tx, target);
    w.audit(tx, r, &p, target.clinic_id, "user.delete", "user", target.id, persistence::to_json(target), nullptr);
    tx.commit();
  });
  r.responder->respond(200, R"({"status":"deleted"})");
}

void activity(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  auto target = managed_target(call);
  auto q = parse_query(r.query, {});
  persistence::audit_filter f;
  f.actor_or_target = target.id;
  auto page = w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::set_clinic(tx, target.clinic_id);
    return persistence::list_audit(tx, target.clinic_id, f, q.page, q.per_page);
  });
  r.responder->respond(200, page.dump());
}

void get_user(api_call& call) {
  call.r.responder->respond(200, persistence::to_json(find_target(call)).dump());
}

} // namespace

void add_user_handlers(api_handlers& h) {
  h["auth.register"] = create_user;
  h["users.create"] = create_user;
  h["users.list"] = list_users;
  h["users.get"] = get_user;
  h["users.update"] = update_user;
  h["users.delete"] = delete_user;
  h["users.status"] = set_status;
  h["users.activity"] = activity;
}

} // namespace atendeai::api
