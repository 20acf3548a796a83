#pragma once
/// `atendeai users create` and the demo administrators of a first start.

#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "config/config.hpp"

namespace atendeai::app {

/// `atendeai users create --email E --role R [--clinic ID] [--name N]`: the password comes
/// from the first line of stdin (when stdin is not a terminal and the line is not
/// empty) or is generated and printed once. Exit 0 created, 1 e-mail taken or failure,
/// 2 usage, weak password or unreachable database.
int users_command(const config::config& cfg, const std::vector<std::string>& operands);

/// On first start of the demo: a super admin and an admin of the demo clinic with
/// generated passwords, written to <var_dir>/demo-admins.txt (0600) and printed once.
/// Does nothing when they exist.
void create_demo_admins(pqxx::connection& owner, const config::config& cfg);

} // namespace atendeai::app
