#pragma once
/// Deterministic actor tests: the node's actors run on CAF 0.17's test_coordinator
/// (scheduler policy "testing": nothing runs until the test steps it), with a manual
/// clock and stub service actors (reader, record writer, router) that record what they
/// are asked and answer as the test scripts them. No database, no sleeps, no wall clock.
///
/// The stubs are untyped actors with only the handlers a test needs, cast to the typed
/// handles the node wires (node_context); a message they do not handle comes back to its
/// requester as an error, which the test sees.

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

#include "actors/node_context.hpp"
#include "core/demo_clinic.hpp"
#include "core/slots.hpp"
#include "support/demo_ids.hpp"

namespace atendeai::test {

/// The demo clinic's ids (support/demo_ids.hpp), the clinic's as `ids::clinic`.
namespace ids {
using namespace demo;
inline const std::string& clinic = demo::clinic_id;
} // namespace ids

/// A local time in São Paulo (the demo clinic's zone, UTC-3 all year).
inline core::instant sp(int y, unsigned m, unsigned d, int h, int mi = 0) {
  return *core::local_instant(date::locate_zone("America/Sao_Paulo"),
                              date::year_month_day{date::year{y}, date::month{m}, date::day{d}}, h * 60 + mi);
}

/// One hour of a service with a professional.
inline core::slot slot_at(core::instant start, const std::string& prof = ids::ana,
                          const std::string& service = ids::cardio) {
  return {prof, service, start, start + std::chrono::minutes{60}};
}

/// A write to the agenda the stub reader was asked for and has not answered yet.
struct pending_write {
  std::string what;            ///< book, reschedule, cancel
  std::string conversation_id; ///< book
  std::string appointment_id;  ///< reschedule, cancel
  core::slot slot;             ///< book, reschedule
  caf::response_promise promise;
};

/// The stub database behind the reader and record writer: what they answer and what
/// they were asked, in order.
struct database_stub {
  // -- what it answers --------------------------------------------------------------
  actors::clinic_profile_ptr profile =
    std::make_shared<const core::clinic_profile>(core::demo_clinic()); ///< load (null: no such clinic)
  persistence::agenda_data agenda;      ///< agenda: the stored appointments, absences, closures
  actors::conversation_snapshot memory; ///< memory: a conversation's stored state
  /// book / reschedule / cancel: answered at once with this outcome, unless deferred.
  persistence::agenda_outcome outcome = persistence::agenda_outcome::ok;
  bool defer_writes = false; ///< keep writes pending until the test answers them

  // -- what it was asked ------------------------------------------------------------
  std::vector<std::string> asked;              ///< load, agenda, memory, recover, book, reschedule, cancel, staff
  std::vector<pending_write> writes;           ///< every agenda write asked, answered or not
  std::deque<pending_write> pending;           ///< the deferred ones not answered yet
  std::vector<persistence::staff_change> staff_changes;
  std::vector<actors::reply_record> records;   ///< what conversations wrote
  std::vector<std::string> planned;            ///< jobs planned: "<appointment>:<staff change>"
  std::vector<std::string> finished;           ///< jobs ended: "<job> <state> <outcome>"
  std::vector<core::slot> freed;               ///< times handed to the waitlist
  int next_appointment = 1;

  /// How many times `what` was asked.
  std::size_t count(const std::string& what) const {
    return static_cast<std::size_t>(std::count(asked.begin(), asked.end(), what));
  }

  /// Carries out a write on the stored appointments (the outcome scripted when not ok).
  persistence::agenda_write written(const pending_write& w) {
    persistence::agenda_write out;
    out.outcome = outcome;
    if (outcome != persistence::agenda_outcome::ok)
      return out;
    auto& rows = agenda.appointments;
    if (w.what == "book") {
      core::agenda_entry e;
      e.appointment = {"appt-" + std::to_string(next_appointment++), w.slot.professional_id, w.slot.service_id,
                       w.slot.start, w.slot.end, core::appointment_status::scheduled, "contact-" + w.conversation_id};
      e.conversation_id = w.conversation_id;
      rows.push_back(e);
      out.entry = e;
      return out;
    }
    auto row = std::find_if(rows.begin(), rows.end(),
                            [&](const core::agenda_entry& e) { return e.appointment.id == w.appointment_id; });
    if (row == rows.end()) {
      out.outcome = persistence::agenda_outcome::not_found;
      return out;
    }
    if (w.what == "reschedule") {
      row->appointment.start = w.slot.start;
      row->appointment.end = w.slot.end;
      out.entry = *row;
    } else if (w.what == "confirm") {
      row->appointment.status = core::appointment_status::confirmed;
      out.entry = *row;
    } else { // cancel
      out.entry = *row;
      out.entry->appointment.status = core::appointment_status::cancelled;
      rows.erase(row);
    }
    return out;
  }

