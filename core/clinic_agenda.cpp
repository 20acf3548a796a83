#include "core/clinic_agenda.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

namespace atendeai::core {

namespace {

bool overlaps(const slot& s, instant from, instant to) { return s.start < to && from < s.end; }

agenda_decision decide(agenda_verdict v, agenda_reason r, std::optional<appointment> a = std::nullopt) {
  agenda_decision d;
  d.verdict = v;
  d.reason = r;
  d.appointment = std::move(a);
  return d;
}

} // namespace

std::string_view to_string(agenda_reason r) {
  switch (r) {
    case agenda_reason::free: return "free";
    case agenda_reason::own_hold: return "own_hold";
    case agenda_reason::repeated_book: return "repeated_book";
    case agenda_reason::same_time: return "same_time";
    case agenda_reason::patients_appointment: return "patients_appointment";
    case agenda_reason::booked: return "booked";
    case agenda_reason::held: return "held";
    case agenda_reason::unavailable: return "unavailable";
    case agenda_reason::unreadable: return "unreadable";
    case agenda_reason::unknown_appointment: return "unknown_appointment";
    case agenda_reason::not_patients: return "not_patients";
  }
  return "unknown";
}

std::string_view to_string(agenda_verdict v) {
  switch (v) {
    case agenda_verdict::granted: return "granted";
    case agenda_verdict::done: return "done";
    case agenda_verdict::refused: return "refused";
    case agenda_verdict::not_found: return "not_found";
  }
  return "unknown";
}

clinic_agenda::clinic_agenda(std::shared_ptr<const clinic_profile> profile, std::chrono::minutes hold_for)
  : profile_(std::move(profile)), hold_for_(hold_for) {
  if (!profile_)
    throw std::invalid_argument("clinic_agenda: no profile");
}

// -- the clinic's data --------------------------------------------------------------

void clinic_agenda::set_profile(std::shared_ptr<const clinic_profile> profile) {
  if (profile)
    profile_ = std::move(profile);
}

void clinic_agenda::load(std::vector<agenda_entry> appointments, std::vector<absence> absences,
                         std::vector<closure> closures) {
  booked_ = std::move(appointments);
  for (const auto& e : booked_)
    if (!e.conversation_id.empty() && !e.patient_phone.empty())
      phones_.emplace(e.conversation_id, e.patient_phone);
  absences_ = std::move(absences);
  closures_ = std::move(closures);
}

void clinic_agenda::note_phone(const std::string& conversation_id, const std::string& phone) {
  if (!phone.empty())
    phones_[conversation_id] = phone;
}

void clinic_agenda::forget_phone(const std::string& conversation_id) { phones_.erase(conversation_id); }

// -- decisions ----------------------------------------------------------------------

bool clinic_agenda::held_by(const std::string& owner, const slot& s, instant now) const {
  return std::any_of(holds_.begin(), holds_.end(),
                     [&](const core::hold& h) { return h.owner == owner && h.slot == s && h.live(now); });
}

void clinic_agenda::release(const std::string& owner, const slot& s) {
  holds_.erase(std::remove_if(holds_.begin(), holds_.end(),
                              [&](const core::hold& h) { return h.owner == owner && h.slot == s; }),
               holds_.end());
}

void clinic_agenda::put_hold(const std::string& owner, const slot& s, instant now, std::optional<instant> until) {
  release(owner, s);
  holds_.push_back({s, until.value_or(now + hold_for_), owner});
}

void clinic_agenda::hold_for_write(const std::string& owner, const slot& s, instant now) { put_hold(owner, s, now); }

std::vector<core::hold> clinic_agenda::release_expired_holds(instant now) {
  std::vector<core::hold> released;
  auto live_end = std::stable_partition(holds_.begin(), holds_.end(), [&](const core::hold& h) { return h.live(now); });
  released.assign(std::make_move_iterator(live_end), std::make_move_iterator(holds_.end()));
  holds_.erase(live_end, holds_.end());
  return released;
}

agenda_reason clinic_agenda::why_not_free(const std::string& owner, const slot& s, const std::string& moving,
                                          instant now) const {
  for (const auto& e : booked_) {
    const auto& a = e.appointment;
    if (a.active() && a.id != moving && a.professional_id == s.professional_id && overlaps(s, a.start, a.end))
      return agenda_reason::booked;
  }
  for (const auto& h : holds_)
    if (h.live(now) && h.owner != owner && h.slot.professional_id == s.professional_id &&
        overlaps(s, h.slot.start, h.slot.end))
      return agenda_reason::held;
  return agenda_reason::unavailable;
}

agenda_decision clinic_agenda::admit(const std::string& owner, const slot& s, const std::string& moving,
                                     std::optional<instant> until,
                                     instant now) {
  release_expired_holds(now);
  if (held_by(owner, s, now)) {
    put_hold(owner, s, now, until);
    return decide(agenda_verdict::granted, agenda_reason::own_hold);
  }
  try {
    const auto* tz = clinic_zone(*profile_);
    auto day = local_date(tz, s.start);
    slot_query q;
    q.service_id = s.service_id;
    q.professional_id = s.professional_id;
    q.from = day;
    q.to = day;
    q.ignore_hold_owner = owner;
    if (!moving.empty())
      q.ignore_appointment_id = moving;
    auto free = free_slots(*profile_, q, view(now), now);
    if (std::find(free.begin(), free.end(), s) == free.end())
      return decide(agenda_verdict::refused, why_not_free(owner, s, moving, now));
  } catch (const std::exception& e) {
    auto d = decide(agenda_verdict::refused, agenda_reason::unreadable);
    d.detail = e.what();
    return d;
  }
  put_hold(owner, s, now, until);
  return decide(agenda_verdict::granted, agenda_reason::free);
}

agenda_decision clinic_agenda::hold(const std::string& owner, const slot& s, instant now,
                                    std::optional<instant> until) {
  return admit(owner, s, {}, until, now);
}

agenda_decision clinic_agenda::book(const std::string& conversation_id, const std::string& owner, const slot& s,
                                    instant now) {
  for (const auto& e : booked_)
    if (e.conversation_id == conversation_id && e.appointment.professional_id == s.professional_id &&
        e.appointment.start == s.start && e.appointment.active())
      return decide(agenda_verdict::done, agenda_reason::repeated_book, e.appointment);
  return admit(owner, s, {}, std::nullopt, now);
}

agenda_decision clinic_agenda::reschedule(const std::string& conversation_id, const std::string& owner,
                                          const std::string& appointment_id, const slot& s, instant now) {
  const auto* e = find(appointment_id);
  if (!e)
    return decide(agenda_verdict::not_found, agenda_reason::unknown_appointment);
  if (!owns(conversation_id, *e))
    return decide(agenda_verdict::not_found, agenda_reason::not_patients);
  if (e->appointment.professional_id == s.professional_id && e->appointment.start == s.start)
    return decide(agenda_verdict::done, agenda_reason::same_time, e->appointment);
  return admit(owner, s, appointment_id, std::nullopt, now);
}

agenda_decision clinic_agenda::cancel(const std::string& conversation_id, const std::string& appointment_id) const {
  const auto* e = find(appointment_id);
  if (!e)
    return decide(agenda_verdict::not_found, agenda_reason::unknown_appointment);
  if (!owns(conversation_id, *e))
    return decide(agenda_verdict::not_found, agenda_reason::not_patients);
  return decide(agenda_verdict::granted, agenda_reason::patients_appointment, e->appointment);
}

staff_time_check clinic_agenda::check_staff_time(bool reschedule, const std::string& appointment_id,
                                                 const slot& wanted, instant now) const {
  staff_time_check out;
  std::string service = wanted.service_id;
  std::string professional = wanted.professional_id;
  const auto* e = reschedule ? find(appointment_id) : nullptr;
  if (reschedule && !e)
    return out; // not in the agenda (past, inactive or unknown): PostgreSQL says which
  if (e) {
    if (auto r = check_transition(e->appointment, agenda_change::reschedule, now)) {
      out.refusal = std::move(r);
      return out;
    }
    out.moving = appointment_id;
    service = e->appointment.service_id;
    if (professional.empty())
      professional = e->appointment.professional_id;
  }
  slot s;
  if (auto r = make_slot(*profile_, service, professional, wanted.start, s)) {
    out.refusal = std::move(r);
    return out;
  }
  auto busy = view(now);
  if (auto r = check_slot(*profile_, s, busy, now, out.moving)) {
    out.taken = r->conflict;
    if (out.taken)
      out.alternatives = alternative_slots(*profile_, s, busy, now, 5, out.moving);
    out.refusal = std::move(r);
    return out;
  }
  out.slot = s;
  return out;
}

std::vector<slot> clinic_agenda::alternatives(const slot& wanted, const std::string& moving, instant now) const {
  if (!(wanted.end > wanted.start))
    return {};
  return alternative_slots(*profile_, wanted, view(now), now, 5, moving);
}

slot_query_answer clinic_agenda::query_slots(const slot_query& q, instant now) const {
  slot_query_answer out;
  if (q.professional_id) {
    slot probe;
    if (auto r = make_slot(*profile_, q.service_id, *q.professional_id, now, probe)) {
      out.field = r->field;
      out.message = r->message;
      return out;
    }
  } else if (std::none_of(profile_->services.begin(), profile_->services.end(),
                          [&](const service& s) { return s.id == q.service_id && s.active; })) {
    out.field = "service_id";
    out.message = "no such active service in this clinic";
    return out;
  }
  out.slots = free_slots(*profile_, q, view(now), now);
  return out;
}

// -- outcomes of writes ---------------------------------------------------------------

void clinic_agenda::record(const agenda_entry& e) {
  forget(e.appointment.id);
  if (e.appointment.active())
    booked_.push_back(e);
}

void clinic_agenda::forget(const std::string& appointment_id) {
  booked_.erase(std::remove_if(booked_.begin(), booked_.end(),
                               [&](const agenda_entry& e) { return e.appointment.id == appointment_id; }),
                booked_.end());
}

// -- what it holds --------------------------------------------------------------------

agenda_view clinic_agenda::view(instant now) const {
  agenda_view v;
  v.appointments.reserve(booked_.size());
  for (const auto& e : booked_)
    v.appointments.push_back(e.appointment);
  for (const auto& h : holds_)
    if (h.live(now))
      v.holds.push_back(h);
  v.absences = absences_;
  v.closures = closures_;
  return v;
}

std::vector<appointment> clinic_agenda::patient_appointments(const std::string& conversation_id,
                                                             instant now) const {
  std::vector<appointment> out;
  for (const auto& e : booked_)
    if (e.appointment.active() && e.appointment.start >= now && owns(conversation_id, e))
      out.push_back(e.appointment);
  std::stable_sort(out.begin(), out.end(), [](const appointment& a, const appointment& b) { return a.start < b.start; });
  return out;
}

bool clinic_agenda::owns(const std::string& conversation_id, const agenda_entry& e) const {
  if (e.conversation_id == conversation_id)
    return true;
  if (auto p = phones_.find(conversation_id); p != phones_.end() && p->second == e.patient_phone)
    return true;
  for (const auto& other : booked_)
    if (other.conversation_id == conversation_id && other.appointment.contact_id == e.appointment.contact_id)
      return true;
  return false;
}

const agenda_entry* clinic_agenda::find(const std::string& appointment_id) const {
  for (const auto& e : booked_)
    if (e.appointment.id == appointment_id)
      return &e;
  return nullptr;
}

} // namespace atendeai::core
