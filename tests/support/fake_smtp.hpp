#pragma once
/// A fake SMTP server for tests: accepts plain SMTP on 127.0.0.1 (no TLS, no auth),
/// records each message's envelope and DATA, and answers 250 to everything it knows.

#include <memory>
#include <string>
#include <vector>

namespace atendeai::test {

/// One message as the server received it.
struct smtp_message {
  std::string mail_from;           ///< MAIL FROM:<...> as sent
  std::vector<std::string> rcpt;   ///< RCPT TO:<...> as sent
  std::string data;                ///< headers and body, without the final "."
};

class fake_smtp {
public:
  fake_smtp();
  ~fake_smtp();
  /// smtp://127.0.0.1:<port>
  std::string url() const;
  std::vector<smtp_message> received() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace atendeai::test