  caf::result<persistence::agenda_write> write(caf::event_based_actor* self, pending_write w) {
    asked.push_back(w.what);
    writes.push_back(w);
    if (!defer_writes)
      return written(w);
    w.promise = self->make_response_promise();
    pending.push_back(w);
    return w.promise;
  }

  /// Answers the oldest deferred write with `how` (ok: the stored row), or with an
  /// error when `how` is negative. Runs in the reader (a promise is delivered by its actor).
  void answer_next(int how) {
    REQUIRE_FALSE(pending.empty());
    auto w = std::move(pending.front());
    pending.pop_front();
    if (how < 0) {
      w.promise.deliver(caf::make_error(caf::sec::request_timeout));
      return;
    }
    auto saved = outcome;
    outcome = static_cast<persistence::agenda_outcome>(how);
    w.promise.deliver(written(w));
    outcome = saved;
  }
};

using database_ptr = std::shared_ptr<database_stub>;

/// Test only: the reader answers its oldest deferred write (an agenda_outcome, or -1 for
/// an error).
using answer_atom = caf::atom_constant<caf::atom("answer")>;

/// The reader's protocol (db_reader_actor), answered from the stub.
inline caf::behavior reader_stub(caf::event_based_actor* self, database_ptr db) {
  return {
    [=](actors::load_atom, const std::string&) {
      db->asked.push_back("load");
      return db->profile;
    },
    [=](actors::agenda_atom, const std::string&, int64_t) {
      db->asked.push_back("agenda");
      return db->agenda;
    },
    [=](actors::memory_atom, const std::string&, const std::string&) {
      db->asked.push_back("memory");
      return db->memory;
    },
    [=](actors::replay_atom, const std::string&, const std::string&) {
      db->asked.push_back("recover");
      return std::vector<actors::stored_message>{};
    },
    [=](actors::book_atom, const std::string&, const std::string& conversation_id, const core::slot& s) {
      return db->write(self, {"book", conversation_id, {}, s, {}});
    },
    [=](actors::reschedule_atom, const std::string&, const std::string& appointment_id, const core::slot& s) {
      return db->write(self, {"reschedule", {}, appointment_id, s, {}});
    },
    [=](actors::cancel_atom, const std::string&, const std::string& appointment_id, const std::string&) {
      return db->write(self, {"cancel", {}, appointment_id, {}, {}});
    },
    [=](actors::confirm_atom, const std::string&, const std::string& appointment_id) {
      return db->write(self, {"confirm", {}, appointment_id, {}, {}});
    },
    [=](actors::plan_atom, const std::string&, const std::string& appointment_id, const std::string& change,
        int64_t) { db->planned.push_back(appointment_id + ":" + change); },
    [=](actors::finish_atom, const std::string&, const std::string& job, const std::string& state,
        const std::string& outcome, int64_t) { db->finished.push_back(job + " " + state + " " + outcome); },
    [=](actors::freed_atom, const std::string&, const core::slot& s, int64_t) { db->freed.push_back(s); },
    [=](answer_atom, int how) { db->answer_next(how); },
    [=](actors::change_atom, const std::string&, const persistence::staff_change& c, int64_t) {
      db->asked.push_back("staff");
      db->staff_changes.push_back(c);
      persistence::staff_write w;
      w.outcome = db->outcome;
      if (w.outcome == persistence::agenda_outcome::ok) {
        persistence::appointment_record r;
        r.entry.appointment = {"appt-staff-" + std::to_string(db->next_appointment++), c.slot.professional_id,
                               c.slot.service_id, c.slot.start, c.slot.end, core::appointment_status::scheduled,
                               "contact-staff"};
        r.entry.patient_phone = c.patient_phone;
        w.record = r;
      }
      return w;
    },
  };
}

/// The record writer's protocol (batch_writer_actor): keeps what conversations write.
inline caf::behavior writer_stub(caf::event_based_actor*, database_ptr db) {
  return {
    [=](actors::record_atom, actors::reply_record& r) { db->records.push_back(std::move(r)); },
  };
}

/// An actor that only stays alive (a parent to monitor).
inline caf::behavior idle_stub(caf::event_based_actor*) {
  return {
    [](actors::tick_atom) {},
  };
}

/// The actor system on the deterministic scheduler, a node wired to the stubs, and a
/// scoped actor to talk to the actors under test.
struct actor_fixture {
  static caf::actor_system_config& testing(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    return cfg;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{testing(cfg)};
  caf::scheduler::test_coordinator& sched{dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())};
  caf::scoped_actor self{sys, true};
  database_ptr db = std::make_shared<database_stub>();
  std::shared_ptr<core::manual_clock> clock = std::make_shared<core::manual_clock>(sp(2026, 11, 23, 8));
  std::shared_ptr<actors::node_context> wiring = std::make_shared<actors::node_context>();
  actors::node_context_ptr node = wiring;
  caf::actor reader = sys.spawn(reader_stub, db);
  caf::actor writer = sys.spawn(writer_stub, db);
  caf::actor parent = sys.spawn(idle_stub);
  std::vector<caf::actor> under_test; ///< stopped at the end (see ~actor_fixture)

