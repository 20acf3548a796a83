#pragma once
/// HMAC signatures and constant-time comparison (OpenSSL).

#include <string>
#include <string_view>

namespace atendeai::core {

/// Lower-case hex HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

/// Raw (binary) HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view message);

/// Compares two strings in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

/// Checks Meta's X-Hub-Signature-256 header ("sha256=<hex>") over the raw body.
bool verify_whatsapp_signature(std::string_view app_secret, std::string_view raw_body,
                               std::string_view header);

/// The X-Hub-Signature-256 header value for a body (tests, load generator).
std::string whatsapp_signature(std::string_view app_secret, std::string_view raw_body);

} // namespace atendeai::core
