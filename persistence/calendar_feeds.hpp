#pragma once
/// The ICS feeds' SQL: which feed a public token names (through the SECURITY DEFINER
/// lookup: no clinic is known before it), a feed's token for staff and its rotation, and
/// the appointments a feed shows. Except for feed_of_token, every function runs in a
/// transaction already scoped to the clinic (set_clinic).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "core/ics.hpp"

namespace atendeai::persistence {

/// A feed: its clinic and its professional ("" for the clinic-wide feed).
struct feed_ref {
  std::string clinic_id;
  std::string professional_id;
};

/// The feed a token names, or nullopt (unknown token, or its clinic deactivated).
std::optional<feed_ref> feed_of_token(pqxx::transaction_base& tx, const std::string& token);

/// The current token of a professional's feed ("" professional: the clinic's); "" when
/// there is none (a professional of another clinic).
std::string feed_token(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& professional_id);

/// Replaces the feed's token (the old URL stops working at once); returns the new one.
std::string rotate_feed_token(pqxx::transaction_base& tx, const std::string& clinic_id,
                              const std::string& professional_id);

/// What a feed shows of the patient: their first name, or nothing.
enum class feed_patient_detail { first_name, none };

/// The feed's name and events: the appointments of the professional ("" for all of the
/// clinic's) starting from `past_days` before `now_s` (the node's clock, seconds since the
/// epoch) to `future_days` after it, cancelled ones included
/// (their events must be removed by subscribers), oldest first.
struct feed_contents {
  std::string name;
  std::vector<core::ics_event> events;
};
feed_contents feed_events(pqxx::transaction_base& tx, const feed_ref& feed, int64_t now_s, int past_days,
                          int future_days, feed_patient_detail detail);

} // namespace atendeai::persistence
