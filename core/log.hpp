#pragma once
/// Structured logging: one JSON object per line through spdlog. Fields carry ids
/// (clinic_id, conversation_id, correlation_id), never message bodies or phone numbers
/// above debug level.

#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace atendeai::core {

/// Logs `event` with `fields` at `level`. The message is the JSON object's members
/// without the opening brace; the logger's pattern opens it with time, level and node:
/// {"ts":...,"level":"info","node":"n1","event":"webhook_stored",...}.
inline void log_event(spdlog::level::level_enum level, const char* event, nlohmann::json fields = {}) {
  if (!spdlog::should_log(level))
    return;
  if (!fields.is_object())
    fields = nlohmann::json::object();
  fields["event"] = event;
  auto text = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  spdlog::log(level, "{}", std::string_view(text).substr(1));
}

} // namespace atendeai::core
