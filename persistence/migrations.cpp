#include "persistence/migrations.hpp"

#include <map>
#include <stdexcept>

#include "persistence/migration_files.hpp"

namespace atendeai::persistence {

namespace {

constexpr long long migration_lock_key = 7312046011; // arbitrary, fixed

struct migration {
  int version = 0;
  std::string name;
  std::string up;
  std::string down;
};

std::map<int, migration> known_migrations() {
  std::map<int, migration> out;
  for (auto& f : migration_files()) {
    // NNNN_name.up.sql / NNNN_name.down.sql
    auto us = f.name.find('_');
    auto version = std::stoi(f.name.substr(0, us));
    auto& m = out[version];
    m.version = version;
    auto suffix_up = std::string(".up.sql");
    auto suffix_down = std::string(".down.sql");
    if (f.name.size() > suffix_up.size()
        && f.name.compare(f.name.size() - suffix_up.size(), suffix_up.size(), suffix_up) == 0) {
      m.up = f.sql;
      m.name = f.name.substr(us + 1, f.name.size() - suffix_up.size() - us - 1);
    } else if (f.name.size() > suffix_down.size()
               && f.name.compare(f.name.size() - suffix_down.size(), suffix_down.size(), suffix_down) == 0) {
      m.down = f.sql;
    }
  }
  return out;
}

void ensure_table(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE TABLE IF NOT EXISTS public.schema_migrations ("
          " version int PRIMARY KEY, name text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now())");
}

std::map<int, std::string> applied(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  std::map<int, std::string> out;
  for (auto row : tx.exec("SELECT version, applied_at::text FROM public.schema_migrations"))
    out[row[0].as<int>()] = row[1].as<std::string>();
  return out;
}

/// Holds the session-level advisory lock for its lifetime.
class migration_lock {
public:
  explicit migration_lock(pqxx::connection& conn) : conn_(conn) {
    pqxx::nontransaction tx(conn_);
    tx.exec("SELECT pg_advisory_lock(" + std::to_string(migration_lock_key) + ")");
  }
  ~migration_lock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec("SELECT pg_advisory_unlock(" + std::to_string(migration_lock_key) + ")");
    } catch (...) {
      // The connection is gone; the lock went with it.
    }
  }

private:
  pqxx::connection& conn_;
};

} // namespace

int migrate_up(pqxx::connection& conn) {
  ensure_table(conn);
  migration_lock lock(conn);
  auto done = applied(conn);
  int count = 0;
  for (auto& [version, m] : known_migrations()) {
    if (done.count(version))
      continue;
    if (m.up.empty())
      throw std::runtime_error("migration " + std::to_string(version) + " has no .up.sql");
    pqxx::work tx(conn);
    tx.exec(m.up);
    tx.exec_params("INSERT INTO public.schema_migrations (version, name) VALUES ($1, $2)", version, m.name);
    tx.commit();
    ++count;
  }
  return count;
}

int migrate_down(pqxx::connection& conn, int steps) {
  ensure_table(conn);
  migration_lock lock(conn);
  auto done = applied(conn);
  auto known = known_migrations();
  int count = 0;
  for (auto it = done.rbegin(); it != done.rend() && count < steps; ++it) {
    auto k = known.find(it->first);
    if (k == known.end() || k->second.down.empty())
      throw std::runtime_error("migration " + std::to_string(it->first) + " has no .down.sql");
    pqxx::work tx(conn);
    tx.exec(k->second.down);
    tx.exec_params("DELETE FROM public.schema_migrations WHERE version = $1", it->first);
    tx.commit();
    ++count;
  }
  return count;
}

std::vector<migration_state> migration_status(pqxx::connection& conn) {
  ensure_table(conn);
  auto done = applied(conn);
  std::vector<migration_state> out;
  for (auto& [version, m] : known_migrations()) {
    migration_state s;
    s.version = version;
    s.name = m.name;
    if (auto it = done.find(version); it != done.end()) {
      s.applied = true;
      s.applied_at = it->second;
    }
    out.push_back(s);
  }
  return out;
}

} // namespace atendeai::persistence
