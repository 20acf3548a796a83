#pragma once
/// Crash injection for the supervision tests, compiled into test builds only
/// (ATENDEAI_TEST_HOOKS): an actor throws, once per process and call site, while it
/// handles something whose text contains the marker named by an environment variable.

#ifdef ATENDEAI_TEST_HOOKS
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace atendeai::actors::test_hooks {

/// Throws std::runtime_error when `text` contains the marker in `env` and `fired` was unset.
inline void crash_once(const char* env, const std::string& text, std::atomic<bool>& fired) {
  const char* marker = std::getenv(env);
  if (marker && *marker && text.find(marker) != std::string::npos && !fired.exchange(true))
    throw std::runtime_error(std::string("test hook: crash requested by ") + env);
}

} // namespace atendeai::actors::test_hooks

#define ATENDEAI_CRASH_ONCE_IF_MARKED(env, text)                                                                    \
  do {                                                                                                              \
    static std::atomic<bool> fired_{false};                                                                         \
    ::atendeai::actors::test_hooks::crash_once(env, text, fired_);                                                  \
  } while (0)
#else
#define ATENDEAI_CRASH_ONCE_IF_MARKED(env, text)                                                                    \
  do {                                                                                                              \
  } while (0)
#endif
