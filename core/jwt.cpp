#include "core/jwt.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "core/signature.hpp"

namespace atendeai::core {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

std::optional<nlohmann::json> json_object(std::string_view part) {
  auto text = base64url_decode(part);
  if (!text)
    return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  return j;
}

} // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = decode_char(c);
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
    return std::nullopt;
  return out;
}

std::string_view to_string(jwt_error e) {
  switch (e) {
    case jwt_error::malformed: return "malformed";
    case jwt_error::unsupported_alg: return "unsupported_alg";
    case jwt_error::bad_signature: return "bad_signature";
    case jwt_error::expired: return "expired";
    case jwt_error::issued_in_future: return "issued_in_future";
  }
  return "malformed";
}

std::string sign_jwt(const jwt_claims& c, std::string_view secret) {
  nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  nlohmann::json payload = {{"sub", c.sub}, {"clinic_id", c.clinic_id}, {"role", c.role}, {"jti", c.jti},
                            {"typ", c.typ}, {"ver", c.ver}, {"iat", c.iat}, {"exp", c.exp}};
  if (!c.fam.empty())
    payload["fam"] = c.fam;
  auto signing_input = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
  return signing_input + "." + base64url_encode(hmac_sha256(secret, signing_input));
}

std::variant<jwt_claims, jwt_error> verify_jwt(std::string_view token, std::string_view secret, int64_t now_s,
                                               int64_t skew_s) {
  if (token.size() > 8192)
    return jwt_error::malformed;
  auto first = token.find('.');
  if (first == std::string_view::npos)
    return jwt_error::malformed;
  auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return jwt_error::malformed;
  auto header = json_object(token.substr(0, first));
  if (!header)
    return jwt_error::malformed;
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string() || alg->get<std::string>() != "HS256")
    return jwt_error::unsupported_alg;
  auto signature = base64url_decode(token.substr(second + 1));
  if (!signature)
    return jwt_error::malformed;
  auto expected = hmac_sha256(secret, token.substr(0, second));
  if (!constant_time_equal(expected, *signature))
    return jwt_error::bad_signature;
  auto payload = json_object(token.substr(first + 1, second - first - 1));
  if (!payload)
    return jwt_error::malformed;
  jwt_claims c;
  auto& p = *payload;
  auto str = [&](const char* k, std::string& out, bool required) {
    auto it = p.find(k);
    if (it == p.end())
      return !required;
    if (!it->is_string())
      return false;
    out = it->get<std::string>();
    return true;
  };
  auto num = [&](const char* k, int64_t& out) {
    auto it = p.find(k);
    if (it == p.end() || !it->is_number_integer())
      return false;
    out = it->get<int64_t>();
    return true;
  };
  if (!str("sub", c.sub, true) || !str("clinic_id", c.clinic_id, true) || !str("role", c.role, true)
      || !str("jti", c.jti, true) || !str("typ", c.typ, true) || !str("fam", c.fam, false) || !num("iat", c.iat)
      || !num("exp", c.exp) || !num("ver", c.ver))
    return jwt_error::malformed;
  if (now_s >= c.exp)
    return jwt_error::expired;
  if (c.iat > now_s + skew_s)
    return jwt_error::issued_in_future;
  return c;
}

} // namespace atendeai::core
