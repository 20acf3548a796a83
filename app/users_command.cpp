#include "app/users_command.hpp"

#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

#include "core/demo_clinic.hpp"
#include "core/password.hpp"
#include "core/rbac.hpp"
#include "persistence/audit.hpp"
#include "persistence/database.hpp"
#include "persistence/migrations.hpp"
#include "persistence/users.hpp"

namespace atendeai::app {

namespace {

/// Creates a user as the owner (under the clinic's RLS scope) with its audit row;
/// false when the e-mail is taken.
bool insert_user(pqxx::connection& conn, const std::string& clinic, const std::string& email,
                 const std::string& name, const std::string& role, const std::string& hash, const char* action) {
  pqxx::work tx(conn);
  if (persistence::email_taken(tx, email))
    return false;
  persistence::set_clinic(tx, clinic);
  auto u = persistence::insert_user(tx, clinic, email, name, role, hash);
  persistence::audit_entry e;
  e.clinic_id = clinic;
  e.action = action;
  e.target_type = "user";
  e.target_id = u.id;
  e.after = persistence::to_json(u);
  persistence::append_audit(tx, e);
  tx.commit();
  return true;
}

} // namespace

int users_command(const config::config& cfg, const std::vector<std::string>& operands) {
  auto usage = [] {
    std::cerr << "atendeai: usage: atendeai users create --email E --role "
                 "super_admin|clinic_admin|attendant|professional [--clinic ID] [--name N]\n";
    return 2;
  };
  if (operands.empty() || operands[0] != "create" || operands.size() % 2 != 1)
    return usage();
  std::string email, role, clinic, name;
  for (size_t i = 1; i + 1 < operands.size(); i += 2) {
    const auto& k = operands[i];
    const auto& v = operands[i + 1];
    if (k == "--email")
      email = v;
    else if (k == "--role")
      role = v;
    else if (k == "--clinic")
      clinic = v;
    else if (k == "--name")
      name = v;
    else
      return usage();
  }
  for (auto& c : email)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (email.find('@') == std::string::npos || email.size() > 254 || email.find(' ') != std::string::npos) {
    std::cerr << "atendeai: users create: --email must be an e-mail address\n";
    return 2;
  }
  if (!core::parse_role(role))
    return usage();
  if (role == "super_admin") {
    if (!clinic.empty()) {
      std::cerr << "atendeai: users create: a super admin belongs to no clinic (drop --clinic)\n";
      return 2;
    }
    clinic = persistence::nil_clinic;
  } else if (clinic.empty()) {
    std::cerr << "atendeai: users create: --clinic ID is required for role " << role << "\n";
    return 2;
  }
  std::string password;
  bool generated = false;
  if (!isatty(STDIN_FILENO))
    std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r')
    password.pop_back();
  if (password.empty()) {
    password = core::generate_password();
    generated = true;
  } else if (auto weak = core::password_weakness(password, email)) {
    std::cerr << "atendeai: users create: password " << *weak << "\n";
    return 2;
  }
  try {
    auto conn = persistence::connect({cfg.database.url, cfg.database.connect_timeout_s, ""});
    persistence::migrate_up(*conn);
    if (!insert_user(*conn, clinic, email, name, role, core::hash_password(password, cfg.auth.bcrypt_cost),
                     "user.create_cli")) {
      std::cerr << "atendeai: users create: a user with this e-mail exists\n";
      return 1;
    }
  } catch (const persistence::unavailable& e) {
    std::cerr << "atendeai: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "atendeai: users create: " << e.what() << "\n";
    return 1;
  }
  std::cout << "created " << role << " " << email << "\n";
  if (generated)
    std::cout << "password: " << password << "\n(shown once; it is stored only as a bcrypt hash)\n";
  return 0;
}

void create_demo_admins(pqxx::connection& owner, const config::config& cfg) {
  struct demo_admin {
    const char* email;
    const char* role;
    std::string clinic;
    const char* name;
  };
  const demo_admin admins[] = {
    {core::demo_super_admin_email, "super_admin", persistence::nil_clinic, "Demo super admin"},
    {core::demo_clinic_admin_email, "clinic_admin", core::demo_clinic_id, "Demo clinic admin"},
  };
  std::string created;
  for (auto& a : admins) {
    auto password = core::generate_password();
    if (insert_user(owner, a.clinic, a.email, a.name, a.role, core::hash_password(password, cfg.auth.bcrypt_cost),
                    "user.create_demo"))
      created += std::string(a.role) + "  " + a.email + "  " + password + "\n";
  }
  if (created.empty())
    return;
  auto path = cfg.paths.var_dir + "/demo-admins.txt";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::fchmod(fd, 0600);
    auto text = "# Demo administrators (generated once; change the passwords)\n" + created;
    if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      std::cerr << "atendeai: could not write " << path << "\n";
    ::close(fd);
  }
  std::cout << "\n  Demo administrators (shown once, also in " << path << ", mode 0600):\n";
  std::string line;
  for (size_t pos = 0, next; pos < created.size(); pos = next + 1) {
    next = created.find('\n', pos);
    std::cout << "    " << created.substr(pos, next - pos) << "\n";
  }
  std::cout << std::endl;
}

} // namespace atendeai::app
