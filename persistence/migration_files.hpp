#pragma once
/// The migration files compiled into the binary.

#include <string>
#include <vector>

namespace atendeai::persistence {

/// One file of persistence/migrations: "0001_init.up.sql" and its SQL.
struct migration_file {
  std::string name;
  std::string sql;
};

/// Every migration file, sorted by name.
const std::vector<migration_file>& migration_files();

} // namespace atendeai::persistence
