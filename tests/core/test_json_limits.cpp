// JSON parsed under limits (core/json_limits.hpp) and UTF-8 made storable (core/utf8.hpp):
// depth, items, string bytes and value counts enforced while parsing, refused or cut with
// the place named; documents far deeper than any stack survive; NUL and ill-formed UTF-8
// become U+FFFD; JSON text with bad string bytes is repaired, nothing else.

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "core/utf8.hpp"

using namespace atendeai::core;
using nlohmann::json;

namespace {

std::string nested_arrays(size_t depth, const std::string& inner = "1") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

json_document parsed(std::string_view text, const json_limits& limits, json_overflow overflow) {
  json_parse_options o;
  o.overflow = overflow;
  auto r = parse_json_limited(text, limits, o);
  if (auto* err = std::get_if<json_error>(&r))
    FAIL("refused: " << err->message);
  return std::get<json_document>(std::move(r));
}

json_error refused(std::string_view text, const json_limits& limits, json_parse_options o = {}) {
  auto r = parse_json_limited(text, limits, o);
  REQUIRE(std::holds_alternative<json_error>(r));
  return std::get<json_error>(r);
}

json_limits small() {
  json_limits l;
  l.max_depth = 4;
  l.max_array_items = 3;
  l.max_object_members = 3;
  l.max_string_bytes = 8;
  l.max_values = 100;
  l.max_cuts = 5;
  return l;
}

} // namespace

TEST_CASE("Documents within the limits parse exactly as nlohmann's own parser does", "[json_limits]") {
  for (std::string text : {R"({"a":[1,2,{"b":null}],"c":"x","d":true,"e":-1.5,"f":18446744073709551615})",
                           R"([])", R"("s")", R"(0)", R"({"a":1,"a":2})", R"({"k":{"k":{"k":[]}}})"}) {
    INFO(text);
    auto doc = parsed(text, api_json_limits, json_overflow::refuse);
    CHECK(doc.value == json::parse(text));
    CHECK(doc.cuts.empty());
    CHECK_FALSE(doc.repaired);
  }
}

