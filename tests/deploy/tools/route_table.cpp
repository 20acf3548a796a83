/// Prints every route the node serves, one "METHOD /path" a line with OpenAPI's
/// parameter syntax (/api/v1/users/{id}): the admin API's table (core::api_routes()) and
/// the HTTP layer's own routes (http::public_routes). tests/deploy/static_checks.sh
/// compares it with the paths and methods of api/openapi.yaml.

#include <iostream>
#include <string>

#include "core/rbac.hpp"
#include "http/public_routes.hpp"

namespace {

/// "/a/:id/b/:sid" → "/a/{id}/b/{sid}".
std::string openapi_path(const std::string& express) {
  std::string out;
  for (size_t i = 0; i < express.size(); ++i) {
    if (express[i] == ':' && i > 0 && express[i - 1] == '/') {
      auto end = express.find('/', i);
      auto name = express.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      out += "{" + name + "}";
      i = end == std::string::npos ? express.size() : end - 1;
    } else {
      out += express[i];
    }
  }
  return out;
}

} // namespace

int main() {
  for (const auto& r : atendeai::core::api_routes())
    std::cout << r.method << " " << openapi_path(r.path) << "\n";
  for (const auto& r : atendeai::http::public_routes)
    std::cout << r.method << " " << r.path << "\n";
}
