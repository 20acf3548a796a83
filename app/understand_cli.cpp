#include <iostream>

#include "app/commands.hpp"
#include "app/understand_command.hpp"

namespace atendeai::app {

int understand_cli(const std::vector<std::string>& operands) {
  understand_options opts;
  for (size_t i = 0; i < operands.size(); ++i) {
    const auto& o = operands[i];
    if (i + 1 >= operands.size() || o.rfind("--", 0) != 0) {
      std::cerr << "atendeai: understand: unexpected argument " << o << "\n";
      return 2;
    }
    const auto& v = operands[++i];
    if (o == "--lang")
      opts.lang = v;
    else if (o == "--now")
      opts.now = v;
    else if (o == "--tz")
      opts.tz = v;
    else if (o == "--clinic")
      opts.clinic = v;
  }
  return understand_command(opts, std::cin, std::cout, std::cerr);
}

} // namespace atendeai::app
