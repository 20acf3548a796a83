#pragma once
/// The bench tools' command line: "--name value" pairs.

#include <functional>
#include <iostream>
#include <map>
#include <string>

namespace atendeai::bench {

/// Parses "--name value" pairs: each name must be in `setters`, whose function takes the
/// value (std::stoi and friends throw on a malformed number). False (with a message on
/// stderr naming `tool`) on an unknown option.
inline bool parse_options(int argc, char** argv, const char* tool,
                          const std::map<std::string, std::function<void(const std::string&)>>& setters) {
  for (int i = 1; i + 1 < argc; i += 2) {
    auto it = setters.find(argv[i]);
    if (it == setters.end()) {
      std::cerr << tool << ": unknown option " << argv[i] << "\n";
      return false;
    }
    it->second(argv[i + 1]);
  }
  return true;
}

} // namespace atendeai::bench
