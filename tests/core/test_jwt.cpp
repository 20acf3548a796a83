#include <catch2/catch.hpp>

#include "core/jwt.hpp"
#include "core/signature.hpp"

using namespace atendeai::core;

namespace {

const std::string secret = "0123456789abcdef0123456789abcdef"; // 32 bytes
constexpr int64_t now = 1'800'000'000;

jwt_claims sample() {
  jwt_claims c;
  c.sub = "11111111-1111-4111-8111-111111111111";
  c.clinic_id = "22222222-2222-4222-8222-222222222222";
  c.role = "clinic_admin";
  c.jti = "jti-1";
  c.typ = "access";
  c.fam = "fam-1";
  c.ver = 3;
  c.iat = now;
  c.exp = now + 900;
  return c;
}

std::string part(const std::string& token, int i) {
  size_t start = 0;
  for (int k = 0; k < i; ++k)
    start = token.find('.', start) + 1;
  auto end = token.find('.', start);
  return token.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

} // namespace

TEST_CASE("HMAC-SHA256 and base64url vectors", "[jwt]") {
  CHECK(hmac_sha256_hex("secret", "test") == "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914");
  // RFC 4648 vectors, without padding.
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode("fooba") == "Zm9vYmE");
  CHECK(base64url_encode("foobar") == "Zm9vYmFy");
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(base64url_decode("Zm9vYmE") == std::optional<std::string>("fooba"));
  CHECK(base64url_decode("-_8") == std::optional<std::string>("\xfb\xff"));
  CHECK_FALSE(base64url_decode("Zm9vYmE="));  // padding refused
  CHECK_FALSE(base64url_decode("Zm9v+mE"));   // standard alphabet refused
  CHECK_FALSE(base64url_decode("Z"));         // impossible length
  CHECK_FALSE(base64url_decode("Zh"));        // non-canonical trailing bits
}

