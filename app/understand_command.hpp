#pragma once
/// `atendeai understand`: understands messages from stdin, one JSON object per line out.

#include <iosfwd>
#include <string>

namespace atendeai::app {

/// Options of `atendeai understand`.
struct understand_options {
  std::string lang;                     ///< language hint: "pt-BR", "en" or empty
  std::string now;                      ///< ISO-8601 instant; empty = the system clock
  std::string tz = "America/Sao_Paulo"; ///< IANA zone in which "today" is computed
  std::string clinic;                   ///< "demo" = the demo clinic's catalogue, "" = none
};

/// Reads one message per line from `in` and writes its understanding as one JSON line to
/// `out`. Returns 0, or 2 after one line on `err` naming the bad option (--now, --tz,
/// --clinic, --lang).
int understand_command(const understand_options& opts, std::istream& in, std::ostream& out,
                       std::ostream& err);

} // namespace atendeai::app