  actor_fixture() {
    // Actors still alive at the end (the ones under test) are left to the system.
    sys.await_actors_before_shutdown(false);
    spdlog::set_level(spdlog::level::err); // the actors' info and warning lines are expected here
    wiring->metrics = std::make_shared<core::metrics_registry>();
    wiring->clock = clock;
    wiring->readers.add(caf::actor_cast<actors::db_reader_actor>(reader));
    wiring->writers.add(caf::actor_cast<actors::batch_writer_actor>(writer));
  }

  /// Every actor still alive is stopped before the system goes: its shutdown runs the
  /// test coordinator until no timer is left, and a live actor's periodic timer (a
  /// conversation's idle check) would fire for ever.
  ~actor_fixture() {
    for (auto& a : under_test) // not kill: a clinic stops its children on its exit message
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
    for (auto& a : std::vector<caf::actor>{reader, writer, parent})
      caf::anon_send_exit(a, caf::exit_reason::kill);
    run();
  }

  /// An actor under test, stopped at the end (with the children it stops).
  template <class Handle>
  Handle watch(Handle h) {
    under_test.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  /// Runs every job until none is left (messages only: timers fire when the test
  /// triggers them); the number run.
  std::size_t run() {
    std::size_t n = 0;
    while (sched.try_run_once())
      REQUIRE(++n < 100000); // a loop of messages would never end
    return n;
  }

  /// Moves the node's clock and fires every timer due on CAF's test clock (delayed
  /// messages, request timeouts), then runs what they caused.
  void advance(std::chrono::milliseconds d) {
    clock->advance(d);
    sched.trigger_timeouts();
    run();
  }

  /// The reader answers its oldest deferred write: stored (`how` ok), refused, or an
  /// error (`fail`); then the system runs.
  void answer_write(persistence::agenda_outcome how = persistence::agenda_outcome::ok, bool fail = false) {
    self->send(reader, answer_atom::value, fail ? -1 : static_cast<int>(how));
    run();
  }

  /// True when the scoped actor has a message waiting (an answer or a down message).
  bool has_mail() { return !self->mailbox().empty(); }

  /// Sends a request as the test, runs the system, and returns the answer (the test
  /// fails when there is none or it is an error).
  template <class T, class Handle, class... Ts>
  T ask(const Handle& dest, Ts&&... xs) {
    auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    run();
    REQUIRE(has_mail());
    T out;
    handle.receive([&](T& x) { out = std::move(x); },
                   [&](caf::error& err) { FAIL("error answer: " << sys.render(err)); });
    return out;
  }

  /// Like ask, for an error answer: the error.
  template <class T, class Handle, class... Ts>
  caf::error ask_error(const Handle& dest, Ts&&... xs) {
    auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    run();
    REQUIRE(has_mail());
    caf::error out;
    handle.receive([&](T&) { FAIL("answered, no error"); }, [&](caf::error& err) { out = std::move(err); });
    return out;
  }
};

} // namespace atendeai::test
