#pragma once
/// One clinic's agenda as a value: its appointments, absences and closures (as read from
/// PostgreSQL) and the short holds of patients confirming, with the rules that admit or
/// refuse a hold, a booking, a move or a cancellation. Pure: "now" is passed in, nothing
/// is read or written. The clinic actor asks it, carries out what it decides (writes,
/// replies) and tells it the outcome of each write.
///
/// A granted book, reschedule or staff change places a hold on its slot for the write's
/// duration, so that no other request takes the slot while PostgreSQL writes; the actor
/// ends it with end_write() and records the stored appointment with record().

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/agenda.hpp"
#include "core/agenda_rules.hpp"
#include "core/clinic.hpp"
#include "core/clock.hpp"
#include "core/slots.hpp"

namespace atendeai::core {

/// What the agenda says to a hold, book, reschedule or cancel.
enum class agenda_verdict {
  granted,  ///< hold: held; book, reschedule, cancel: write it (the slot is held meanwhile)
  done,     ///< already so (a repeated book, a move to where it is): answer with the appointment
  refused,  ///< the slot is not free for this requester
  not_found ///< no such appointment in the agenda, or not this patient's
};

/// Why the agenda decided so.
enum class agenda_reason {
  free,                ///< the slot is one of the free slots
  own_hold,            ///< the requester's own live hold on this very slot
  repeated_book,       ///< the conversation booked this very time already (a resumed flow)
  same_time,           ///< the appointment is already at that time
  patients_appointment,///< cancel: an appointment of this patient
  booked,              ///< an active appointment of the professional overlaps the slot
  held,                ///< another requester's live hold overlaps the slot
  unavailable,         ///< not offered: hours, grid, policy, closure, absence or the day's maximum
  unreadable,          ///< the clinic's data cannot be read (an unknown time zone)
  unknown_appointment, ///< no such active appointment in the agenda
  not_patients         ///< the appointment belongs to another patient
};

/// The label of a reason ("held").
std::string_view to_string(agenda_reason r);
/// The label of a verdict ("granted").
std::string_view to_string(agenda_verdict v);

/// A decision and its reason, with the appointment it is about (done: as stored; cancel
/// granted: the one to cancel).
struct agenda_decision {
  agenda_verdict verdict = agenda_verdict::refused; ///< what to do
  agenda_reason reason = agenda_reason::unavailable; ///< why
  std::optional<core::appointment> appointment;      ///< the appointment concerned
  std::string detail;                                ///< unreadable: the error
};

/// Whether a staff change's time (create, reschedule) may be written, checked against
/// the agenda as the chat would offer it.
struct staff_time_check {
  std::optional<agenda_refusal> refusal; ///< refused: 409 or 422 naming the field
  bool taken = false;                    ///< refused because the time is taken (a conflict on it)
  std::vector<core::slot> alternatives;  ///< with `taken`: the nearest free slots
  std::optional<core::slot> slot;        ///< checked: hold it while writing (none: the database decides)
  std::string moving;                    ///< the appointment being moved, when it is in the agenda
};

/// The free slots of an admin API query, or why the query names nothing bookable.
struct slot_query_answer {
  std::vector<core::slot> slots; ///< sorted by start, then professional
  std::string field;             ///< non-empty: the query names no such service/professional
  std::string message;           ///< why, with field
};

/// A clinic's agenda and its admission rules.
class clinic_agenda {
public:
  /// An empty agenda of `profile`; holds last `hold_for` from when they are placed.
  clinic_agenda(std::shared_ptr<const clinic_profile> profile, std::chrono::minutes hold_for);

  // -- the clinic's data ----------------------------------------------------------

  /// The clinic's profile changed (hours, policy, services, time zone).
  void set_profile(std::shared_ptr<const clinic_profile> profile);
  /// The clinic's profile.
  const clinic_profile& profile() const { return *profile_; }
  /// Replaces the appointments, absences and closures with the ones read from
  /// PostgreSQL (active appointments only); holds and known numbers stay.
  void load(std::vector<agenda_entry> appointments, std::vector<absence> absences, std::vector<closure> closures);
  /// A conversation's patient number (E.164): their appointments are theirs by it too.
  void note_phone(const std::string& conversation_id, const std::string& phone);
  /// Forgets a conversation's number (neither its conversation nor its flow is live).
  void forget_phone(const std::string& conversation_id);

  // -- decisions --------------------------------------------------------------------

