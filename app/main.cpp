/// atendeai: the node binary. Subcommands: serve, migrate, understand, users, keys,
/// version, config-example (see --help).

#include <csignal>
#include <iostream>

#include "app/commands.hpp"
#include "app/keys_command.hpp"
#include "app/users_command.hpp"
#include "config/config.hpp"

namespace {

const char* usage = R"(atendeai — conversational front desk for health clinics

Usage:
  atendeai serve [--<section>-<key> VALUE ...]   run a node (migrations, demo clinic, HTTP)
  atendeai migrate up | down [N] | status         manage the database schema (down: N=1)
  atendeai understand [--lang pt-BR|en] [--now ISO-8601] [--tz ZONE] [--clinic demo]
                                                  one message per stdin line → JSON per line
  atendeai users create --email E --role ROLE [--clinic ID] [--name N]
                                                  create a user (roles: super_admin, clinic_admin,
                                                  attendant, professional); the password is read
                                                  from stdin, or generated and printed once
  atendeai keys generate PATH                     write a new data key file (mode 0600; never over a file)
  atendeai keys rotate --new-key-file PATH        re-seal the channel tokens under the key in PATH (the
                                                  current one from security.data_key_file); then point
                                                  security.data_key_file at PATH and restart the nodes
  atendeai version                                print the version
  atendeai config-example                         print every configuration key with its default

Options:
  --config FILE          TOML configuration file (also ATENDEAI_CONFIG)
  --<section>-<key> V    any configuration key, e.g. --http-port 8081, --node-id n2
  --help                 this text

Precedence: defaults < config file < ATENDEAI_<SECTION>_<KEY> environment < flags.
Exit codes: 0 ok, 1 runtime failure, 2 configuration or unreachable service.
)";

} // namespace

int main(int argc, char** argv) {
  using namespace atendeai;
  std::vector<std::string> args(argv + 1, argv + argc);
  config::command_line cmd;
  config::config cfg;
  try {
    cfg = config::load(args, config::environment(), cmd, {"lang", "now", "tz", "clinic", "email", "role", "name", "new-key-file"});
  } catch (const config::config_error& e) {
    std::cerr << "atendeai: " << e.what() << "\n";
    return 2;
  }
  if (cmd.help || cmd.args.empty()) {
    std::cout << usage;
    return cmd.help ? 0 : 2;
  }
  const auto& sub = cmd.args.front();
  std::vector<std::string> operands(cmd.args.begin() + 1, cmd.args.end());
  if (sub == "version") {
    std::cout << "atendeai " << ATENDEAI_VERSION << "\n";
    return 0;
  }
  if (sub == "config-example") {
    std::cout << config::example_toml();
    return 0;
  }
  if (sub == "migrate")
    return app::migrate_command(cfg, operands);
  if (sub == "users")
    return app::users_command(cfg, operands);
  if (sub == "keys")
    return app::keys_command(cfg, operands);
  if (sub == "understand")
    return app::understand_cli(operands);
  if (sub == "serve") {
    if (!operands.empty()) {
      std::cerr << "atendeai: serve: unexpected argument " << operands.front() << "\n";
      return 2;
    }
    return app::serve_command(cfg);
  }
  std::cerr << "atendeai: unknown command \"" << sub << "\" (see --help)\n";
  return 2;
}
