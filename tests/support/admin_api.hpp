#pragma once
/// The admin API as integration tests use it, in one place: the settings of a node the
/// tests log in to (a known JWT key, rate limits out of the way, its own var folder),
/// the demo administrators' generated passwords, logging in, and bearer calls. Every
/// test that logs in goes through these.

#include <map>
#include <string>

#include "support/harness.hpp"

namespace atendeai::test {

/// A fresh var folder (0700) for one test node: `<ATENDEAI_TEST_VAR_DIR>/<prefix>-<db name>`.
std::string test_var_dir(const std::string& prefix, const scratch_database& db);

/// ATENDEAI_* settings of a node whose admin API a test drives: `jwt_secret` signs its
/// tokens, rate limits are out of the way, and the demo administrators' passwords are
/// written under `var_dir`.
std::map<std::string, std::string> admin_settings(const std::string& jwt_secret, const std::string& var_dir);

/// The password the first start generated for a demo administrator (`var_dir`/demo-admins.txt),
/// or "" when the file does not name `email`.
std::string demo_admin_password(const std::string& var_dir, const std::string& email);

/// POST /api/v1/auth/login with an e-mail and a password, as sent.
http_response login(const node_process& node, const std::string& email, const std::string& password);

/// Logs in through the API; the access token, or "" when refused.
std::string api_login(const node_process& node, const std::string& email, const std::string& password);

/// Logs a demo administrator (demo::super_admin_email, demo::clinic_admin_email) in with the
/// password the node wrote under `var_dir`: the access token, or "" when refused. The way
/// tests log in a demo administrator.
std::string demo_admin_token(const node_process& node, const std::string& var_dir, const std::string& email);

/// The Authorization header of a bearer token.
std::map<std::string, std::string> bearer_header(const std::string& token);

/// One admin API call with a bearer token (`body` may be empty).
http_response api(const node_process& node, const std::string& token, const std::string& method,
                  const std::string& path, const std::string& body = {});

} // namespace atendeai::test
