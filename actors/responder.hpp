#pragma once
/// The seam between the actors and the HTTP layer: a pending HTTP request that some
/// actor answers later, from any thread. Implemented in http/ over RESTinio.

#include <string>
#include <utility>
#include <vector>

namespace atendeai::actors {

/// Answers one pending request exactly once; later calls are ignored.
class http_responder {
public:
  virtual ~http_responder() = default;
  /// Writes the response: status, JSON (or text) body.
  virtual void respond(int status, std::string body, const char* content_type = "application/json") = 0;
  /// Writes the response with extra headers (e.g. Retry-After); by default drops them.
  virtual void respond_with(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers) {
    (void)headers;
    respond(status, std::move(body));
  }
};

} // namespace atendeai::actors
