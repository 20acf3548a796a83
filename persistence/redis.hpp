#pragma once
/// A small synchronous Redis client over hiredis, with connect and command timeouts.
/// Blocking: only for detached actors and start-up.

#include <memory>
#include <optional>
#include <string>
#include <vector>

struct redisContext;

namespace atendeai::persistence {

/// One Redis connection.
class redis_client {
public:
  /// Connects to redis://[:password@]host:port[/db]; throws unavailable on failure.
  static std::unique_ptr<redis_client> connect(const std::string& url, int timeout_ms);
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  /// Runs a command; the reply as a string (integers in decimal), nullopt for nil.
  /// Throws unavailable when the connection is lost or the server answers an error.
  std::optional<std::string> command(const std::vector<std::string>& args);
  /// Runs a command whose reply is an array of strings.
  std::vector<std::string> command_list(const std::vector<std::string>& args);
  /// True when the server answers PING.
  bool ping();

private:
  explicit redis_client(redisContext* ctx) : ctx_(ctx) {}
  redisContext* ctx_;
};

} // namespace atendeai::persistence
