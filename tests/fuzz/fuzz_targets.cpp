#include "tests/fuzz/fuzz_targets.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <typeinfo>
#include <utility>

#include <date/date.h>
#include <nlohmann/json.hpp>

#include "core/agenda.hpp"
#include "core/clinic.hpp"
#include "core/date_rules.hpp"
#include "core/json_text.hpp"
#include "core/demo_clinic.hpp"
#include "core/error.hpp"
#include "core/format.hpp"
#include "core/json_limits.hpp"
#include "core/rbac.hpp"
#include "core/templates.hpp"
#include "core/understanding.hpp"
#include "core/utf8.hpp"
#include "core/whatsapp.hpp"

namespace atendeai::fuzz {

namespace {

using nlohmann::json;
namespace core = atendeai::core;

// -- invariants -----------------------------------------------------------------------------

void require(bool ok, const std::string& what) {
  if (!ok)
    fuzz_failure(what);
}

/// Text PostgreSQL stores: well-formed UTF-8 without NUL.
bool storable(std::string_view s) {
  return s.find('\0') == std::string_view::npos && core::is_valid_utf8(s);
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

/// Depth of a value (the root container is 1), without recursion; and whether every
/// string and member name in it is storable.
std::pair<size_t, bool> shape_of(const json& root) {
  size_t deepest = 0;
  bool clean = true;
  std::vector<std::pair<const json*, size_t>> todo{{&root, root.is_structured() ? 1 : 0}};
  while (!todo.empty()) {
    auto [v, depth] = todo.back();
    todo.pop_back();
    deepest = std::max(deepest, depth);
    if (v->is_string())
      clean = clean && storable(v->get_ref<const std::string&>());
    else if (v->is_array())
      for (auto& item : *v)
        todo.push_back({&item, item.is_structured() ? depth + 1 : depth});
    else if (v->is_object())
      for (auto it = v->begin(); it != v->end(); ++it) {
        clean = clean && storable(it.key());
        todo.push_back({&it.value(), it.value().is_structured() ? depth + 1 : depth});
      }
  }
  return {deepest, clean};
}

/// Runs a validator whose contract is to refuse bad input with std::invalid_argument
/// (the admin API turns that into a 422): anything else thrown is a finding.
void refuses_only_with_invalid_argument(const char* what, const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
  } catch (const std::exception& e) {
    fuzz_failure(std::string(what) + " threw " + typeid(e).name() + ": " + e.what());
  }
}

// -- targets --------------------------------------------------------------------------------

/// The WhatsApp webhook body: never a crash; what is kept is storable, within its
/// documented lengths and times, and survives the JSON round trip the cluster uses.
void whatsapp_webhook(std::string_view input) {
  constexpr int64_t received_at = 1732350500;
  auto result = core::parse_whatsapp_notification(input, received_at);
  if (auto* err = std::get_if<core::notification_error>(&result)) {
    require(storable(err->message), "error message not storable");
    (void)core::error_body(core::error_code::bad_request, err->message, err->field).dump();
    return;
  }
  auto& n = std::get<core::whatsapp_notification>(result);
  require(n.dropped >= n.dropped_ids.size(), "more dropped ids than dropped messages");
  for (auto& m : n.messages) {
    for (auto* s : {&m.account_id, &m.contact, &m.external_id, &m.type, &m.reply_id, &m.context_id})
      require(storable(*s) && s->size() <= core::max_id_bytes, "an id not storable or too long");
    require(!m.account_id.empty() && !m.contact.empty() && !m.external_id.empty() && !m.type.empty(),
            "a message without account, contact, id or type");
    require(storable(m.text) && code_points(m.text) <= core::max_text_chars, "text not storable or too long");
    require(storable(m.contact_name) && code_points(m.contact_name) <= core::max_name_chars,
            "name not storable or too long");
    require(storable(m.raw_timestamp) && m.raw_timestamp.size() <= core::max_raw_timestamp_bytes,
            "raw timestamp not storable or too long");
    require(m.timestamp >= 1 && m.timestamp <= core::max_timestamp, "timestamp out of range");
    require(m.raw_timestamp.empty() || m.timestamp == received_at, "raw timestamp kept with another time");
    require(m.raw_timestamp.empty() || m.sanitised, "timestamp replaced without the sanitised mark");
    auto [depth, clean] = shape_of(m.payload);
    require(depth <= core::webhook_json_limits.max_depth, "payload deeper than the limit");
    require(clean, "payload holds a string PostgreSQL refuses");
    auto stored = core::to_json(m).dump(); // throws on ill-formed UTF-8
    require(stored.find("\\u0000") == std::string::npos, "stored JSON holds \\u0000");
    auto back = core::inbound_from_json(json::parse(stored));
    require(back.external_id == m.external_id && back.text == m.text && back.timestamp == m.timestamp
              && back.raw_timestamp == m.raw_timestamp && back.sanitised == m.sanitised && back.payload == m.payload,
            "inbound message does not survive its JSON round trip");
  }
  for (auto& s : n.statuses) {
    for (auto* v : {&s.account_id, &s.external_id, &s.status, &s.recipient, &s.error})
      require(storable(*v), "a status string not storable");
    require(s.timestamp >= 1 && s.timestamp <= core::max_timestamp, "status timestamp out of range");
  }
  for (auto& i : n.ignored)
    require(storable(i), "an ignored note not storable");
}

/// Admin API bodies: parsed under the API limits (400/422 otherwise), then the core
/// validators the handlers call, which may only refuse with std::invalid_argument.
void admin_body(std::string_view input) {
  auto result = core::parse_json_limited(input, core::api_json_limits);
  if (auto* err = std::get_if<core::json_error>(&result)) {
    auto code = core::api_error_of(*err);
    require(code == core::error_code::bad_request || code == core::error_code::validation_failed,
            "a refused body that is neither 400 nor 422");
    require(storable(err->message), "error message not storable");
    (void)core::error_body(code, err->message, core::field_of_pointer(err->pointer)).dump();
    return;
  }
  const json& body = std::get<core::json_document>(result).value;
  require(shape_of(body).first <= core::api_json_limits.max_depth, "body deeper than the limit");
  static const core::clinic_profile demo = core::demo_clinic();
  auto validators = [&](const json& v) {
    refuses_only_with_invalid_argument("context_from_json", [&] {
      auto p = demo;
      core::context_from_json(v, p);
      auto again = demo;
      core::context_from_json(core::context_to_json(p), again);
      require(core::context_to_json(again) == core::context_to_json(p), "context does not survive its round trip");
    });
    refuses_only_with_invalid_argument("hours_from_json", [&] {
      auto h = core::hours_from_json(v);
      require(core::hours_from_json(core::hours_to_json(h)) == h, "hours do not survive their round trip");
    });
    refuses_only_with_invalid_argument("policy_from_json", [&] {
      auto p = core::policy_from_json(v, demo.policy);
      (void)core::policy_to_json(p).dump();
    });
    refuses_only_with_invalid_argument("appointment_from_json", [&] { (void)core::to_json(core::appointment_from_json(v)); });
    refuses_only_with_invalid_argument("slot_from_json", [&] { (void)core::to_json(core::slot_from_json(v)); });
    refuses_only_with_invalid_argument("hold_from_json", [&] { (void)core::to_json(core::hold_from_json(v)); });
    refuses_only_with_invalid_argument("absence_from_json", [&] { (void)core::to_json(core::absence_from_json(v)); });
    refuses_only_with_invalid_argument("closure_from_json", [&] { (void)core::to_json(core::closure_from_json(v)); });
  };
  validators(body);
  if (!body.is_object())
    return;
  // A template body as api/templates.cpp takes it: its refusal names a member and is a
  // storable error body; the text filled with the body's own strings stays storable.
  core::message_template t{"", "lembrete", "pt_BR", "utility", "Olá {{1}}", {}};
  std::vector<std::string> strings;
  for (auto& [key, value] : body.items())
    if (value.is_string()) {
      const auto& s = value.get_ref<const std::string&>();
      strings.push_back(s);
      if (key == "name")
        t.name = s;
      else if (key == "language")
        t.language = s;
      else if (key == "category")
        t.category = s;
      else
        t.body = s;
    } else if (key == "buttons" && value.is_array()) {
      for (auto& b : value)
        if (b.is_string())
          t.buttons.push_back(b.get<std::string>());
    }
  if (auto problem = core::validate_template(t)) {
    require(!problem->field.empty() && storable(problem->message), "a template refusal without a storable field");
    (void)core::error_body(core::error_code::validation_failed, problem->message, problem->field).dump();
  } else {
    require(core::parameter_count(t.body) >= 0 && t.buttons.size() <= core::max_template_buttons,
            "a valid template out of Meta's limits");
  }
  require(core::is_valid_utf8(core::fill_template(t.body, strings)), "a filled template that is not UTF-8");
  for (auto& [key, value] : body.items()) {
    validators(value); // handlers pass members on: body["working_hours"], body["context"]...
    if (!value.is_string())
      continue;
    const auto& s = value.get_ref<const std::string&>();
    if (auto t = core::parse_iso(s))
      require(core::parse_iso(core::format_iso(*t)) == t, "an instant does not survive format_iso");
    if (auto d = core::parse_ymd(s))
      require(d->ok() && core::parse_ymd(core::format_ymd(*d)) == d, "a date does not survive format_ymd");
    if (auto m = core::parse_hhmm(s))
      require(*m >= 0 && *m <= 1440, "a clock time out of the day");
    (void)core::parse_role(s);
    (void)core::known_timezone(s);
  }
}

/// The built-in understanding of a patient's message: any bytes, a sane result.
void understanding(std::string_view input) {
  static const core::clinic_profile clinic = core::demo_clinic();
  static const char* hints[] = {"", "pt-BR", "en"};
  if (input.size() < 3)
    return;
  auto hint = hints[static_cast<unsigned char>(input[0]) % 3];
  auto offset = static_cast<unsigned char>(input[1]) * 256 + static_cast<unsigned char>(input[2]);
  auto today = core::add_days(date::year{2026} / 1 / 1, offset - 32768);
  auto text = input.substr(3);
  auto u = core::understand(text, today, clinic, hint);
  require(std::isfinite(u.confidence) && u.confidence >= 0.0 && u.confidence <= 1.0, "confidence outside 0..1");
  require(u.lang == "pt-BR" || u.lang == "en", "unknown language " + u.lang);
  auto& e = u.entities;
  for (auto* d : {&e.date, &e.date_from, &e.date_to})
    require(!*d || (*d)->ok(), "an entity date that does not exist");
  require(!e.date_from || !e.date_to || *e.date_from <= *e.date_to, "a date range backwards");
  require(!e.time || (*e.time >= 0 && *e.time <= 1440), "a time outside the day");
  (void)core::to_json(u, clinic).dump();
  auto normal = core::normalize_text(text);
  require(!core::is_valid_utf8(text) || core::is_valid_utf8(normal), "normalize_text broke valid UTF-8");
}

/// The date rules: bytes pick "today" and numbers, the rest is words for scan_when.
void date_rules(std::string_view input) {
  if (input.size() < 9)
    return;
  auto byte = [&](size_t i) { return static_cast<unsigned char>(input[i]); };
  int year = 1 + (byte(0) * 256 + byte(1)) % 9999;
  auto ym = date::year{year} / date::month{1u + byte(2) % 12};
  auto today = date::year_month_day{ym / date::day{1u + byte(3) % 31}};
  if (!today.ok())
    today = date::year_month_day{ym / date::last};
  int n = static_cast<int>((byte(4) << 16 | byte(5) << 8 | byte(6)) % 6'000'001) - 3'000'000;
  unsigned day = 1 + byte(7) % 31;
  unsigned month = 1 + byte(8) % 12;
  using days = date::sys_days;

  require(core::add_days(core::add_days(today, n), -n) == today, "add_days does not invert");
  require(days{core::add_days(today, n)} - days{today} == date::days{n}, "add_days moved the wrong distance");
  for (int w = 0; w < 7; ++w) {
    auto next = core::next_weekday_after(today, w);
    require(next > today && days{next} - days{today} <= date::days{7} && core::weekday_of(next) == w,
            "next_weekday_after wrong");
  }
  auto dom = core::next_day_of_month(today, day);
  require(dom.ok() && dom >= today && static_cast<unsigned>(dom.day()) == day
            && days{dom} - days{today} <= date::days{92},
          "next_day_of_month wrong");
  if (auto dm = core::next_day_month(today, day, month)) {
    require(dm->ok() && *dm >= today && static_cast<unsigned>(dm->day()) == day
              && static_cast<unsigned>(dm->month()) == month && days{*dm} - days{today} <= date::days{366 * 8 + 2},
            "next_day_month wrong");
  } else {
    require(!(date::year{2000} / date::month{month} / date::day{day}).ok(), "next_day_month refused a real date");
  }
  auto [from, to] = core::next_week(today);
  require(core::weekday_of(from) == 1 && days{to} - days{from} == date::days{6} && from > today
            && days{from} - days{today} <= date::days{7},
          "next_week wrong");

  auto normal = core::normalize_text(input.substr(9));
  std::vector<std::string> words;
  for (size_t i = 0; i < normal.size();) {
    auto j = normal.find(' ', i);
    if (j == std::string::npos)
      j = normal.size();
    if (j > i)
      words.push_back(normal.substr(i, j - i));
    i = j + 1;
  }
  auto e = core::scan_when(words, today);
  for (auto* d : {&e.date, &e.date_from, &e.date_to})
    require(!*d || (*d)->ok(), "scan_when found a date that does not exist");
  require(!e.time || (*e.time >= 0 && *e.time <= 1440), "scan_when found a time outside the day");
}

/// The write path's JSON text (core::json_text): any bytes as a member name and a value,
/// nested; the text always parses, and gives back the bytes (ill-formed UTF-8 replaced).
void json_text(std::string_view input) {
  auto cut = input.empty() ? 0 : static_cast<unsigned char>(input[0]) % input.size();
  auto name = input.substr(0, cut), value = input.substr(cut);
  core::json_text t;
  t.begin_array().begin_object().key(name).string(value).key("n").integer(static_cast<int64_t>(input.size()));
  t.key("inner").begin_array().string(name).null().end_array().end_object().end_array();
  auto j = nlohmann::json::parse(t.str(), nullptr, false);
  require(!j.is_discarded(), "json_text wrote text that does not parse");
  auto expect = [](std::string_view s) {
    std::string out(s);
    if (!core::is_valid_utf8(out))
      core::sanitise_utf8(out);
    return out;
  };
  auto& obj = j.at(0);
  require(obj.size() == (expect(name) == "n" || expect(name) == "inner" ? 2u : 3u), "members lost or added");
  require(obj.at("inner").at(0) == expect(name), "a string did not read back");
  if (expect(name) != "n" && expect(name) != "inner")
    require(obj.at(expect(name)) == expect(value), "a value did not read back");
}

} // namespace

const std::vector<target>& targets() {
  static const std::vector<target> all = {
    {"whatsapp_webhook", whatsapp_webhook, 3'300'000},
    {"admin_body", admin_body, 66'000},
    {"understanding", understanding, 20'000},
    {"date_rules", date_rules, 20'000},
    {"json_text", json_text, 66'000},
  };
  return all;
}

} // namespace atendeai::fuzz
