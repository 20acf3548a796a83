#pragma once
/// The checks every admin API request passes before its handler, in API.md's order:
/// authentication (401) → rate limit (429) → role (403) → tenant (404). Body validation
/// (400/422, api/validation.hpp) and conflicts (409) follow in the handler.
///
/// Failure modes: rate limits fail open when Redis is down (logged and counted in
/// atendeai_rate_limit_skipped_total) so administrators are not locked out; token
/// revocation checks fail closed (503 service_unavailable) since a logged-out token must
/// not come back to life.

#include <string>

#include "api/call.hpp"
#include "api/validation.hpp"

namespace atendeai::api {

/// A request that passed the checks: its handler, who calls, and the clinic its path names.
struct checked_request {
  api_handler handler = nullptr;
  principal caller;      ///< empty on open routes
  std::string clinic_id; ///< the clinic of `/clinics/:id`, checked against the caller; "" otherwise
};

/// Runs the checks of `r`'s route, or refuses (api_failure). Open routes (credentials
/// in the body) pass the per-IP rate limit only; their handlers add the per-account one.
/// A route of the table without a handler answers 404 (open) or 501 (bearer).
checked_request check_request(api_worker& w, const api_request& r);

// -- the single checks, for handlers that need one again ------------------------------------

/// Counts one request of `who` in `scope`; refuses with 429 past either window's limit
/// (`per_short` per auth.rate_window_s, `per_hour` per hour). Fails open.
void rate_limit(api_worker& w, const std::string& scope, const std::string& who, int per_short, int per_hour);
/// The per-account limit of the auth routes (the account is hashed: no e-mail in Redis).
void limit_account(api_worker& w, const std::string& account);
/// The caller behind the request's bearer token: valid, not revoked, its user active
/// and unchanged; 401 otherwise, 503 when revocation cannot be checked.
principal authenticate(api_worker& w, const api_request& r);
/// The clinic a `/clinics/:id` route names, checked against the caller: one's own
/// clinic, or any existing clinic for a super admin; 404 otherwise. "" on other routes.
std::string route_clinic(api_worker& w, const api_request& r, const principal& p);
/// The clinic whose rows a listing reads: a super admin's ?clinic_id=, else one's own
/// (another clinic's id answers 404).
std::string listing_clinic(const principal& p, const page_query& q);

} // namespace atendeai::api
