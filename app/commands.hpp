#pragma once
/// The subcommands of the atendeai binary.

#include <string>
#include <vector>

#include "config/config.hpp"

namespace atendeai::app {

/// `atendeai serve`: runs a node until SIGINT/SIGTERM; 0 on a clean stop, 2 when
/// configuration or a required service is wrong at start.
int serve_command(const config::config& cfg);

/// `atendeai migrate up | down [N] | status`.
int migrate_command(const config::config& cfg, const std::vector<std::string>& operands);

/// `atendeai understand` with its options as operands ("--lang", "en", ...).
int understand_cli(const std::vector<std::string>& operands);

/// Sets up the JSON (or text) logger on stderr.
void setup_logging(const config::config& cfg);

} // namespace atendeai::app
