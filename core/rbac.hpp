#pragma once
/// Roles and the admin API's route table: every route declares who may call it, in one
/// place. The HTTP layer registers exactly these routes; tests drive the role matrix
/// from the same table.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace atendeai::core {

/// What a user is.
enum class role : uint8_t { super_admin, clinic_admin, attendant, professional };

/// Every role, for tables and tests.
inline constexpr role all_roles[] = {role::super_admin, role::clinic_admin, role::attendant, role::professional};

/// The snake_case name of a role.
std::string_view to_string(role r);
/// The role of a name, or nullopt.
std::optional<role> parse_role(std::string_view name);

/// A set of roles as a bit mask.
using role_set = uint8_t;
constexpr role_set bit(role r) { return static_cast<role_set>(1u << static_cast<unsigned>(r)); }
inline constexpr role_set admins = bit(role::super_admin) | bit(role::clinic_admin);
inline constexpr role_set staff = admins | bit(role::attendant) | bit(role::professional);
/// The front desk: admins and attendants (conversations, bookings for patients).
inline constexpr role_set desk = admins | bit(role::attendant);
/// Super administrators only (other clinics, the whole node).
inline constexpr role_set super = bit(role::super_admin);

/// Who may call a route: anyone (credentials are in the body) or a bearer token.
enum class access : uint8_t { open, bearer };
/// Which rate limit applies: auth (per IP and per account) or API (per user; on an open
/// route, such as a secret feed URL, per IP).
enum class rate_class : uint8_t { auth, api };

/// Where a route runs in a cluster: on any node (database work only), or on the node
/// that owns its clinic (it talks to the clinic's live actors: agenda, conversations,
/// inspection), to which any other node forwards the whole request.
enum class placement : uint8_t { any, owner };

/// One admin API route.
struct api_route {
  const char* method; ///< GET, POST, PUT, PATCH, DELETE
  const char* path;   ///< express pattern, e.g. /api/v1/users/:id
  const char* op;     ///< operation name the handler dispatches on (unique)
  access who;
  rate_class limit;
  role_set roles;     ///< roles allowed (bearer routes); ignored for open routes
  placement runs_on = placement::any; ///< owner: served on the clinic's owner node
};

/// Largest admin API body: bigger ones are refused (413) before they reach an actor.
inline constexpr size_t max_api_body = 64 * 1024;

/// The route table.
const std::vector<api_route>& api_routes();
/// The route of an operation, or nullptr.
const api_route* find_api_route(std::string_view op);
/// True when `r` may call `route`.
inline bool allows(const api_route& route, role r) {
  return route.who == access::open || (route.roles & bit(r)) != 0;
}

} // namespace atendeai::core
