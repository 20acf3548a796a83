// Hostile WhatsApp notifications (issue 26), correctly signed but built to hurt: values
// nested 100,000 levels deep in every place a message accepts objects, NUL characters,
// ill-formed UTF-8, absurd lengths and timestamps. The parser never recurses into them,
// drops only the message whose kept part is too deep (the caller counts it), and hands
// on everything else sanitised so PostgreSQL stores it.

#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "core/json_limits.hpp"
#include "core/utf8.hpp"
#include "core/whatsapp.hpp"

using namespace atendeai::core;
using nlohmann::json;

namespace {

constexpr int64_t received_at = 1732350500;
const std::string fffd = "\xEF\xBF\xBD";

/// 100,000 nested arrays around a number: ≈ 200 KB, far past any stack if walked recursively.
std::string deep_text(size_t depth = 100'000) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

/// The body text of `value` in the envelope, with every "DEEP" string replaced by
/// deep_text() (nlohmann itself could not build or dump such a value).
std::string body_of(const json& value, size_t depth = 100'000) {
  auto text = json{{"object", "whatsapp_business_account"},
                   {"entry", {{{"id", "WABA_ID"}, {"changes", {{{"field", "messages"}, {"value", value}}}}}}}}
                .dump();
  for (size_t at; (at = text.find("\"DEEP\"")) != std::string::npos;)
    text.replace(at, 6, deep_text(depth));
  return text;
}

json message(const std::string& type, const json& part, const std::string& id = "wamid.1") {
  return {{"from", "5511987654321"}, {"id", id}, {"timestamp", "1732350000"}, {"type", type}, {type, part}};
}

json value_with(const std::vector<json>& messages, const json& contacts = json::array({{{"profile", {{"name", "Maria"}}},
                                                                           {"wa_id", "5511987654321"}}})) {
  return {{"messaging_product", "whatsapp"},
          {"metadata", {{"display_phone_number", "15550001111"}, {"phone_number_id", "PHONE_NUMBER_ID"}}},
          {"contacts", contacts},
          {"messages", messages}};
}

whatsapp_notification parsed(const std::string& body) {
  auto result = parse_whatsapp_notification(body, received_at);
  if (auto* err = std::get_if<notification_error>(&result))
    FAIL("refused: " << err->field << ": " << err->message);
  return std::get<whatsapp_notification>(std::move(result));
}

/// The single message of a body holding one message (and nothing dropped).
inbound_message only(const std::string& body) {
  auto n = parsed(body);
  CHECK(n.dropped == 0);
  REQUIRE(n.messages.size() == 1);
  return n.messages.front();
}

} // namespace

// -- depth ------------------------------------------------------------------------------

TEST_CASE("A text message with a field nested 100,000 arrays deep is dropped, its neighbours kept",
          "[whatsapp][hostile][depth]") {
  // The issue's payload: the extra field inside `text`, between two good messages.
  auto body = body_of(value_with({message("text", {{"body", "Oi"}}, "wamid.before"),
                                  message("text", {{"body", "Oi"}, {"extra", "DEEP"}}, "wamid.deep"),
                                  message("text", {{"body", "Tchau"}}, "wamid.after")}));
  REQUIRE(body.size() > 200'000);
  auto n = parsed(body);
  CHECK(n.dropped == 1);
  CHECK(n.dropped_ids == std::vector<std::string>{"wamid.deep"});
  REQUIRE(n.messages.size() == 2);
  CHECK(n.messages[0].external_id == "wamid.before");
  CHECK(n.messages[1].external_id == "wamid.after");
  CHECK(n.messages[1].text == "Tchau");
  // What is kept can be copied, dumped and stored without recursion trouble.
  for (auto& m : n.messages) {
    CHECK_FALSE(m.sanitised);
    CHECK(to_json(m).dump().size() < 1000);
  }
}

TEST_CASE("Deep nesting in every part a message keeps drops that message", "[whatsapp][hostile][depth]") {
  auto check_dropped = [](const json& m) {
    INFO(m.dump());
    auto n = parsed(body_of(value_with({m, message("text", {{"body", "ok"}}, "wamid.good")})));
    CHECK(n.dropped == 1);
    REQUIRE(n.messages.size() == 1);
    CHECK(n.messages[0].external_id == "wamid.good");
  };
  check_dropped(message("text", {{"body", "DEEP"}}));
  check_dropped(message("interactive", {{"type", "button_reply"}, {"button_reply", {{"id", "DEEP"}, {"title", "Sim"}}}}));
  check_dropped(message("interactive", {{"type", "list_reply"}, {"list_reply", {{"id", "r1"}, {"title", "A"}, {"x", "DEEP"}}}}));
  check_dropped(message("button", {{"text", "Sim"}, {"payload", "p"}, {"x", {"DEEP"}}}));
  check_dropped(message("image", {{"id", "media-1"}, {"caption", "DEEP"}}));
  check_dropped(message("location", {{"latitude", "DEEP"}, {"longitude", 1.0}}));
  check_dropped(message("contacts", json::array({{{"name", {{"formatted_name", "Ana"}}}, {"phones", {"DEEP"}}}})));
  check_dropped(message("reaction", {{"message_id", "wamid.x"}, {"emoji", "DEEP"}}));
  check_dropped(message("unknown_type", {{"anything", "DEEP"}}));
}

TEST_CASE("Deep nesting outside what a message keeps loses nothing: the message is answered",
          "[whatsapp][hostile][depth]") {
  SECTION("as a sibling of text") {
    auto m = message("text", {{"body", "Oi"}});
    m["extra"] = "DEEP";
    auto msg = only(body_of(value_with({m})));
    CHECK(msg.text == "Oi");
    CHECK(msg.payload == json{{"body", "Oi"}});
  }
  SECTION("at the top level of the body") {
    auto text = body_of(value_with({message("text", {{"body", "Oi"}})}));
    text.insert(1, "\"extra\":" + deep_text() + ",");
    auto n = parsed(text);
    REQUIRE(n.messages.size() == 1);
    CHECK(n.messages[0].text == "Oi");
    CHECK(n.dropped == 0);
    CHECK_FALSE(n.ignored.empty());
  }
  SECTION("in the contacts, the metadata, the context and a status") {
    auto contacts = json::array({{{"profile", {{"name", "Maria"}, {"x", "DEEP"}}}, {"wa_id", "5511987654321"}},
                                 {{"profile", "DEEP"}, {"wa_id", "5511000000000"}}});
    auto value = value_with({message("text", {{"body", "Oi"}})}, contacts);
    value["metadata"]["x"] = "DEEP";
    value["messages"][0]["context"] = {{"id", "wamid.ctx"}, {"x", "DEEP"}};
    value["statuses"] = {{{"id", "wamid.s"}, {"status", "read"}, {"timestamp", "1732350100"}, {"x", "DEEP"}}};
    auto n = parsed(body_of(value));
    REQUIRE(n.messages.size() == 1);
    CHECK(n.dropped == 0);
    CHECK(n.messages[0].contact_name == "Maria");
    CHECK(n.messages[0].context_id == "wamid.ctx");
    CHECK(n.messages[0].account_id == "PHONE_NUMBER_ID");
    REQUIRE(n.statuses.size() == 1);
    CHECK(n.statuses[0].status == "read");
  }
}

TEST_CASE("A deep value nested a little past the limit behaves like one 100,000 deep", "[whatsapp][hostile][depth]") {
  // The message's text object sits at depth 9; 24 more levels pass the limit of 32.
  auto n = parsed(body_of(value_with({message("text", {{"body", "Oi"}, {"x", "DEEP"}})}), 24));
  CHECK(n.dropped == 1);
  auto kept = parsed(body_of(value_with({message("text", {{"body", "Oi"}, {"x", "DEEP"}})}), 22));
  CHECK(kept.dropped == 0);
  REQUIRE(kept.messages.size() == 1);
  CHECK_FALSE(kept.messages[0].sanitised);
}

// -- content PostgreSQL refuses ---------------------------------------------------------

TEST_CASE("NUL becomes U+FFFD in every kept string, and the message says it was sanitised",
          "[whatsapp][hostile][nul]") {
  SECTION("in the text, the payload and its member names") {
    auto body = body_of(value_with({message("text", {{"body", std::string("Oi\0tudo", 7)},
                                                     {std::string("k\0ey", 4), std::string("v\0", 2)}})}));
    REQUIRE(body.find("\\u0000") != std::string::npos);
    auto m = only(body);
    CHECK(m.text == "Oi" + fffd + "tudo");
    CHECK(m.sanitised);
    CHECK(m.payload["body"] == "Oi" + fffd + "tudo");
    CHECK(m.payload["k" + fffd + "ey"] == "v" + fffd);
    auto stored = to_json(m).dump();
    CHECK(stored.find("\\u0000") == std::string::npos);
    CHECK(to_json(m)["sanitised"] == true);
  }
  SECTION("in ids, names, titles and the context") {
    auto m = message("interactive", {{"type", "button_reply"},
                                     {"button_reply", {{"id", std::string("b\0", 2)}, {"title", std::string("S\0im", 4)}}}},
                     std::string("wamid.\0", 7));
    m["from"] = std::string("5511\0", 5);
    m["context"] = {{"id", std::string("c\0", 2)}};
    auto contacts = json::array({{{"profile", {{"name", std::string("Ma\0ria", 6)}}}, {"wa_id", std::string("5511\0", 5)}}});
    auto msg = only(body_of(value_with({m}, contacts)));
    CHECK(msg.external_id == "wamid." + fffd);
    CHECK(msg.contact == "5511" + fffd);
    CHECK(msg.contact_name == "Ma" + fffd + "ria");
    CHECK(msg.reply_id == "b" + fffd);
    CHECK(msg.text == "S" + fffd + "im");
    CHECK(msg.context_id == "c" + fffd);
    CHECK(msg.sanitised);
  }
  SECTION("a clean message is not marked") {
    auto msg = only(body_of(value_with({message("text", {{"body", "Olá, tudo bem? 😀"}})})));
    CHECK_FALSE(msg.sanitised);
    CHECK_FALSE(to_json(msg).contains("sanitised"));
  }
}

TEST_CASE("Ill-formed UTF-8 and lone surrogates become U+FFFD instead of failing the body",
          "[whatsapp][hostile][utf8]") {
  auto good = body_of(value_with({message("text", {{"body", "PLACEHOLDER"}}, "wamid.bad"),
                                  message("text", {{"body", "Oi"}}, "wamid.good")}));
  auto with = [&](const std::string& raw) {
    auto b = good;
    b.replace(b.find("PLACEHOLDER"), 11, raw);
    return b;
  };
  auto n = parsed(with("caf\xE9 \xC0\xAF ok"));
  REQUIRE(n.messages.size() == 2);
  CHECK(n.messages[0].text == "caf" + fffd + " " + fffd + fffd + " ok");
  CHECK(n.messages[0].sanitised);
  CHECK(is_valid_utf8(n.messages[0].payload["body"].get<std::string>()));
  CHECK(n.messages[1].text == "Oi");
  CHECK_FALSE(n.messages[1].sanitised);

  auto s = parsed(with("x\\ud800y"));
  REQUIRE(s.messages.size() == 2);
  CHECK(s.messages[0].text == "x" + fffd + "y");
  CHECK(s.messages[0].sanitised);

  auto raw_nul = parsed(with(std::string("a\0b", 3)));
  REQUIRE(raw_nul.messages.size() == 2);
  CHECK(raw_nul.messages[0].text == "a" + fffd + "b");
  CHECK(raw_nul.messages[0].sanitised);
}

TEST_CASE("An unusable timestamp becomes the receipt time, the original kept as text",
          "[whatsapp][hostile][timestamp]") {
  auto with_ts = [](const json& ts) {
    auto m = message("text", {{"body", "Oi"}});
    m["timestamp"] = ts;
    return only(body_of(value_with({m})));
  };
  SECTION("10^30 as a string and as a number") {
    auto m = with_ts("1000000000000000000000000000000");
    CHECK(m.timestamp == received_at);
    CHECK(m.raw_timestamp == "1000000000000000000000000000000");
    CHECK(m.sanitised);
    CHECK(m.text == "Oi");
    auto j = to_json(m);
    CHECK(j["raw_timestamp"] == "1000000000000000000000000000000");
    CHECK(j["timestamp"] == received_at);
    auto back = inbound_from_json(j);
    CHECK(back.raw_timestamp == m.raw_timestamp);
    CHECK(back.sanitised);

    auto body = body_of(value_with({message("text", {{"body", "Oi"}})}));
    body.replace(body.find("\"1732350000\""), 12, "1000000000000000000000000000000");
    auto n = only(body);
    CHECK(n.timestamp == received_at);
    CHECK(n.raw_timestamp == "1e+30");
  }
  SECTION("negative, past year 9999, not numeric, fractional, empty, an object") {
    for (auto ts : {json("-5"), json(-5), json("253402300800"), json(253402300800), json("abc"), json("17323e5"),
                    json(1732350000.5), json(""), json({{"x", 1}}), json("0")}) {
      INFO(ts.dump());
      auto m = with_ts(ts);
      CHECK(m.timestamp == received_at);
      CHECK_FALSE(m.raw_timestamp.empty());
      CHECK(m.sanitised);
    }
  }
  SECTION("in range as a string, a number, with leading zeros, the very last second") {
    CHECK(with_ts("1732350000").timestamp == 1732350000);
    CHECK(with_ts(1732350000).timestamp == 1732350000);
    CHECK(with_ts("0001732350000").timestamp == 1732350000);
    CHECK(with_ts("253402300799").timestamp == max_timestamp);
    CHECK_FALSE(with_ts("1732350000").sanitised);
    CHECK(with_ts("1732350000").raw_timestamp.empty());
  }
  SECTION("missing: the receipt time, nothing to keep") {
    auto m = message("text", {{"body", "Oi"}});
    m.erase("timestamp");
    auto msg = only(body_of(value_with({m})));
    CHECK(msg.timestamp == received_at);
    CHECK(msg.raw_timestamp.empty());
  }
  SECTION("a status's timestamp too") {
    auto value = value_with({});
    value["statuses"] = {{{"id", "wamid.s"}, {"status", "sent"}, {"timestamp", "1e30"}}};
    auto n = parsed(body_of(value));
    REQUIRE(n.statuses.size() == 1);
    CHECK(n.statuses[0].timestamp == received_at);
  }
}

TEST_CASE("Absurd lengths are cut to the documented limits", "[whatsapp][hostile][length]") {
  std::string huge(1'000'000, 'a');
  auto m = message("text", {{"body", huge}}, std::string(1000, 'w'));
  auto contacts = json::array({{{"profile", {{"name", std::string(5000, 'n')}}}, {"wa_id", "5511987654321"}}});
  auto msg = only(body_of(value_with({m}, contacts)));
  CHECK(msg.sanitised);
  CHECK(msg.text.size() <= max_text_chars * 4);
  CHECK(msg.text.rfind("aaaa", 0) == 0);
  CHECK(msg.external_id.size() == max_id_bytes);
  CHECK(msg.contact_name.size() <= max_name_chars * 4);
  CHECK(msg.payload["body"].get<std::string>().size() <= webhook_json_limits.max_string_bytes);

  // A contacts message with 5,000 phone numbers keeps the first 1,000.
  auto phones = json::array();
  for (int i = 0; i < 5000; ++i)
    phones.push_back({{"phone", std::to_string(i)}});
  auto card = only(body_of(value_with({message("contacts", json::array({{{"phones", phones}}}))})));
  CHECK(card.payload[0]["phones"].size() == webhook_json_limits.max_array_items);
  CHECK(card.sanitised);
}

TEST_CASE("Messages past 1,000 in one array are dropped and counted", "[whatsapp][hostile][length]") {
  std::vector<json> messages;
  for (int i = 0; i < 1005; ++i)
    messages.push_back(message("text", {{"body", "Oi"}}, "wamid." + std::to_string(i)));
  auto n = parsed(body_of(value_with(messages)));
  CHECK(n.messages.size() == 1000);
  CHECK(n.dropped == 5);
  CHECK(n.messages.back().external_id == "wamid.999");
}

TEST_CASE("Whole-body limits and broken JSON refuse the request (400) naming no content",
          "[whatsapp][hostile]") {
  // 300 arrays of 1,000 numbers: 300,000 values, more than any real notification holds.
  std::string thousand = "[0" + std::string(999 * 2, ',') + "]";
  for (size_t i = 3; i < thousand.size() - 1; i += 2)
    thousand[i] = '0';
  std::string many = "[" + thousand;
  for (int i = 1; i < 300; ++i)
    many += "," + thousand;
  many += "]";
  REQUIRE(json::parse(many).size() == 300);
  REQUIRE(json::parse(many)[0].size() == 1000);
  auto r = parse_whatsapp_notification(R"({"object":"whatsapp_business_account","entry":[],"x":)" + many + "}",
                                       received_at);
  REQUIRE(std::holds_alternative<notification_error>(r));
  CHECK(std::get<notification_error>(r).message.find("values") != std::string::npos);

  auto broken = parse_whatsapp_notification("{\"object\":\"whatsapp_business_account\",\"entry\":[\"secret\"", received_at);
  REQUIRE(std::holds_alternative<notification_error>(broken));
  CHECK(std::get<notification_error>(broken).message.find("secret") == std::string::npos);
}
