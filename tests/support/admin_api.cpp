#include "support/admin_api.hpp"

#include <fstream>
#include <sstream>

namespace atendeai::test {

std::string demo_admin_password(const std::string& var_dir, const std::string& email) {
  std::ifstream f(var_dir + "/demo-admins.txt");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string role, mail, password;
    if (in >> role >> mail >> password && mail == email)
      return password;
  }
  return "";
}

std::string api_login(const node_process& node, const std::string& email, const std::string& password) {
  auto r = http_post(node.url("/api/v1/auth/login"), nlohmann::json{{"email", email}, {"password", password}}.dump());
  if (r.status != 200)
    return "";
  return r.json().value("access_token", "");
}

std::map<std::string, std::string> bearer_header(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

http_response api(const node_process& node, const std::string& token, const std::string& method,
                  const std::string& path, const std::string& body) {
  return http_request(method, node.url(path), body, bearer_header(token));
}

} // namespace atendeai::test
