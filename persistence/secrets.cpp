#include "persistence/secrets.hpp"

#include <vector>

namespace atendeai::persistence {

namespace {

/// One stored channel token and the row it is in.
struct stored_token {
  std::string clinic_id;
  std::string id;
  std::string value;
};

/// Every channel account's non-empty token, its row locked until the transaction ends;
/// read as atendeai_system (every clinic).
std::vector<stored_token> lock_tokens(pqxx::transaction_base& tx) {
  tx.exec("SET LOCAL ROLE atendeai_system");
  auto rows = tx.exec("SELECT clinic_id::text, id::text, access_token FROM atendeai.clinic_channels "
                      "WHERE coalesce(access_token, '') <> '' ORDER BY clinic_id, id FOR UPDATE");
  std::vector<stored_token> out;
  out.reserve(rows.size());
  for (auto row : rows)
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
  return out;
}

void store(pqxx::transaction_base& tx, const stored_token& t, const std::string& value) {
  tx.exec_params("UPDATE atendeai.clinic_channels SET access_token = $3 WHERE clinic_id = $1 AND id = $2",
                 t.clinic_id, t.id, value);
}

int count_sealed(const std::vector<stored_token>& tokens) {
  int n = 0;
  for (auto& t : tokens)
    n += core::is_sealed(t.value) ? 1 : 0;
  return n;
}

[[noreturn]] void unreadable(const core::data_key* key, int sealed) {
  auto count = std::to_string(sealed) + " channel token" + (sealed == 1 ? "" : "s");
  if (!key)
    throw secrets_unreadable("the database holds " + count + " sealed under a data key, and no key is configured: "
                             "give the key they were sealed with");
  throw secrets_unreadable("the data key cannot open the " + count + " sealed in the database (sealed under "
                           "another key, or changed): give the key they were sealed with");
}

} // namespace

sealing_report seal_stored_secrets(pqxx::connection& owner, const core::data_key* key) {
  pqxx::work tx(owner);
  auto tokens = lock_tokens(tx);
  sealing_report report;
  report.sealed_before = count_sealed(tokens);
  if (report.sealed_before > 0) {
    // One sealed token is opened before anything is sealed: never seal under a key
    // that differs from the one the others are under.
    for (auto& t : tokens)
      if (core::is_sealed(t.value)) {
        if (!key || !core::open(*key, t.value))
          unreadable(key, report.sealed_before);
        break;
      }
  }
  if (!key)
    return report;
  for (auto& t : tokens)
    if (!core::is_sealed(t.value)) {
      store(tx, t, core::seal(*key, t.value));
      ++report.sealed_now;
    }
  tx.commit();
  return report;
}

int reseal_stored_secrets(pqxx::connection& owner, const core::data_key* current, const core::data_key& next) {
  pqxx::work tx(owner);
  auto tokens = lock_tokens(tx);
  auto sealed = count_sealed(tokens);
  for (auto& t : tokens) {
    auto plain = core::plain_secret(current, t.value);
    if (!plain)
      unreadable(current, sealed); // the transaction rolls back: nothing changed
    store(tx, t, core::seal(next, *plain));
  }
  tx.commit();
  return static_cast<int>(tokens.size());
}

} // namespace atendeai::persistence
