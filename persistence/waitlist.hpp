#pragma once
/// The waitlist's SQL (migration 0019): joining it, planning the offer of a freed time
/// (a job, only while someone waits), the patients a freed time may go to in order,
/// recording an offer with its hold (and the job that ends the hold), answering or
/// ending an offer, and the staff's list and removal.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/clock.hpp"
#include "core/waitlist.hpp"

namespace atendeai::persistence {

/// Puts the conversation's patient on the waitlist for `wish` (joining again for the same
/// service keeps their place and takes the new wish); the entry's id.
std::string join_waitlist(pqxx::connection& conn, const std::string& clinic_id, const std::string& conversation_id,
                          const core::waitlist_wish& wish, const std::string& lang);

/// Plans the offer of a freed time as a job due at `now`, when the clinic has someone
/// waiting; true when planned. Each freeing is its own job (a time declined or run out is
/// freed again at the same clock reading): a second job for a time already offered finds
/// it held and ends without a candidate.
bool plan_waitlist_offer(pqxx::connection& conn, const std::string& clinic_id, const core::slot& freed,
                         core::instant now);

/// Who is waiting for a time of `freed.professional_id` (or any professional), in order:
/// not offered this very time before, not booked the service since they joined.
core::waitlist_round waitlist_candidates(pqxx::connection& conn, const std::string& clinic_id, const core::slot& freed,
                                   core::instant now);

/// Offers `s` to a waiting entry until `hold_until` (and plans the job that ends the
/// hold); the offer's id, or nullopt when the entry no longer waits or the time is held
/// for someone else.
std::optional<std::string> record_offer(pqxx::connection& conn, const std::string& clinic_id,
                                        const std::string& entry_id, const core::slot& s, core::instant hold_until);

/// An offer with its entry; nullopt when there is none.
std::optional<core::waitlist_offer> load_offer(pqxx::connection& conn, const std::string& clinic_id,
                                         const std::string& offer_id);

/// Ends an open offer as `state` (accepted with `appointment_id`: the entry is booked;
/// declined or expired: the entry waits again). The offer as it was; nullopt when it was
/// not open (answered, run out or withdrawn already).
std::optional<core::waitlist_offer> close_offer(pqxx::connection& conn, const std::string& clinic_id,
                                          const std::string& offer_id, const std::string& state,
                                          const std::string& appointment_id);

/// The clinic's waitlist for staff: entries (of one status, or open ones when "") in
/// order, with the patient, the wish and the open offer.
nlohmann::json list_waitlist(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& status);
/// One entry as listed; nullopt when there is none.
std::optional<nlohmann::json> find_waitlist_entry(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                  const std::string& entry_id);
/// Removes an open entry (by staff `by`): its open offer is withdrawn and the job ending
/// its hold falls due now, so the time goes to the next patient. The entry as it is
/// then; nullopt when there is none.
std::optional<nlohmann::json> remove_waitlist_entry(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                    const std::string& entry_id, const std::string& by);

/// The conversation's patient leaves every waitlist they are on (removed by "patient", an
/// open offer withdrawn as by staff); how many entries were open.
int leave_waitlist(pqxx::connection& conn, const std::string& clinic_id, const std::string& conversation_id);

} // namespace atendeai::persistence
