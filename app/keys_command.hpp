#pragma once
/// `atendeai keys generate | rotate`: the data key that seals channel tokens in the
/// database (security.data_key_file, core/secret_box.hpp).

#include <string>
#include <vector>

#include "config/config.hpp"

namespace atendeai::app {

/// `atendeai keys generate PATH`: writes a new random key (64 hex digits) to PATH with
/// mode 0600, never over an existing file. `atendeai keys rotate --new-key-file PATH`:
/// re-seals every stored channel token under the key in PATH (opened with the one of
/// security.data_key_file), in one transaction, and tells the operator to point
/// security.data_key_file at PATH. Exit 0 done; 1 PATH exists (generate) or a failure;
/// 2 usage, a key file refused, tokens the current key cannot open, or an unreachable
/// database (nothing changed).
int keys_command(const config::config& cfg, const std::vector<std::string>& operands);

/// Says that the stored secrets and the data key do not go together — "atendeai:
/// configuration: security.data_key_file (<path>): <why><tail>" on stderr — and returns
/// the exit code for it, 2 (serve and keys rotate).
int refuse_data_key(const config::config& cfg, const std::string& why, const char* tail = "");

} // namespace atendeai::app
