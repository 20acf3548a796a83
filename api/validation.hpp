#pragma once
/// Body and query validation of the admin API: refusals that name the member at fault
/// (400 unparseable, 422 unknown members, types, lengths, formats), and the small
/// checks handlers share (UUIDs, e-mail addresses, names, timestamps).

#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace atendeai::api {

/// A member's type; `text` is a string that may hold line breaks and tabs (messages).
enum class ftype { string, text, boolean, integer, number, object, array };

/// One member of a JSON body: its name, type, whether required, and its longest length
/// (bytes of a string, items of an array; ignored otherwise).
struct field_rule {
  const char* name;
  ftype type;
  bool required;
  size_t max_len;
  bool nullable = false; ///< null is accepted too (e.g. "off")
};

/// Parses a JSON object body against its rules: unknown members, types, lengths and
/// control characters are refused naming the member.
nlohmann::json parse_body(const std::string& body, std::initializer_list<field_rule> rules);

/// Parses a nested object member of a parsed body against its rules, naming
/// "parent.member" in refusals.
nlohmann::json nested_body(const nlohmann::json& body, const char* parent, std::initializer_list<field_rule> rules);

/// A string member, or "" when absent.
std::string str(const nlohmann::json& j, const char* key);
/// ASCII lower case.
std::string lower(std::string s);
/// A plain address: local@domain.tld.
bool valid_email(const std::string& e);
/// 8-4-4-4-12 hex digits.
bool valid_uuid(const std::string& s);
/// A person's or place's name member: letters (any script), digits, spaces and . , ' - only.
std::string name_of(const nlohmann::json& body, const char* field = "name");
/// The e-mail member of a body, lower-cased and checked.
std::string email_of(const nlohmann::json& body, const char* field = "email");
/// Accepts an ISO-8601 date or timestamp made of digits, '-', ':', 'T', 'Z', '.', '+'.
bool plausible_timestamp(const std::string& s);

/// Query string members: only `allowed` ones; page/per_page as bounded integers.
struct page_query {
  int page = 1;
  int per_page = 50;
  std::map<std::string, std::string> rest;
};
page_query parse_query(const std::map<std::string, std::string>& q, std::initializer_list<const char*> allowed);

/// A core parser's refusal ("json.path: reason") as a 422 naming `prefix` + the path.
[[noreturn]] void refuse(const std::invalid_argument& e, const std::string& prefix);

/// Runs a core parser, turning its std::invalid_argument into a 422 (paths under `prefix`).
template <class F>
auto validated(F&& f, const std::string& prefix = {}) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    refuse(e, prefix);
  }
}

} // namespace atendeai::api
