#include "core/json_limits.hpp"

#include <optional>

#include "core/utf8.hpp"

namespace atendeai::core {

namespace {

using json = nlohmann::json;

/// Builds the document from nlohmann's SAX events, checking every limit before a value
/// is built. The parser itself is iterative; so is this builder.
class limited_builder {
public:
  limited_builder(json& root, const json_limits& limits, json_overflow overflow)
    : root_(root), limits_(limits), overflow_(overflow) {}

  bool null() { return scalar(nullptr); }
  bool boolean(bool v) { return scalar(v); }
  bool number_integer(json::number_integer_t v) { return scalar(v); }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(v); }
  bool number_float(json::number_float_t v, const std::string&) { return scalar(v); }
  bool binary(json::binary_t&) { return scalar(nullptr); } // never sent by the JSON parser

  bool string(std::string& v) {
    if (skip_ > 0)
      return true;
    json* slot = next_slot();
    if (!slot)
      return !error_;
    if (v.size() > limits_.max_string_bytes) {
      if (!overflow(json_problem::too_long_string, pointer(stack_.size()),
                    "a string longer than " + std::to_string(limits_.max_string_bytes) + " bytes"))
        return false;
      cut_utf8(v, limits_.max_string_bytes);
    }
    *slot = std::move(v);
    return true;
  }

  bool start_object(std::size_t) { return start(json::value_t::object); }
  bool start_array(std::size_t) { return start(json::value_t::array); }
  bool end_object() { return end(); }
  bool end_array() { return end(); }

  bool key(std::string& k) {
    if (skip_ > 0)
      return true;
    auto& top = stack_.back();
    auto& members = *top.container->get_ptr<json::object_t*>();
    if (k.size() > limits_.max_string_bytes) {
      auto where = pointer(stack_.size() - 1);
      append_pointer_token(where, std::string_view(k).substr(0, utf8_prefix_bytes(k, 64)));
      if (!overflow(json_problem::too_long_string, std::move(where),
                    "a member name longer than " + std::to_string(limits_.max_string_bytes) + " bytes"))
        return false;
      cut_utf8(k, limits_.max_string_bytes);
    }
    if (members.size() >= limits_.max_object_members && members.find(k) == members.end()) {
      if (overflow_ == json_overflow::refuse)
        return fail(json_problem::too_many_items, pointer(stack_.size() - 1),
                    "an object with more than " + std::to_string(limits_.max_object_members) + " members");
      ++top.dropped;
      drop_member_ = true;
      return true;
    }
    // Like nlohmann's own DOM parser, a repeated name keeps the last value.
    auto [it, inserted] = members.emplace(std::move(k), nullptr);
    if (!inserted)
      it->second = nullptr;
    top.key = &it->first;
    member_slot_ = &it->second;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    if (!error_)
      error_ = json_error{json_problem::syntax, "not valid JSON (at byte " + std::to_string(position) + ")", "",
                          position};
    return false;
  }

  std::optional<json_error>& error() { return error_; }
  std::vector<json_cut>& cuts() { return cuts_; }

private:
  /// An open array or object and, for an object, the name of the member being built.
  struct frame {
    json* container;
    const std::string* key = nullptr;
    size_t dropped = 0; ///< items or members dropped (json_overflow::cut)
  };

  bool scalar(json v) {
    if (skip_ > 0)
      return true;
    json* slot = next_slot();
    if (!slot)
      return !error_;
    *slot = std::move(v);
    return true;
  }

  bool start(json::value_t type) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    json* slot = next_slot();
    if (!slot) {
      if (error_)
        return false;
      skip_ = 1; // an item over the count: its whole subtree is read and forgotten
      return true;
    }
    if (stack_.size() + 1 > limits_.max_depth) {
      if (!overflow(json_problem::too_deep, pointer(stack_.size()),
                    "nesting deeper than " + std::to_string(limits_.max_depth) + " levels"))
        return false;
      *slot = nullptr;
      skip_ = 1;
      return true;
    }
    *slot = json(type);
    stack_.push_back({slot});
    return true;
  }

  bool end() {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    if (stack_.back().dropped > 0)
      record({json_problem::too_many_items, pointer(stack_.size() - 1), stack_.back().dropped});
    stack_.pop_back();
    return !error_;
  }

  /// Where the next value goes, counted against max_values; nullptr when it is dropped
  /// (an item over the count, cut mode) or refused (error_ set).
  json* next_slot() {
    if (++values_ > limits_.max_values) {
      fail(json_problem::too_many_values, "", "more than " + std::to_string(limits_.max_values) + " values");
      return nullptr;
    }
    if (stack_.empty())
      return &root_;
    auto& top = stack_.back();
    if (top.container->is_object()) {
      if (drop_member_) {
        drop_member_ = false;
        --values_;
        return nullptr;
      }
      return member_slot_;
    }
    auto& items = *top.container->get_ptr<json::array_t*>();
    if (items.size() >= limits_.max_array_items) {
      --values_;
      if (overflow_ == json_overflow::refuse) {
        fail(json_problem::too_many_items, pointer(stack_.size() - 1),
             "an array with more than " + std::to_string(limits_.max_array_items) + " items");
        return nullptr;
      }
      ++top.dropped;
      return nullptr;
    }
    items.emplace_back();
    return &items.back();
  }