TEST_CASE("the jwt.io HS256 example signs as published", "[jwt]") {
  const std::string input = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ";
  CHECK(base64url_encode(hmac_sha256("your-256-bit-secret", input)) == "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  // A valid signature without our claims is still refused, as malformed.
  auto r = verify_jwt(input + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "your-256-bit-secret", 1516239022);
  REQUIRE(std::holds_alternative<jwt_error>(r));
  CHECK(std::get<jwt_error>(r) == jwt_error::malformed);
}

TEST_CASE("sign and verify round trip", "[jwt]") {
  auto token = sign_jwt(sample(), secret);
  CHECK(token.find('=') == std::string::npos);
  CHECK(base64url_decode(part(token, 0)) == std::optional<std::string>(R"({"alg":"HS256","typ":"JWT"})"));
  auto r = verify_jwt(token, secret, now + 10);
  REQUIRE(std::holds_alternative<jwt_claims>(r));
  auto c = std::get<jwt_claims>(r);
  CHECK(c.sub == sample().sub);
  CHECK(c.clinic_id == sample().clinic_id);
  CHECK(c.role == "clinic_admin");
  CHECK(c.jti == "jti-1");
  CHECK(c.typ == "access");
  CHECK(c.fam == "fam-1");
  CHECK(c.ver == 3);
  CHECK(c.iat == now);
  CHECK(c.exp == now + 900);
}

TEST_CASE("expired, future and wrong-key tokens are refused", "[jwt]") {
  auto token = sign_jwt(sample(), secret);
  auto err = [](const std::variant<jwt_claims, jwt_error>& r) {
    return std::holds_alternative<jwt_error>(r) ? std::get<jwt_error>(r) : static_cast<jwt_error>(-1);
  };
  CHECK(err(verify_jwt(token, secret, now + 900)) == jwt_error::expired);
  CHECK(err(verify_jwt(token, secret, now + 899)) != jwt_error::expired);
  CHECK(err(verify_jwt(token, secret, now - 31)) == jwt_error::issued_in_future);
  CHECK(std::holds_alternative<jwt_claims>(verify_jwt(token, secret, now - 30)));
  CHECK(err(verify_jwt(token, "another-secret-another-secret-xx", now)) == jwt_error::bad_signature);
}

TEST_CASE("alg none, other algorithms and tampering are refused", "[jwt]") {
  auto token = sign_jwt(sample(), secret);
  auto payload = part(token, 1);
  auto err = [](const std::variant<jwt_claims, jwt_error>& r) {
    return std::holds_alternative<jwt_error>(r) ? std::get<jwt_error>(r) : static_cast<jwt_error>(-1);
  };
  auto none = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  CHECK(err(verify_jwt(none, secret, now)) == jwt_error::unsupported_alg);
  auto none_upper = base64url_encode(R"({"alg":"None"})") + "." + payload + ".";
  CHECK(err(verify_jwt(none_upper, secret, now)) == jwt_error::unsupported_alg);
  // HS512 / RS256 headers with an HS256 signature are still refused by alg.
  for (auto alg : {"HS512", "RS256", "ES256", "hs256"}) {
    auto header = base64url_encode(std::string(R"({"alg":")") + alg + R"("})");
    auto input = header + "." + payload;
    auto forged = input + "." + base64url_encode(hmac_sha256(secret, input));
    CHECK(err(verify_jwt(forged, secret, now)) == jwt_error::unsupported_alg);
  }
  auto no_alg = base64url_encode(R"({"typ":"JWT"})") + "." + payload + ".x";
  CHECK(err(verify_jwt(no_alg, secret, now)) == jwt_error::unsupported_alg);
  // Role escalation in the payload breaks the signature.
  auto claims = sample();
  claims.role = "super_admin";
  auto escalated = part(token, 0) + "." + part(sign_jwt(claims, secret), 1) + "." + part(token, 2);
  CHECK(err(verify_jwt(escalated, secret, now)) == jwt_error::bad_signature);
  // Structure.
  CHECK(err(verify_jwt("", secret, now)) == jwt_error::malformed);
  CHECK(err(verify_jwt("a.b", secret, now)) == jwt_error::malformed);
  CHECK(err(verify_jwt(token + ".x", secret, now)) == jwt_error::malformed);
  CHECK(err(verify_jwt("!!!." + payload + "." + part(token, 2), secret, now)) == jwt_error::malformed);
  CHECK(err(verify_jwt(part(token, 0) + "." + payload + ".sig=", secret, now)) == jwt_error::malformed);
  CHECK(err(verify_jwt(std::string(10000, 'a'), secret, now)) == jwt_error::malformed);
}

TEST_CASE("claims of the wrong type are malformed even when signed", "[jwt]") {
  auto sign_raw = [](const std::string& payload_json) {
    auto input = base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode(payload_json);
    return input + "." + base64url_encode(hmac_sha256(secret, input));
  };
  auto err = [](const std::variant<jwt_claims, jwt_error>& r) {
    return std::holds_alternative<jwt_error>(r) ? std::get<jwt_error>(r) : static_cast<jwt_error>(-1);
  };
  CHECK(err(verify_jwt(sign_raw(R"({"sub":"u","clinic_id":"c","role":"r","jti":"j","typ":"access","ver":0,"iat":1,"exp":"9999999999"})"),
                       secret, now)) == jwt_error::malformed);
  CHECK(err(verify_jwt(sign_raw(R"({"sub":"u","clinic_id":"c","role":"r","jti":"j","typ":"access","ver":0,"iat":1})"), secret,
                       now)) == jwt_error::malformed);
  CHECK(err(verify_jwt(sign_raw(R"([1,2,3])"), secret, now)) == jwt_error::malformed);
  CHECK(std::holds_alternative<jwt_claims>(verify_jwt(
    sign_raw(R"({"sub":"u","clinic_id":"c","role":"r","jti":"j","typ":"access","ver":0,"iat":1,"exp":9999999999})"), secret,
    now)));
}
