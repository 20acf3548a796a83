#pragma once
/// Versioned schema migrations (persistence/migrations/NNNN_name.{up,down}.sql), each
/// applied in one transaction, recorded in public.schema_migrations, under an advisory
/// lock so that nodes starting together do not race.

#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace atendeai::persistence {

/// One migration and whether it is applied.
struct migration_state {
  int version = 0;
  std::string name;
  bool applied = false;
  std::string applied_at; ///< empty when not applied
};

/// Applies every pending migration; returns how many were applied.
int migrate_up(pqxx::connection& conn);
/// Reverts the last `steps` applied migrations; returns how many were reverted.
int migrate_down(pqxx::connection& conn, int steps);
/// Every known migration with its state, by version.
std::vector<migration_state> migration_status(pqxx::connection& conn);

} // namespace atendeai::persistence