  /// The pointer of the value being built inside the first `frames` open containers.
  std::string pointer(size_t frames) const {
    std::string out;
    for (size_t i = 0; i < frames; ++i) {
      const auto& f = stack_[i];
      if (f.container->is_array())
        out += '/' + std::to_string(f.container->size() - 1);
      else if (f.key)
        append_pointer_token(out, *f.key);
    }
    return out;
  }

  /// A value over a per-value limit: refused, or recorded as cut. False when refused.
  bool overflow(json_problem problem, std::string where, std::string message) {
    if (overflow_ == json_overflow::refuse)
      return fail(problem, std::move(where), std::move(message));
    return record({problem, std::move(where), 0});
  }

  bool record(json_cut cut) {
    if (cuts_.size() >= limits_.max_cuts)
      return fail(json_problem::too_many_values, "",
                  "more than " + std::to_string(limits_.max_cuts) + " values over the limits");
    cuts_.push_back(std::move(cut));
    return true;
  }

  bool fail(json_problem problem, std::string where, std::string message) {
    if (!error_) {
      // The place is made of the document's own member names: printable and short
      // enough for an error body and a log line (NUL → U+FFFD, at most 256 bytes).
      sanitise_utf8(where);
      cut_utf8(where, 256);
      if (!where.empty())
        message += " at " + field_of_pointer(where);
      error_ = json_error{problem, std::move(message), std::move(where), 0};
    }
    return false;
  }

  // -- data members ---------------------------------------------------------------------
  json& root_;
  const json_limits& limits_;
  json_overflow overflow_;
  std::vector<frame> stack_;
  json* member_slot_ = nullptr; ///< the member the object's last key() made
  bool drop_member_ = false;    ///< the next value belongs to a member over the count
  size_t skip_ = 0;             ///< > 0: depth inside a subtree being skipped
  size_t values_ = 0;
  std::optional<json_error> error_;
  std::vector<json_cut> cuts_;
};

std::variant<json_document, json_error> parse_once(std::string_view text, const json_limits& limits,
                                                   json_overflow overflow) {
  json_document doc;
  limited_builder builder(doc.value, limits, overflow);
  bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json, true, false);
  if (!ok || builder.error()) {
    if (builder.error())
      return std::move(*builder.error());
    return json_error{json_problem::syntax, "not valid JSON", "", 0};
  }
  doc.cuts = std::move(builder.cuts());
  return doc;
}

} // namespace

std::string_view to_string(json_problem p) {
  switch (p) {
    case json_problem::syntax: return "syntax";
    case json_problem::too_deep: return "too_deep";
    case json_problem::too_many_items: return "too_many_items";
    case json_problem::too_long_string: return "too_long_string";
    case json_problem::too_many_values: return "too_many_values";
  }
  return "syntax";
}

std::variant<json_document, json_error> parse_json_limited(std::string_view text, const json_limits& limits,
                                                           const json_parse_options& options) {
  auto result = parse_once(text, limits, options.overflow);
  if (!options.repair_text)
    return result;
  auto* err = std::get_if<json_error>(&result);
  if (!err || err->problem != json_problem::syntax)
    return result;
  bool changed = false;
  auto repaired = repair_json_text(text, changed);
  if (!changed)
    return result;
  auto again = parse_once(repaired, limits, options.overflow);
  if (auto* doc = std::get_if<json_document>(&again)) {
    doc->repaired = true;
    return again;
  }
  return result; // still broken: report the original text's first error
}

void append_pointer_token(std::string& pointer, std::string_view token) {
  pointer += '/';
  for (char c : token) {
    if (c == '~')
      pointer += "~0";
    else if (c == '/')
      pointer += "~1";
    else
      pointer += c;
  }
}

error_code api_error_of(const json_error& e) {
  return e.problem == json_problem::syntax ? error_code::bad_request : error_code::validation_failed;
}

bool pointer_within(std::string_view pointer, std::string_view prefix) {
  if (pointer.size() < prefix.size() || pointer.substr(0, prefix.size()) != prefix)
    return false;
  return pointer.size() == prefix.size() || pointer[prefix.size()] == '/';
}

std::string field_of_pointer(std::string_view pointer) {
  std::string out;
  for (size_t i = 0; i < pointer.size(); ++i) {
    char c = pointer[i];
    if (c == '/') {
      if (i > 0)
        out += '.';
    } else if (c == '~' && i + 1 < pointer.size()) {
      out += pointer[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace atendeai::core
