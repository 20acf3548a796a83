#pragma once
/// Admin API helpers for integration tests: the demo administrators' generated
/// passwords, logging in, and bearer calls.

#include <map>
#include <string>
#include <vector>

#include "support/harness.hpp"

namespace atendeai::test {

/// The password the first start generated for a demo administrator (`var_dir`/demo-admins.txt),
/// or "" when the file does not name `email`.
std::string demo_admin_password(const std::string& var_dir, const std::string& email);

/// Logs in through the API; the access token, or "" when refused.
std::string api_login(const node_process& node, const std::string& email, const std::string& password);

/// The Authorization header of a bearer token.
std::map<std::string, std::string> bearer_header(const std::string& token);

/// Messages the fake Graph API received for one recipient (defined in support/chat.cpp).
std::vector<nlohmann::json> sent_to(const fake_graph_api& graph, const std::string& recipient);

/// One admin API call with a bearer token (`body` may be empty).
http_response api(const node_process& node, const std::string& token, const std::string& method,
                  const std::string& path, const std::string& body = {});

} // namespace atendeai::test
