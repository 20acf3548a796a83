#include "api/validation.hpp"

#include <cctype>

#include "api/call.hpp"
#include "core/json_limits.hpp"

namespace atendeai::api {

using nlohmann::json;

// -- input validation ---------------------------------------------------------------------

/// Parses a JSON object body against its rules: unknown members, types, lengths and
/// control characters are refused naming the member.
json parse_body(const std::string& body, std::initializer_list<field_rule> rules) {
  if (body.size() > core::max_api_body)
    fail(core::error_code::payload_too_large, "body larger than " + std::to_string(core::max_api_body) + " bytes");
  // Limits on depth, lengths and size are enforced while parsing (core/json_limits.hpp):
  // not JSON → 400, over a limit → 422 naming it.
  auto parsed = core::parse_json_limited(body, core::api_json_limits);
  if (auto* err = std::get_if<core::json_error>(&parsed))
    fail(core::api_error_of(*err), err->problem == core::json_problem::syntax ? "body is not valid JSON" : err->message,
         core::field_of_pointer(err->pointer));
  auto j = std::move(std::get<core::json_document>(parsed).value);
  if (!j.is_object())
    fail(core::error_code::bad_request, "body must be a JSON object");
  for (auto& [key, value] : j.items()) {
    const field_rule* rule = nullptr;
    for (auto& r : rules)
      if (key == r.name)
        rule = &r;
    if (!rule)
      fail(core::error_code::validation_failed, "unknown field", key.size() > 64 ? key.substr(0, 64) : key);
    if (rule->nullable && value.is_null())
      continue;
    switch (rule->type) {
      case ftype::string:
      case ftype::text: {
        if (!value.is_string())
          fail(core::error_code::validation_failed, "must be a string", key);
        auto& s = value.get_ref<const std::string&>();
        if (s.size() > rule->max_len)
          fail(core::error_code::validation_failed, "must have at most " + std::to_string(rule->max_len) + " bytes",
               key);
        const bool multiline = rule->type == ftype::text;
        for (unsigned char c : s)
          if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
            fail(core::error_code::validation_failed, "must not contain control characters", key);
        break;
      }
      case ftype::boolean:
        if (!value.is_boolean())
          fail(core::error_code::validation_failed, "must be true or false", key);
        break;
      case ftype::integer:
        if (!value.is_number_integer())
          fail(core::error_code::validation_failed, "must be an integer", key);
        break;
      case ftype::number:
        if (!value.is_number())
          fail(core::error_code::validation_failed, "must be a number", key);
        break;
      case ftype::object:
        if (!value.is_object())
          fail(core::error_code::validation_failed, "must be a JSON object", key);
        break;
      case ftype::array:
        if (!value.is_array())
          fail(core::error_code::validation_failed, "must be an array", key);
        if (value.size() > rule->max_len)
          fail(core::error_code::validation_failed, "must have at most " + std::to_string(rule->max_len) + " items",
               key);
        break;
    }
  }
  for (auto& r : rules)
    if (r.required && !j.contains(r.name))
      fail(core::error_code::validation_failed, "is required", r.name);
  return j;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? std::string() : it->get<std::string>();
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// A plain address: local@domain.tld, printable ASCII from a safe set, no spaces.
bool valid_email(const std::string& e) {
  auto at = e.find('@');
  if (e.size() < 3 || e.size() > 254 || at == std::string::npos || at == 0 || at > 64
      || e.find('@', at + 1) != std::string::npos)
    return false;
  auto domain = e.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string::npos || domain.front() == '.' || domain.back() == '.'
      || domain.find("..") != std::string::npos)
    return false;
  for (size_t i = 0; i < e.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(e[i]);
    bool ok = std::isalnum(c) || c == '.' || c == '-' || (i < at && (c == '_' || c == '+' || c == '%')) || i == at;
    if (!ok)
      return false;
  }
  return true;
}

bool valid_uuid(const std::string& s) {
  if (s.size() != 36)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-')
        return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

/// A person's name: letters (any script), digits, spaces and . , ' - only, so markup and
/// statement fragments are refused rather than stored.
std::string name_of(const json& body, const char* field) {
  auto n = str(body, field);
  for (unsigned char c : n)
    if (c < 0x80 && !std::isalnum(c) && c != ' ' && c != '.' && c != ',' && c != '\'' && c != '-')
      fail(core::error_code::validation_failed, "may hold letters, digits, spaces and . , ' - only", field);
  return n;
}

/// The e-mail member of a body, lower-cased and checked.
std::string email_of(const json& body, const char* field) {
  auto e = lower(str(body, field));
  if (!valid_email(e))
    fail(core::error_code::validation_failed, "must be an e-mail address", field);
  return e;
}

json nested_body(const json& body, const char* parent, std::initializer_list<field_rule> rules) {
  try {
    return parse_body(body.at(parent).dump(), rules);
  } catch (api_failure& f) {
    f.field = f.field.empty() ? parent : std::string(parent) + "." + f.field;
    throw;
  }
}

void refuse(const std::invalid_argument& e, const std::string& prefix) {
  std::string what = e.what();
  auto colon = what.find(": ");
  if (colon == std::string::npos)
    fail(core::error_code::validation_failed, what, prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1));
  fail(core::error_code::validation_failed, what.substr(colon + 2), prefix + what.substr(0, colon));
}

page_query parse_query(const std::map<std::string, std::string>& q, std::initializer_list<const char*> allowed) {
  page_query out;
  for (auto& [k, v] : q) {
    auto number = [&](int lo, int hi) {
      if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos)
        fail(core::error_code::validation_failed, "must be an integer", k);
      int n = std::stoi(v);
      if (n < lo || n > hi)
        fail(core::error_code::validation_failed,
             "must be between " + std::to_string(lo) + " and " + std::to_string(hi), k);
      return n;
    };
    if (k == "page") {
      out.page = number(1, 100000);
    } else if (k == "per_page") {
      out.per_page = number(1, 100);
    } else {
      bool known = false;
      for (auto a : allowed)
        known = known || k == a;
      if (!known)
        fail(core::error_code::validation_failed, "unknown query parameter", k.size() > 64 ? k.substr(0, 64) : k);
      if (v.size() > 200)
        fail(core::error_code::validation_failed, "too long", k);
      out.rest[k] = v;
    }
  }
  return out;
}

/// Accepts an ISO-8601 date or timestamp made of digits, '-', ':', 'T', 'Z', '.', '+'.
bool plausible_timestamp(const std::string& s) {
  if (s.size() < 10 || s.size() > 35 || !std::isdigit(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-' && c != ':' && c != 'T' && c != 'Z' && c != '.'
        && c != '+')
      return false;
  return s[4] == '-' && s[7] == '-';
}

} // namespace atendeai::api
