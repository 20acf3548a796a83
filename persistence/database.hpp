#pragma once
/// PostgreSQL connections (libpqxx). Blocking: only for detached actors, start-up and
/// commands, never for CAF scheduler or HTTP threads.

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <pqxx/pqxx>

#include "core/clock.hpp"

namespace atendeai::persistence {

/// A service (PostgreSQL, Redis) could not be reached; what() names it.
class unavailable : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Where and how to connect.
struct db_target {
  std::string url;           ///< owner URL (postgresql://...)
  int connect_timeout_s = 3; ///< libpq connect_timeout
  std::string role;          ///< role to SET after connecting; empty keeps the owner
};

/// Opens a connection; throws unavailable ("PostgreSQL at host:port: ...") on failure.
std::unique_ptr<pqxx::connection> connect(const db_target& target);

/// The URL with its password hidden, for messages.
std::string redact_url(const std::string& url);

/// A lazily (re)opened connection: `get()` connects when needed; `run()` executes work
/// and, when the connection broke, reconnects and tries once more.
class db_session {
public:
  explicit db_session(db_target target) : target_(std::move(target)) {}
  /// The open connection; throws unavailable when PostgreSQL cannot be reached.
  pqxx::connection& get();
  /// Drops the connection (it will be reopened on next use).
  void reset() { conn_.reset(); }
  /// Runs f(connection); on a broken connection reconnects and retries once.
  template <class F>
  auto run(F&& f) -> decltype(f(std::declval<pqxx::connection&>())) {
    try {
      return f(get());
    } catch (const pqxx::broken_connection&) {
      reset();
      return f(get());
    }
  }

private:
  db_target target_;
  std::unique_ptr<pqxx::connection> conn_;
};

/// Scopes the current transaction to one clinic (row-level security).
void set_clinic(pqxx::transaction_base& tx, const std::string& clinic_id);

/// An instant as the milliseconds since the epoch that statements take
/// (to_timestamp($n::bigint / 1000.0)) ...
inline int64_t ms_of(core::instant t) { return t.time_since_epoch().count(); }
/// ... and a column of them ((extract(epoch FROM t) * 1000)::bigint) as an instant.
inline core::instant instant_of(const pqxx::field& f) {
  return core::instant{std::chrono::milliseconds{f.as<int64_t>()}};
}

/// A query parameter that is NULL when the string is empty (optional filters).
inline std::optional<std::string> null_if_empty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

} // namespace atendeai::persistence
