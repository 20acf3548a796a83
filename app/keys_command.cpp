#include "app/keys_command.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/secret_box.hpp"
#include "persistence/database.hpp"
#include "persistence/secrets.hpp"

namespace atendeai::app {

namespace {

int usage() {
  std::cerr << "atendeai: usage: atendeai keys generate PATH | keys rotate --new-key-file PATH\n";
  return 2;
}

/// Writes a new key to `path` (0600), never over an existing file.
int generate(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    int err = errno;
    std::cerr << "atendeai: keys generate: " << path << ": "
              << (err == EEXIST ? "exists (a key file is never overwritten: the tokens sealed with it would be lost)"
                                : std::strerror(err))
              << "\n";
    return 1;
  }
  auto text = core::data_key::generate().hex() + "\n";
  bool written = ::fchmod(fd, 0600) == 0 &&
                 ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int err = errno;
  explicit_bzero(text.data(), text.size());
  written = ::close(fd) == 0 && written;
  if (!written) {
    ::unlink(path.c_str());
    std::cerr << "atendeai: keys generate: cannot write " << path << " (" << std::strerror(err) << ")\n";
    return 1;
  }
  std::cout << "wrote a new data key to " << path << " (mode 0600)\n"
            << "Set security.data_key_file to it (ATENDEAI_SECURITY_DATA_KEY_FILE) on every node, or re-seal the "
               "tokens under it with `atendeai keys rotate --new-key-file "
            << path
            << "`. Keep a copy apart from the database and its backups: without the key the channel tokens sealed "
               "with it are lost.\n";
  return 0;
}

/// Re-seals every stored token under the key in `next_path`.
int rotate(const config::config& cfg, const std::string& next_path) {
  std::optional<core::data_key> current, next;
  try {
    current = config::data_key(cfg);
    next = config::read_data_key(next_path, "--new-key-file");
  } catch (const config::config_error& e) {
    std::cerr << "atendeai: " << e.what() << "\n";
    return 2;
  }
  int count = 0;
  try {
    auto owner = persistence::connect({cfg.database.url, cfg.database.connect_timeout_s, ""});
    count = persistence::reseal_stored_secrets(*owner, current ? &*current : nullptr, *next);
  } catch (const persistence::unavailable& e) {
    std::cerr << "atendeai: " << e.what() << "\n";
    return 2;
  } catch (const persistence::secrets_unreadable& e) {
    return refuse_data_key(cfg, e.what(), " (nothing changed)");
  } catch (const std::exception& e) {
    std::cerr << "atendeai: keys rotate: " << e.what() << " (nothing changed)\n";
    return 1;
  }
  std::cout << "re-sealed " << count << " channel token" << (count == 1 ? "" : "s") << " under the key in "
            << next_path << "\n"
            << "Next: point security.data_key_file at " << next_path
            << " (ATENDEAI_SECURITY_DATA_KEY_FILE) on every node and restart them (until then a running node "
               "keeps the tokens it holds but cannot read a new or changed one). Keep the old key while a backup "
               "taken before now may be restored: its tokens are sealed with the old key.\n";
  return 0;
}

} // namespace

int refuse_data_key(const config::config& cfg, const std::string& why, const char* tail) {
  std::cerr << "atendeai: configuration: security.data_key_file"
            << (cfg.security.data_key_file.empty() ? "" : " (" + cfg.security.data_key_file + ")") << ": " << why
            << tail << "\n";
  return 2;
}

int keys_command(const config::config& cfg, const std::vector<std::string>& operands) {
  try {
    if (operands.size() == 2 && operands[0] == "generate" && operands[1].rfind("--", 0) != 0)
      return generate(operands[1]);
    if (operands.size() == 3 && operands[0] == "rotate" && operands[1] == "--new-key-file")
      return rotate(cfg, operands[2]);
  } catch (const std::exception& e) { // no randomness, no memory
    std::cerr << "atendeai: keys: " << e.what() << "\n";
    return 1;
  }
  return usage();
}

} // namespace atendeai::app