  /// Hold `s` for `owner` (a conversation while its patient confirms): granted (held now,
  /// or held again with a new expiry) when it is the owner's live hold or a free slot;
  /// refused otherwise. Expired holds are released first. The hold lasts until `until`
  /// (a waitlist offer's own hold), or the agenda's hold time from `now`.
  agenda_decision hold(const std::string& owner, const slot& s, instant now, std::optional<instant> until = std::nullopt);
  /// Drops `owner`'s hold on `s` (none: nothing happens).
  void release(const std::string& owner, const slot& s);
  /// Book `s` for the conversation's patient: done when the conversation booked this
  /// time with this professional already (a flow re-issuing its book after a restart);
  /// granted (held for the write) when it is the owner's live hold or a free slot.
  agenda_decision book(const std::string& conversation_id, const std::string& owner, const slot& s, instant now);
  /// Move the patient's appointment to `s`: not_found unless it is in the agenda and the
  /// conversation's patient owns it; done when it is already there; granted (held for the
  /// write) when `s` is the owner's hold or free once the appointment leaves its time.
  agenda_decision reschedule(const std::string& conversation_id, const std::string& owner,
                             const std::string& appointment_id, const slot& s, instant now);
  /// Cancel the patient's appointment: granted with it when the conversation's patient
  /// owns it, not_found otherwise.
  agenda_decision cancel(const std::string& conversation_id, const std::string& appointment_id) const;
  /// Releases every hold expired at `now`; the released ones.
  std::vector<core::hold> release_expired_holds(instant now);

  /// Checks a staff change's time: `reschedule` of `appointment_id` (service and,
  /// when `wanted.professional_id` is empty, professional kept) or a create of
  /// `wanted.service_id` with `wanted.professional_id` at `wanted.start`. A reschedule of
  /// an appointment not in the agenda (past, inactive, unknown) is left to the database.
  /// Throws std::invalid_argument when the clinic's time zone is unknown.
  staff_time_check check_staff_time(bool reschedule, const std::string& appointment_id, const slot& wanted,
                                    instant now) const;
  /// Up to five free slots nearest to `wanted` (none when it has no time), `moving` freed.
  /// Throws std::invalid_argument when the clinic's time zone is unknown.
  std::vector<slot> alternatives(const slot& wanted, const std::string& moving, instant now) const;
  /// The free slots of an admin API query, after checking its service (and professional).
  /// Throws std::invalid_argument when the clinic's time zone is unknown.
  slot_query_answer query_slots(const slot_query& q, instant now) const;

  // -- outcomes of writes -----------------------------------------------------------

  /// Holds `s` for `owner` while a write that was checked elsewhere (staff) runs.
  void hold_for_write(const std::string& owner, const slot& s, instant now);
  /// A write that held `s` for `owner` ended (written, refused or failed): the hold goes.
  void end_write(const std::string& owner, const slot& s) { release(owner, s); }
  /// An appointment as PostgreSQL stored it: replaces the one with its id; leaves the
  /// agenda when no longer active.
  void record(const agenda_entry& e);
  /// An appointment leaves the agenda (cancelled, or gone from PostgreSQL).
  void forget(const std::string& appointment_id);

  // -- what it holds ----------------------------------------------------------------

  /// Appointments, live holds, absences and closures at `now`, as slots are computed from.
  agenda_view view(instant now) const;
  /// The conversation's patient's active appointments from `now` on, by start.
  std::vector<appointment> patient_appointments(const std::string& conversation_id, instant now) const;
  /// True when the conversation's patient owns `e`: booked in it, for one of its
  /// contacts, or for its patient's number (staff, another channel, the other form of a
  /// Brazilian mobile).
  bool owns(const std::string& conversation_id, const agenda_entry& e) const;
  /// The appointment with this id in the agenda, or null.
  const agenda_entry* find(const std::string& appointment_id) const;
  /// Every active appointment in the agenda.
  const std::vector<agenda_entry>& appointments() const { return booked_; }
  /// Every hold, expired ones included until released.
  const std::vector<core::hold>& holds() const { return holds_; }

private:
  bool held_by(const std::string& owner, const slot& s, instant now) const;
  void put_hold(const std::string& owner, const slot& s, instant now, std::optional<instant> until = std::nullopt);
  /// Granted (own hold or free, placing the hold) or refused with the reason.
  agenda_decision admit(const std::string& owner, const slot& s, const std::string& moving,
                        std::optional<instant> until, instant now);
  /// Why a slot that is not free is refused.
  agenda_reason why_not_free(const std::string& owner, const slot& s, const std::string& moving, instant now) const;

  // -- data members -----------------------------------------------------------------

  std::shared_ptr<const clinic_profile> profile_;
  std::chrono::minutes hold_for_;
  std::vector<agenda_entry> booked_; ///< active appointments from yesterday on
  std::vector<absence> absences_;
  std::vector<closure> closures_;
  std::vector<core::hold> holds_;          ///< memory only
  std::unordered_map<std::string, std::string> phones_; ///< conversation id → patient number
};

} // namespace atendeai::core