TEST_CASE("Nesting past the limit is refused naming the place, at any depth, without recursion",
          "[json_limits][depth]") {
  auto err = refused(R"({"a":[{"b":[[1]]}]})", small());
  CHECK(err.problem == json_problem::too_deep);
  CHECK(err.pointer == "/a/0/b/0");
  CHECK(err.message == "nesting deeper than 4 levels at a.0.b.0");
  CHECK(api_error_of(err) == error_code::validation_failed);
  CHECK(http_status(api_error_of(err)) == 422);
  // Exactly at the limit is fine.
  CHECK(parsed(R"({"a":[{"b":[1]}]})", small(), json_overflow::refuse).value["a"][0]["b"][0] == 1);

  // 100,000 and 1,000,000 levels: refused (or cut) in constant stack.
  for (size_t depth : {size_t{100'000}, size_t{1'000'000}}) {
    auto deep = nested_arrays(depth);
    CHECK(refused(deep, webhook_json_limits).problem == json_problem::too_deep);
    json_parse_options cut;
    cut.overflow = json_overflow::cut;
    auto r = parse_json_limited(R"({"text":{"body":"Oi","x":)" + deep + "}}", webhook_json_limits, cut);
    REQUIRE(std::holds_alternative<json_document>(r));
    auto& doc = std::get<json_document>(r);
    REQUIRE(doc.cuts.size() == 1);
    CHECK(doc.cuts[0].problem == json_problem::too_deep);
    CHECK(doc.cuts[0].pointer.rfind("/text/x/0/0/", 0) == 0);
    CHECK(doc.value["text"]["body"] == "Oi");
    CHECK(doc.value.dump().size() < 200); // the cut subtree is gone: dump and copy are cheap
  }
}

TEST_CASE("Cut mode replaces the over-deep value with null and keeps its siblings", "[json_limits][depth]") {
  auto doc = parsed(R"({"a":[1,[[[[2]]]],3],"b":"x"})", small(), json_overflow::cut);
  CHECK(doc.value == json::parse(R"({"a":[1,[[null]],3],"b":"x"})"));
  REQUIRE(doc.cuts.size() == 1);
  CHECK(doc.cuts[0].pointer == "/a/1/0/0");
  CHECK(pointer_within(doc.cuts[0].pointer, "/a/1"));
  CHECK(pointer_within(doc.cuts[0].pointer, "/a"));
  CHECK_FALSE(pointer_within(doc.cuts[0].pointer, "/a/10"));
  CHECK_FALSE(pointer_within(doc.cuts[0].pointer, "/b"));
}

TEST_CASE("Arrays and objects over their count are refused or cut at the tail", "[json_limits][items]") {
  auto err = refused(R"({"list":[1,2,3,4]})", small());
  CHECK(err.problem == json_problem::too_many_items);
  CHECK(err.pointer == "/list");
  CHECK(refused(R"({"a":1,"b":2,"c":3,"d":4})", small()).problem == json_problem::too_many_items);
  // A repeated name does not count twice.
  CHECK(parsed(R"({"a":1,"b":2,"c":3,"a":4})", small(), json_overflow::refuse).value["a"] == 4);

  auto doc = parsed(R"({"list":[1,2,3,[4,5],{"x":6},7],"o":{"a":1,"b":2,"c":3,"d":{"e":[]},"f":5}})", small(),
                    json_overflow::cut);
  CHECK(doc.value == json::parse(R"({"list":[1,2,3],"o":{"a":1,"b":2,"c":3}})"));
  REQUIRE(doc.cuts.size() == 2);
  CHECK(doc.cuts[0].problem == json_problem::too_many_items);
  CHECK(doc.cuts[0].pointer == "/list");
  CHECK(doc.cuts[0].dropped == 3);
  CHECK(doc.cuts[1].pointer == "/o");
  CHECK(doc.cuts[1].dropped == 2);
}

TEST_CASE("Strings and names over max_string_bytes are refused or cut on a character boundary",
          "[json_limits][strings]") {
  auto err = refused(R"({"name":"123456789"})", small());
  CHECK(err.problem == json_problem::too_long_string);
  CHECK(err.pointer == "/name");
  CHECK(refused(R"({"123456789":1})", small()).problem == json_problem::too_long_string);

  // "ãããã" is 8 bytes; "aããã…" must not split the 2-byte ã.
  auto doc = parsed(R"({"s":"aãããã","123456789":true,"ok":"12345678"})", small(), json_overflow::cut);
  CHECK(doc.value["s"] == "aããã");
  CHECK(doc.value["12345678"] == true);
  CHECK(doc.value["ok"] == "12345678");
  REQUIRE(doc.cuts.size() == 2);
  CHECK(doc.cuts[0].pointer == "/s");
  CHECK(doc.cuts[1].problem == json_problem::too_long_string);
}

TEST_CASE("Too many values or too many cuts refuse the whole document", "[json_limits][size]") {
  json_limits l = small();
  l.max_array_items = 1000;
  std::string many = "[";
  for (int i = 0; i < 150; ++i)
    many += (i ? ",0" : "0");
  many += "]";
  json_parse_options cut;
  cut.overflow = json_overflow::cut;
  CHECK(refused(many, l, cut).problem == json_problem::too_many_values);
  CHECK(refused(R"([[[[[1]]]],[[[[1]]]],[[[[1]]]],[[[[1]]]],[[[[1]]]],[[[[1]]]]])", l, cut).problem
        == json_problem::too_many_values);
}

TEST_CASE("Pointers escape ~ and / and read back as dotted API fields", "[json_limits]") {
  auto doc = parsed(R"({"a/b":{"c~d":[[[[1]]]]}})", small(), json_overflow::cut);
  REQUIRE(doc.cuts.size() == 1);
  CHECK(doc.cuts[0].pointer == "/a~1b/c~0d/0/0");
  CHECK(field_of_pointer("/hours/monday/0") == "hours.monday.0");
  CHECK(field_of_pointer("/a~1b/c~0d") == "a/b.c~d");
  CHECK(field_of_pointer("") == "");
}

TEST_CASE("Syntax errors are 400s that never quote the document", "[json_limits][syntax]") {
  for (std::string text : std::vector<std::string>{"", "{", "{\"a\":}", "[1,]", "{\"secret patient words\" 1}", "1e999", "[1] [2]",
                           std::string("\"a\0b\"", 5), "\"\xff\""}) {
    INFO(text);
    auto err = refused(text, api_json_limits);
    CHECK(err.problem == json_problem::syntax);
    CHECK(api_error_of(err) == error_code::bad_request);
    CHECK(err.message.find("secret") == std::string::npos);
    CHECK(err.message.rfind("not valid JSON", 0) == 0);
  }
}

TEST_CASE("Repair makes strings with bad bytes parse, and only those", "[json_limits][utf8]") {
  json_parse_options repair;
  repair.repair_text = true;
  auto r = parse_json_limited("{\"t\":\"a\xff" "b\",\"u\":\"\\ud800x\",\"c\":\"x\x01y\",\"ok\":\"\\ud83d\\ude00\"}",
                              webhook_json_limits, repair);
  REQUIRE(std::holds_alternative<json_document>(r));
  auto& doc = std::get<json_document>(r);
  CHECK(doc.repaired);
  CHECK(doc.value["t"] == "a\xEF\xBF\xBD" "b");
  CHECK(doc.value["u"] == "\xEF\xBF\xBDx");
  CHECK(doc.value["c"] == "x\x01y");
  CHECK(doc.value["ok"] == "\xF0\x9F\x98\x80"); // a proper surrogate pair stays one emoji
  // Structure is never repaired.
  CHECK(refused("{\"a\":\xff}", webhook_json_limits, repair).problem == json_problem::syntax);
  CHECK(refused("{\"a\":\"x\"", webhook_json_limits, repair).problem == json_problem::syntax);
  // A lone low surrogate, and an escaped quote before it, are handled.
  bool changed = false;
  CHECK(repair_json_text(R"(["\"\udc00"])", changed) == R"(["\"\ufffd"])");
  CHECK(changed);
  CHECK(repair_json_text(R"(["\\udc00"])", changed) == R"(["\\udc00"])"); // an escaped backslash, not \u
  CHECK_FALSE(changed);
}

TEST_CASE("NUL and ill-formed UTF-8 become U+FFFD, one per maximal bad subpart", "[utf8]") {
  using namespace std::string_literals;
  auto clean = [](std::string s) {
    sanitise_utf8(s);
    return s;
  };
  const std::string r = "\xEF\xBF\xBD";
  CHECK(clean("Oi\0tudo"s) == "Oi" + r + "tudo");
  CHECK(clean("a\xff" "b") == "a" + r + "b");
  CHECK(clean("\xC0\xAF") == r + r);                     // overlong '/'
  CHECK(clean("\xED\xA0\x80") == r + r + r);             // an encoded surrogate
  CHECK(clean("\xF4\x90\x80\x80") == r + r + r + r);     // past U+10FFFF
  CHECK(clean("\xE2\x82") == r);                         // truncated €
  CHECK(clean("\xE2\x82" "x") == r + "x");
  CHECK(clean("ação €😀") == "ação €😀");
  std::string ok = "já";
  CHECK_FALSE(sanitise_utf8(ok));
  CHECK(is_valid_utf8("ação"));
  CHECK_FALSE(is_valid_utf8("\xC3"));
  CHECK(utf8_prefix_bytes("ãã", 3) == 2);
  std::string s = "ããã";
  CHECK(cut_utf8(s, 5));
  CHECK(s == "ãã");
}

TEST_CASE("Fuzz regression: an error naming a member with NUL stays printable", "[json_limits][fuzz]") {
  // Found by the admin_body fuzz target: {"\u0000working_hours":[[[...]]]} made an error
  // message holding a raw NUL (tests/data/fuzz/admin_body/regression_nul_member_too_deep.json).
  std::ifstream in(std::string(ATENDEAI_TEST_DATA) + "/fuzz/admin_body/regression_nul_member_too_deep.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(text.find("\\u0000") != std::string::npos);
  auto err = refused(text, api_json_limits);
  CHECK(err.problem == json_problem::too_deep);
  CHECK(is_valid_utf8(err.message));
  CHECK(err.message.find('\0') == std::string::npos);
  CHECK(err.pointer.find('\0') == std::string::npos);
  CHECK(err.message.rfind("nesting deeper than 32 levels at \xEF\xBF\xBDworking_hours.0.0", 0) == 0);

  std::string long_name(100'000, 'k');
  auto far = refused("{\"" + long_name + "\":1}", api_json_limits);
  CHECK(far.problem == json_problem::too_long_string);
  CHECK(far.pointer.size() <= 256);
}
