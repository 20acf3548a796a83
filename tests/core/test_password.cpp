#include <catch2/catch.hpp>

#include "core/password.hpp"

using namespace atendeai::core;

TEST_CASE("bcrypt $2b$ hashes verify and carry their cost", "[password]") {
  auto hash = hash_password("correct horse 42", 4);
  CHECK(hash.rfind("$2b$04$", 0) == 0);
  CHECK(hash.size() == 60);
  CHECK(bcrypt_cost_of(hash) == 4);
  CHECK(verify_password("correct horse 42", hash));
  CHECK_FALSE(verify_password("correct horse 43", hash));
  CHECK_FALSE(verify_password("", hash));
  // Fresh salt every time.
  CHECK(hash_password("correct horse 42", 4) != hash);
}

// The configured default cost (12) is hashed with in tests/config/test_config.cpp.
TEST_CASE("out-of-range costs are refused", "[password]") {
  CHECK_THROWS(hash_password("x", 3));
  CHECK_THROWS(hash_password("x", 32));
  CHECK_THROWS(hash_password(std::string("a\0b", 3), 4));
}

TEST_CASE("a known bcrypt vector verifies", "[password]") {
  // OpenBSD's $2b$ test vector ("U*U", cost 5).
  CHECK(verify_password("U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  CHECK_FALSE(verify_password("U*V", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
}

TEST_CASE("hashes that are not bcrypt never verify", "[password]") {
  CHECK_FALSE(verify_password("anything", ""));
  CHECK_FALSE(verify_password("anything", "plaintext"));
  CHECK_FALSE(verify_password("anything", "$1$abc$xyz"));
  CHECK_FALSE(verify_password("anything", "$2b$04$tooshort"));
  CHECK(bcrypt_cost_of("$1$abc") == 0);
}

TEST_CASE("password strength rule", "[password]") {
  CHECK(password_weakness("short1"));
  CHECK(password_weakness("onlyletterslong"));
  CHECK(password_weakness("1234567890123"));
  CHECK(password_weakness("aaaaaaaaaaaa"));
  CHECK(password_weakness(std::string(73, 'a') + "1"));
  CHECK(password_weakness("tab\tinside123"));
  CHECK(password_weakness("maria.silva2024", "maria.silva@example.com"));
  CHECK(password_weakness("Maria.Silva@Example.com", "maria.silva@example.com"));
  CHECK_FALSE(password_weakness("correct horse 42"));
  CHECK_FALSE(password_weakness("Tr0ub4dor&3x", "maria@example.com"));
  CHECK_FALSE(password_weakness("senha-da-clínica-9"));
}

TEST_CASE("generated passwords and tokens", "[password]") {
  for (int i = 0; i < 20; ++i) {
    auto pw = generate_password();
    CHECK_FALSE(password_weakness(pw));
    CHECK(pw.size() >= 20);
  }
  auto t1 = random_token(32), t2 = random_token(32);
  CHECK(t1 != t2);
  CHECK(t1.size() == 43);
  CHECK(t1.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
}
