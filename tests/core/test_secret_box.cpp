// Secrets at rest (issue 21): AES-256-GCM sealing of channel tokens under the data key.

#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "core/jwt.hpp"
#include "core/secret_box.hpp"

using namespace atendeai::core;

namespace {

const std::string key_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

data_key key_of(const std::string& hex) {
  auto k = data_key::from_hex(hex);
  REQUIRE(k);
  return *k;
}

/// `sealed` with one character of its encoded part replaced by another of the alphabet.
std::string flip(std::string sealed, size_t at) {
  auto& c = sealed[sealed_prefix.size() + at];
  c = c == 'A' ? 'B' : 'A';
  return sealed;
}

} // namespace

TEST_CASE("secret box: a sealed token opens to the same text under the same key", "[secret_box]") {
  auto key = key_of(key_hex);
  const std::vector<std::string> tokens = {"EAAB-secret-token-of-b", "", "x", std::string(1024, 'T'),
                                           std::string("nul\0byte", 8)};
  for (auto& token : tokens) {
    auto sealed = seal(key, token);
    INFO("token of " << token.size() << " bytes");
    CHECK(is_sealed(sealed));
    if (token.size() >= 8)
      CHECK(sealed.find(token) == std::string::npos);
    // prefix, then base64url of nonce (12) | ciphertext | tag (16)
    auto box = base64url_decode(std::string_view(sealed).substr(sealed_prefix.size()));
    REQUIRE(box);
    CHECK(box->size() == 12 + token.size() + 16);
    CHECK(open(key, sealed) == std::optional<std::string>(token));
  }
}

TEST_CASE("secret box: the format is AES-256-GCM as another implementation writes it", "[secret_box]") {
  // Sealed by Python's cryptography (AESGCM(key).encrypt(nonce 00..0b, text, b"enc:v1:")),
  // base64url without padding: what this version stores stays readable by later ones.
  const std::string known = "enc:v1:AAECAwQFBgcICQoLAkOXWeiOrHT6L7rq35oPCPH781ubHjHgau0cTgMlSt8vEbW6ZtmA";
  CHECK(open(key_of(key_hex), known) == std::optional<std::string>("EAAB-known-answer-token"));
  CHECK(key_of(key_hex).hex() == key_hex);
  CHECK(key_of("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F").hex() == key_hex);
}

TEST_CASE("secret box: another key opens nothing", "[secret_box]") {
  auto key = key_of(key_hex);
  auto other = data_key::generate();
  auto sealed = seal(key, "EAAB-secret-token");
  CHECK_FALSE(open(other, sealed));
  CHECK(open(other, seal(other, "EAAB-secret-token")) == std::optional<std::string>("EAAB-secret-token"));
  CHECK(data_key::generate().hex() != data_key::generate().hex());
  CHECK(data_key::generate().hex().size() == 64);
}

TEST_CASE("secret box: a changed, cut or foreign text opens to nothing and never throws", "[secret_box]") {
  auto key = key_of(key_hex);
  auto sealed = seal(key, "EAAB-secret-token");
  auto encoded = sealed.size() - sealed_prefix.size();
  // Every character changed in turn: nonce, ciphertext or tag, the tag refuses it.
  for (size_t at = 0; at < encoded; ++at) {
    INFO("character " << at << " changed");
    CHECK_FALSE(open(key, flip(sealed, at)));
  }
  CHECK_FALSE(open(key, sealed.substr(0, sealed.size() - 4)));                     // tag cut
  CHECK_FALSE(open(key, sealed + "AAAA"));                                         // bytes added
  CHECK_FALSE(open(key, std::string(sealed_prefix) + base64url_encode("short")));   // shorter than nonce + tag
  CHECK_FALSE(open(key, std::string(sealed_prefix)));
  CHECK_FALSE(open(key, std::string(sealed_prefix) + "not base64url!"));
  CHECK_FALSE(open(key, "enc:v2:" + sealed.substr(sealed_prefix.size())));          // another version
  CHECK_FALSE(open(key, "EAAB-plain-token"));                                      // not sealed at all
  CHECK_NOTHROW(open(key, std::string(sealed_prefix) + std::string(200, '_'))); // decodes, tag refuses
}

TEST_CASE("secret box: every seal draws a new nonce", "[secret_box]") {
  auto key = key_of(key_hex);
  std::set<std::string> sealed, nonces;
  for (int i = 0; i < 100; ++i) {
    auto s = seal(key, "EAAB-same-token");
    sealed.insert(s);
    nonces.insert(base64url_decode(std::string_view(s).substr(sealed_prefix.size()))->substr(0, 12));
    CHECK(open(key, s) == std::optional<std::string>("EAAB-same-token"));
  }
  CHECK(sealed.size() == 100);
  CHECK(nonces.size() == 100);
}

TEST_CASE("secret box: is_sealed is the prefix, and plain tokens are never taken for sealed", "[secret_box]") {
  CHECK(is_sealed("enc:v1:"));
  CHECK(is_sealed("enc:v1:AAAA"));
  CHECK_FALSE(is_sealed(""));
  CHECK_FALSE(is_sealed("enc:v1"));
  CHECK_FALSE(is_sealed("ENC:V1:AAAA"));
  CHECK_FALSE(is_sealed(" enc:v1:AAAA"));
  CHECK_FALSE(is_sealed("EAABsbCS1iHgBAEZBZC-plain.token_1"));
}

TEST_CASE("secret box: keys are 64 hex digits, nothing else", "[secret_box]") {
  CHECK(data_key::from_hex(key_hex));
  CHECK_FALSE(data_key::from_hex(""));
  CHECK_FALSE(data_key::from_hex(key_hex.substr(0, 62)));     // 31 bytes
  CHECK_FALSE(data_key::from_hex(key_hex + "00"));            // 33 bytes
  CHECK_FALSE(data_key::from_hex(key_hex.substr(0, 63) + "g")); // not hex
  CHECK_FALSE(data_key::from_hex(key_hex + "\n"));            // the file's newline is the reader's to strip
  CHECK_FALSE(data_key::from_hex(std::string(64, ' ')));
}

TEST_CASE("secret box: a stored secret is sealed with a key, as given without, and read back either way",
          "[secret_box]") {
  auto key = key_of(key_hex);
  auto stored = stored_secret(&key, "EAAB-token");
  CHECK(is_sealed(stored));
  CHECK(plain_secret(&key, stored) == std::optional<std::string>("EAAB-token"));
  CHECK(stored_secret(&key, "") == ""); // no token stays no token
  CHECK(stored_secret(nullptr, "EAAB-token") == "EAAB-token");
  // A plain token (written before a key was set) reads as it is, with or without a key.
  CHECK(plain_secret(&key, "EAAB-token") == std::optional<std::string>("EAAB-token"));
  CHECK(plain_secret(nullptr, "EAAB-token") == std::optional<std::string>("EAAB-token"));
  CHECK(plain_secret(nullptr, "") == std::optional<std::string>(""));
  // A sealed one needs its key.
  CHECK_FALSE(plain_secret(nullptr, stored));
  auto other = data_key::generate();
  CHECK_FALSE(plain_secret(&other, stored));
}
