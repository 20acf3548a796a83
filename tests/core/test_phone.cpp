#include <catch2/catch.hpp>

#include "core/phone.hpp"

using namespace atendeai::core;

namespace {
std::string e164(const char* raw) { return normalize_phone(raw).e164.value_or("invalid: " + normalize_phone(raw).error); }
} // namespace

TEST_CASE("phones typed by staff in any Brazilian form become one E.164 number", "[phone]") {
  for (auto raw : {"+55 (11) 98765-4321", "+5511987654321", "5511987654321", "55 11 98765 4321", "11987654321",
                   "(11) 98765-4321", "011 98765-4321", "0055 11 98765.4321", "whatsapp:+5511987654321"})
    CHECK(e164(raw) == "+5511987654321");
}

TEST_CASE("a Brazilian mobile with and without its ninth digit is one number", "[phone]") {
  // First local digit 6–9 after the area code: a mobile, the ninth digit added.
  CHECK(e164("+55 11 8765-4321") == "+5511987654321");
  CHECK(e164("551187654321") == "+5511987654321"); // a wa_id without the 9
  CHECK(e164("1187654321") == "+5511987654321");
  CHECK(e164("+55 21 6123-4567") == "+5521961234567");
  CHECK(e164("+55 92 99123-4567") == "+5592991234567");
  // A landline (2–5) keeps its 8 digits.
  CHECK(e164("+55 92 3333-0000") == "+559233330000");
  CHECK(e164("(11) 2345-6789") == "+551123456789");
  CHECK(e164("551123456789") == "+551123456789");
}

TEST_CASE("other countries keep their digits", "[phone]") {
  CHECK(e164("+1 (415) 555-0123") == "+14155550123");
  CHECK(e164("+44 7911 123456") == "+447911123456");
  CHECK(e164("00351 912 345 678") == "+351912345678");
  CHECK(e164("447911123456") == "+447911123456"); // 12 digits, not 55: a country code
}

TEST_CASE("malformed phones are refused with a reason", "[phone]") {
  for (auto raw : {"", "12ab", "123", "+", "98765-4321", "+55 11 8765-432", "+55 11 98765-43210", "+55 01 98765-4321",
                   "+55 11 88765-4321", "+55 11 1234-5678", "+0 11 2345 6789", "+1234567", "+1234567890123456",
                   "11 98765-4321 ramal 2", "++5511987654321", "55+11987654321"}) {
    INFO(raw);
    auto r = normalize_phone(raw);
    CHECK_FALSE(r.e164);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("a channel's contact id gives the patient's number where the channel carries one", "[phone]") {
  CHECK(contact_phone("whatsapp", "5511987654321") == "+5511987654321");
  CHECK(contact_phone("whatsapp", "551187654321") == "+5511987654321");
  CHECK(contact_phone("whatsapp", "14155550123") == "+14155550123"); // wa_ids carry their country code
  CHECK(contact_phone("twilio", "whatsapp:+551187654321") == "+5511987654321");
  CHECK(contact_phone("whatsapp", "not-a-phone") == "");
  CHECK(contact_phone("telegram", "5511987654321") == ""); // a chat id, not a phone
  CHECK(contact_phone("web", "5511987654321") == "");
}

TEST_CASE("the WhatsApp ids a number may arrive as", "[phone]") {
  CHECK(whatsapp_ids("+5511987654321") == std::vector<std::string>{"5511987654321", "551187654321"});
  CHECK(whatsapp_ids("+551123456789") == std::vector<std::string>{"551123456789"});
  CHECK(whatsapp_ids("+5511912345678") == std::vector<std::string>{"5511912345678"}); // 1… is no 8-digit mobile
  CHECK(whatsapp_ids("+14155550123") == std::vector<std::string>{"14155550123"});
  CHECK(whatsapp_ids("") == std::vector<std::string>{});
}
