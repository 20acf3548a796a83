#pragma once
/// Gathering live inspections: a supervisor asks its children for their JSON snapshots in
/// parallel and reports one that does not answer in time as "busy" instead of waiting.
/// Include after <caf/all.hpp> (the templates use the request API).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/interfaces.hpp"

namespace atendeai::actors {

/// How long an actor may take to answer an inspection before it is reported busy.
inline constexpr std::chrono::milliseconds inspect_patience{1000};

/// The entry of an actor that did not answer within inspect_patience.
inline nlohmann::json busy_entry(const std::string& kind, const std::string& id) {
  return {{"kind", kind}, {"id", id}, {"live", true}, {"status", "busy"}, {"busy", true}};
}

/// Asks every (id, handle) of `targets` for its snapshot at once; calls `done` with the
/// array of answers (busy entries for the late ones) when the last one is in.
template <class Self, class Targets>
void gather_inspections(Self* self, const char* kind, const Targets& targets,
                        std::function<void(nlohmann::json)> done) {
  if (targets.empty()) {
    done(nlohmann::json::array());
    return;
  }
  auto out = std::make_shared<nlohmann::json>(nlohmann::json::array());
  auto left = std::make_shared<size_t>(targets.size());
  auto one_more = [out, left, done](nlohmann::json entry) {
    out->push_back(std::move(entry));
    if (--*left == 0)
      done(std::move(*out));
  };
  for (auto& [id, handle] : targets) {
    self->request(handle, inspect_patience, inspect_atom::value)
      .then([one_more](const std::string& s) { one_more(nlohmann::json::parse(s, nullptr, false)); },
            [one_more, key = std::string(id), k = std::string(kind)](const caf::error&) {
              one_more(busy_entry(k, key));
            });
  }
}

} // namespace atendeai::actors
