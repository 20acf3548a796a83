#pragma once
/// The secrets the database holds — today the channel accounts' access tokens
/// (atendeai.clinic_channels.access_token) — kept in agreement with the data key
/// (core/secret_box.hpp): sealed at a node's start, re-sealed under a new key by `atendeai
/// keys rotate`. Both run on the owner's connection through atendeai_system (every
/// clinic's rows), in one transaction that locks the rows it reads, so nodes starting
/// together seal each token once.

#include <stdexcept>
#include <string>

#include <pqxx/pqxx>

#include "core/secret_box.hpp"

namespace atendeai::persistence {

/// The stored secrets and the key given disagree: some are sealed and there is no key,
/// or the key cannot open them. what() says which and how many, never a secret.
class secrets_unreadable : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What seal_stored_secrets found.
struct sealing_report {
  int sealed_now = 0;    ///< plain tokens this call sealed
  int sealed_before = 0; ///< tokens that were sealed already
};

/// At a node's start. With `key`: checks that it opens a token sealed before (the first
/// one), then seals every plain token, one UPDATE per row (run again, it finds none).
/// Without a key: changes nothing. Throws secrets_unreadable, having changed nothing,
/// when tokens are sealed and `key` is null or cannot open them.
sealing_report seal_stored_secrets(pqxx::connection& owner, const core::data_key* key);

/// `atendeai keys rotate`: opens every token with `current` (a plain one is taken as it
/// is) and seals it under `next`, all in one transaction; returns how many. Throws
/// secrets_unreadable, having changed nothing, when a token is sealed and `current` is
/// null or cannot open it.
int reseal_stored_secrets(pqxx::connection& owner, const core::data_key* current, const core::data_key& next);

} // namespace atendeai::persistence
