#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/json_text.hpp"
#include "core/whatsapp.hpp"

using atendeai::core::json_text;
using nlohmann::json;

TEST_CASE("json_text writes nested objects and arrays that parse back", "[json_text]") {
  json_text t;
  t.begin_array();
  t.begin_object().key("ord").integer(0).key("name").string("Ana").key("tags").begin_array().end_array().end_object();
  t.begin_object()
    .key("ord").integer(-7)
    .key("ok").boolean(false)
    .key("none").null()
    .key("score").number(0.95)
    .key("inner").begin_object().key("a").begin_array().integer(1).integer(2).end_array().end_object()
    .key("raw").raw(R"({"x":[true]})")
    .end_object();
  t.end_array();
  auto j = json::parse(t.str());
  CHECK(j == json::parse(R"([{"ord":0,"name":"Ana","tags":[]},
                              {"ord":-7,"ok":false,"none":null,"score":0.95,"inner":{"a":[1,2]},"raw":{"x":[true]}}])"));
}

TEST_CASE("json_text escapes what JSON asks and nothing else", "[json_text]") {
  std::string text = std::string("aspas \" barra \\ nova\nlinha\ttab\r\b\f ctrl\x01 nul") + '\0' + " fim ção 😀";
  json_text t;
  t.string(text);
  CHECK(t.str().find("\\u0000") != std::string::npos); // NUL kept as an escape: PostgreSQL refuses it, visibly
  CHECK(t.str().find("\\u0001") != std::string::npos);
  CHECK(t.str().find("ção 😀") != std::string::npos);   // UTF-8 passes as it is
  CHECK(json::parse(t.str()).get<std::string>() == text);
}

TEST_CASE("json_text replaces ill-formed UTF-8 with U+FFFD, so the text always parses", "[json_text]") {
  json_text t;
  t.begin_object().key("bad\xC3").string("a\xFF" "b\xE2\x82").end_object();
  auto j = json::parse(t.str());
  CHECK(j.begin().key() == "bad\xEF\xBF\xBD");
  CHECK(j.begin().value() == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
}

TEST_CASE("json_text numbers read back exactly, and what is not finite is null", "[json_text]") {
  for (double v : {0.1, 1.0 / 3.0, 1e-300, 123456789.125, -2.5}) {
    json_text t;
    t.number(v);
    CHECK(json::parse(t.str()).get<double>() == v);
  }
  json_text big;
  big.integer(std::numeric_limits<int64_t>::min());
  CHECK(json::parse(big.str()).get<int64_t>() == std::numeric_limits<int64_t>::min());
  json_text odd;
  odd.begin_array().number(std::nan("")).number(std::numeric_limits<double>::infinity()).end_array();
  CHECK(odd.str() == "[null,null]");
  json_text empty;
  empty.begin_array().string_or_null("").string_or_null("x").end_array();
  CHECK(empty.str() == R"([null,"x"])");
}

TEST_CASE("an inbound message's written form reads back as the same message", "[json_text][whatsapp]") {
  atendeai::core::inbound_message m;
  m.account_id = "acct";
  m.contact = "5511999999999";
  m.contact_name = "Zé \"da\" Silva";
  m.external_id = "wamid.1";
  m.timestamp = 1796600000;
  m.type = "interactive";
  m.text = "Sim\nclaro";
  m.reply_id = "slot-3";
  m.payload = json{{"button_reply", {{"id", "slot-3"}, {"title", "Sim"}}}};
  m.raw_timestamp = "1e30";
  m.sanitised = true;
  json_text t;
  atendeai::core::write_json(t, m);
  auto back = atendeai::core::inbound_from_json(json::parse(t.str()));
  CHECK(back.contact_name == m.contact_name);
  CHECK(back.text == m.text);
  CHECK(back.timestamp == m.timestamp);
  CHECK(back.reply_id == "slot-3");
  CHECK(back.payload == m.payload);
  CHECK(back.raw_timestamp == "1e30");
  CHECK(back.sanitised);
  CHECK(atendeai::core::to_json(m) == json::parse(t.str()));
}

TEST_CASE("a reply's written form reads back as the same reply", "[json_text][whatsapp]") {
  atendeai::core::outbound_message r;
  r.text = "Escolha um horário:";
  r.style = atendeai::core::choice_style::list;
  r.choices = {{"s1", "Seg 09:00", "Dra. Ana"}, {"s2", "Seg 10:00", ""}};
  r.list_button = "Horários";
  json_text t;
  atendeai::core::write_json(t, r);
  auto back = atendeai::core::outbound_from_json(json::parse(t.str()));
  CHECK(back.text == r.text);
  CHECK(back.style == r.style);
  REQUIRE(back.choices.size() == 2);
  CHECK(back.choices[0].description == "Dra. Ana");
  CHECK(back.list_button == "Horários");
}
