#include "support/admin_api.hpp"

#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace atendeai::test {

std::string test_var_dir(const std::string& prefix, const scratch_database& db) {
  auto dir = env_or("ATENDEAI_TEST_VAR_DIR", "/tmp") + "/" + prefix + "-" + db.name();
  ::mkdir(dir.c_str(), 0700);
  return dir;
}

std::map<std::string, std::string> admin_settings(const std::string& jwt_secret, const std::string& var_dir) {
  return {{"ATENDEAI_AUTH_JWT_SECRET", jwt_secret},
          {"ATENDEAI_AUTH_RATE_AUTH_PER_MINUTE", "100000"},
          {"ATENDEAI_AUTH_RATE_AUTH_PER_HOUR", "100000"},
          {"ATENDEAI_AUTH_RATE_API_PER_MINUTE", "100000"},
          {"ATENDEAI_AUTH_RATE_API_PER_HOUR", "100000"},
          {"ATENDEAI_PATHS_VAR_DIR", var_dir}};
}

std::string demo_admin_password(const std::string& var_dir, const std::string& email) {
  // The demo run writes "<role> <email> <password>" lines into a 0600 file.
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

http_response login(const node_process& node, const std::string& email, const std::string& password) {
  return http_post(node.url("/api/v1/auth/login"), nlohmann::json{{"email", email}, {"password", password}}.dump());
}

std::string api_login(const node_process& node, const std::string& email, const std::string& password) {
  auto r = login(node, email, password);
  if (r.status != 200)
    return "";
  return r.json().value("access_token", "");
}

std::string demo_admin_token(const node_process& node, const std::string& var_dir, const std::string& email) {
  auto password = demo_admin_password(var_dir, email);
  return password.empty() ? "" : api_login(node, email, password);
}

std::map<std::string, std::string> bearer_header(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

http_response api(const node_process& node, const std::string& token, const std::string& method,
                  const std::string& path, const std::string& body) {
  return http_request(method, node.url(path), body, bearer_header(token));
}

} // namespace atendeai::test
