#pragma once
/// Every typed actor interface of the node: the whole message protocol on one page.
///
///   HTTP ──ingest──► ingest writer ──(commit)──► 200 to Meta     (2 thread hand-offs)
///                         └──process(stored)──► router
///   router ──process──► clinic ──process──► conversation ──record──► record writer
///   record writer ──(commit)──deliver──► sender ──► its delivery loop ──delivered──► record writer
///   (inbound → reply at the channel: ingest writer, router, clinic, conversation,
///   record writer, sender, delivery loop: 7 hand-offs, fewer when actors on the
///   scheduler share a thread.)
///   db_reader answers reads (clinic profiles, memories in batches, recovery sweeps).
///
///   Scheduling (the clinic serialises its agenda):
///   conversation ──flow──► clinic ──flow──► appointment_flow ──agenda/hold/book/...──► clinic
///   clinic ──agenda/book/reschedule/cancel──► db_reader (blocking SQL off the scheduler)
///   appointment_flow ──expired──► clinic ──expired──► conversation (silent patient told)
///
///   Admin API (api/ worker) ──reload(clinic)──► router ──reload──► clinic (profile + agenda again)
///                                                      └─reload──► senders (tokens again)
///   Cluster (CAF middleman): membership ──view──► router; router ──forwarded──► the owner
///   node's cluster_node (published on cluster.port) ──forwarded──► its router
///   (held while the owner is in the view but not connected yet).
///   Admin API on a clinic's actors (route table: core::placement::owner), clinic owned
///   elsewhere: the api/ worker ──api(forwarded_api)──► owner's cluster_node ──api──► its own
///   api/ worker (same checks) ──forwarded_reply──► the entry node writes it.
///   Catalogue change: router ──reload──► every peer's cluster_node ──reload──► its router.
///   Nodes/actors inspection: the api/ worker ──inspect──► every peer's cluster_node ──► its router.
///   Staff and operators:
///   admin API ──staff──► router ──staff──► clinic ──staff──► conversation ──record──► batch_writer
///   (the API worker waits on the action's staff_receipt, settled by the writer's commit)
///   admin API ──change──► clinic ──change──► db_reader (agenda changes, serialised with the chat's)
///   Tokens: sender ──token──► db_reader (per channel account, on first use and after a reload)
///   Jobs (reminders): router ──jobs──► db_reader (due clinics, then claim the owned ones)
///   router ──remind(due)──► clinic ──remind(proactive)──► conversation ──record──► record writer
///   clinic ──plan──► db_reader after a booking, move or staff change (reminders, the notice
///   of a staff change); ──finish──► to skip or hold
///   Waitlist: appointment_flow ──waitlist──► clinic ──waitlist──► db_reader (join);
///   clinic ──freed──► db_reader (a waitlist_offer job) ... router ──remind(due)──► clinic
///   ──waitlist/hold──► db_reader (who waits; the offer and its hold job) ──remind(proactive)──►
///   conversation; conversation ──offer(answer)──► clinic (book / decline / too late)
///   admin API ──inspect(query)──► router ──inspect(query)──► clinic ──inspect──► conversation / flow
///   Language model (optional): conversation ──ask / transcribe──► language_model worker
///   (blocking HTTP on its own thread; a voice note's token: ──token──► db_reader); the
///   conversation awaits the answer (its next message waits) and falls back to the rules.

#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/api_request.hpp"
#include "actors/cluster_messages.hpp"
#include "actors/inspect_messages.hpp"
#include "actors/messages.hpp"
#include "actors/model_messages.hpp"
#include "actors/scheduling_messages.hpp"

namespace atendeai::actors {

// -- atoms ---------------------------------------------------------------------

using ingest_atom = caf::atom_constant<caf::atom("ingest")>;       ///< make a webhook durable
using process_atom = caf::atom_constant<caf::atom("process")>;     ///< handle stored messages
using forwarded_atom = caf::atom_constant<caf::atom("forwarded")>; ///< stored messages another node sent its owner
using record_atom = caf::atom_constant<caf::atom("record")>;       ///< write a decision
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;     ///< send an outbox row
using delivered_atom = caf::atom_constant<caf::atom("delivered")>; ///< a delivery outcome
using flush_atom = caf::atom_constant<caf::atom("flush")>;         ///< commit the batch now
using load_atom = caf::atom_constant<caf::atom("load")>;           ///< a clinic's profile
using memory_atom = caf::atom_constant<caf::atom("memory")>;       ///< a conversation's memory
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;         ///< stored work left undone (recovery)
using replay_atom = caf::atom_constant<caf::atom("replay")>;       ///< a clinic's unanswered messages again
using resend_atom = caf::atom_constant<caf::atom("resend")>;       ///< a restarted sender's pending rows
using held_atom = caf::atom_constant<caf::atom("held")>;           ///< messages held for an unconnected owner
using token_atom = caf::atom_constant<caf::atom("token")>;         ///< a channel account's access token
using inspect_atom = caf::atom_constant<caf::atom("inspect")>;     ///< JSON snapshot of state
using health_atom = caf::atom_constant<caf::atom("health")>;       ///< dependency check
using tick_atom = caf::atom_constant<caf::atom("tick")>;           ///< periodic self-check
using drain_atom = caf::atom_constant<caf::atom("drain")>;         ///< flush before shutdown
using api_atom = caf::atom_constant<caf::atom("api")>;             ///< serve an admin API request
using agenda_atom = caf::atom_constant<caf::atom("agenda")>;       ///< a clinic's agenda view
using hold_atom = caf::atom_constant<caf::atom("hold")>;           ///< reserve a slot briefly
using release_atom = caf::atom_constant<caf::atom("release")>;     ///< drop a hold
using book_atom = caf::atom_constant<caf::atom("book")>;           ///< book an appointment
using reschedule_atom = caf::atom_constant<caf::atom("reschedule")>; ///< move an appointment
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;       ///< cancel an appointment
using flow_atom = caf::atom_constant<caf::atom("flow")>;           ///< a message for a booking flow
using expired_atom = caf::atom_constant<caf::atom("expired")>;     ///< a booking flow timed out
using reload_atom = caf::atom_constant<caf::atom("reload")>;       ///< a clinic's data changed (admin API)
using clinic_atom = caf::atom_constant<caf::atom("clinic")>;       ///< the actor of a clinic
using slots_atom = caf::atom_constant<caf::atom("slots")>;         ///< free slots (admin API)
using staff_atom = caf::atom_constant<caf::atom("staff")>;         ///< a staff reply or release of a conversation
using change_atom = caf::atom_constant<caf::atom("change")>;       ///< a staff change of the agenda
using view_atom = caf::atom_constant<caf::atom("view")>;           ///< the live cluster members
using whois_atom = caf::atom_constant<caf::atom("whois")>;         ///< a node's identity
using hello_atom = caf::atom_constant<caf::atom("hello")>;         ///< a peer introduces its node actor
using jobs_atom = caf::atom_constant<caf::atom("jobs")>;           ///< due jobs (the durable scheduler)
using plan_atom = caf::atom_constant<caf::atom("plan")>;           ///< plan an appointment's reminders
using finish_atom = caf::atom_constant<caf::atom("finish")>;       ///< end (or hold) a claimed job
using remind_atom = caf::atom_constant<caf::atom("remind")>;       ///< a due reminder / a proactive message
using confirm_atom = caf::atom_constant<caf::atom("confirm")>;     ///< confirm an appointment
using waitlist_atom = caf::atom_constant<caf::atom("waitlist")>;   ///< join the waitlist / who waits
using freed_atom = caf::atom_constant<caf::atom("freed")>;         ///< a time of the agenda became free
using offer_atom = caf::atom_constant<caf::atom("offer")>;         ///< a waitlist offer (its answer, its end)
using consent_atom = caf::atom_constant<caf::atom("consent")>;     ///< a patient's consent event (LGPD)
using ask_atom = caf::atom_constant<caf::atom("ask")>;             ///< a chat completion of the language model
using transcribe_atom = caf::atom_constant<caf::atom("transcribe")>; ///< a voice note to text

// -- interfaces ----------------------------------------------------------------

/// Blocking reads on its own connection (detached).
using db_reader_actor = caf::typed_actor<
  caf::replies_to<load_atom, std::string /*clinic_id*/>::with<clinic_profile_ptr>,
  /// A conversation's memory; the requests a reader has waiting are read in one statement.
  caf::replies_to<memory_atom, std::string /*clinic_id*/, std::string /*conversation_id*/>::with<
    conversation_snapshot>,
  /// Reads the memory requests waiting (sent to itself behind them).
  caf::reacts_to<flush_atom>,
  /// Inbound messages never answered older than the first age, and outbound messages not
  /// delivered older than the second (none when negative), from where this reader's
  /// previous sweep left off.
  caf::replies_to<sweep_atom, int32_t /*unanswered_min_age_s*/, int32_t /*pending_min_age_s*/>::with<
    recovery_work>,
  /// A clinic's unanswered inbound messages (of one conversation, or all when ""),
  /// replayed after a crash.
  caf::replies_to<replay_atom, std::string /*clinic_id*/, std::string /*conversation_id*/>::with<
    std::vector<stored_message>>,
  /// The WhatsApp account's own access token as stored: sealed under the data key when
  /// one is configured, the sender opens it ("" when it has none: the deployment's).
  caf::replies_to<token_atom, std::string /*clinic_id*/, std::string /*account_id*/>::with<std::string>,
  // The agenda's SQL for clinic actors (one clinic always uses the same reader, so its
  // writes stay in order). Slot conflicts are outcomes, not errors.
  caf::replies_to<agenda_atom, std::string /*clinic_id*/, int64_t /*from, ms since the epoch*/>::with<persistence::agenda_data>,
  caf::replies_to<book_atom, std::string /*clinic_id*/, std::string /*conversation_id*/, core::slot>::with<
    persistence::agenda_write>,
  caf::replies_to<reschedule_atom, std::string /*clinic_id*/, std::string /*appointment_id*/, core::slot>::with<
    persistence::agenda_write>,
  caf::replies_to<cancel_atom, std::string /*clinic_id*/, std::string /*appointment_id*/, std::string /*reason*/>::with<
    persistence::agenda_write>,
  caf::replies_to<change_atom, std::string /*clinic_id*/, persistence::staff_change, int64_t /*now, ms*/>::with<
    persistence::staff_write>,
  caf::replies_to<confirm_atom, std::string /*clinic_id*/, std::string /*appointment_id*/>::with<
    persistence::agenda_write>,
  // The durable job scheduler (migration 0016): clinics with due jobs; claim the due
  // reminders of the clinics this node owns; plan an appointment's reminders ("" = all
  // of the clinic's); end a claimed job (skipped / failed) or hold it (pending until due).
  caf::replies_to<jobs_atom, int64_t /*now, ms*/>::with<core::due_jobs>,
  caf::replies_to<jobs_atom, std::vector<std::string> /*clinic ids*/, int64_t /*now, ms*/>::with<
    std::vector<core::due_reminder>>,
  caf::reacts_to<plan_atom, std::string /*clinic_id*/, std::string /*appointment_id*/,
                 std::string /*staff change to tell the patient: created|moved|cancelled, or ""*/, int64_t /*now, ms*/>,
  caf::reacts_to<finish_atom, std::string /*clinic_id*/, std::string /*job_id*/, std::string /*state*/,
                 std::string /*outcome*/, int64_t /*due, ms*/>,
  // The waitlist (migration 0019): a conversation's patient joins it (the entry's id); a
  // freed time becomes a waitlist_offer job while someone waits (the scheduler is nudged);
  // who may take a freed time, in order; an offer of a time held until a moment (its id, ""
  // when the entry no longer waits or the time is held for someone else); an offer (id ""
  // when none); an open offer ended as a state (accepted with its appointment), as it was
  // (id "" when it was no longer open).
  caf::replies_to<waitlist_atom, std::string /*clinic_id*/, std::string /*conversation_id*/, core::waitlist_wish,
                  std::string /*lang*/>::with<std::string>,
  caf::reacts_to<freed_atom, std::string /*clinic_id*/, core::slot, int64_t /*now, ms*/>,
  /// The conversation's patient leaves every waitlist (how many they were on; a withdrawn
  /// offer's hold job falls due and the scheduler is nudged).
  caf::replies_to<waitlist_atom, std::string /*clinic_id*/, std::string /*conversation_id*/>::with<int32_t>,
  caf::replies_to<waitlist_atom, std::string /*clinic_id*/, core::slot /*freed*/, int64_t /*now, ms*/>::with<
    core::waitlist_round>,
  caf::replies_to<hold_atom, std::string /*clinic_id*/, std::string /*entry_id*/, core::slot,
                  int64_t /*hold until, ms*/>::with<std::string>,
  caf::replies_to<offer_atom, std::string /*clinic_id*/, std::string /*offer_id*/>::with<core::waitlist_offer>,
  caf::replies_to<offer_atom, std::string /*clinic_id*/, std::string /*offer_id*/, std::string /*state*/,
                  std::string /*appointment_id*/>::with<core::waitlist_offer>,
  /// A consent event of the conversation's patient (migration 0020, append-only): true once
  /// written (the patient is answered after it).
  caf::replies_to<consent_atom, std::string /*clinic_id*/, std::string /*conversation_id*/, std::string /*event*/,
                  std::string /*legal_basis*/, std::string /*text_version*/, std::string /*channel*/>::with<bool>>;

/// Group commit (detached, owns its connection). Ingest writers make webhooks durable
/// and acknowledge them; record writers write decisions and delivery outcomes. A writer
/// commits as soon as its previous commit returned (pipelined), never waiting on a timer.
using batch_writer_actor = caf::typed_actor<
  caf::reacts_to<ingest_atom, webhook_request>,
  caf::reacts_to<record_atom, reply_record>,
  caf::reacts_to<delivered_atom, delivery_record>,
  caf::reacts_to<flush_atom>,
  caf::replies_to<drain_atom>::with<bool>,
  caf::replies_to<inspect_atom>::with<std::string>>;

/// Delivers outbox rows to the channel's API or the local sink through its delivery loop
/// (a thread of its own: libcurl's multi interface, `sender.concurrency` requests at once).
/// It looks up each channel account's token itself (a reader's token answer), before the
/// account's first row and again after its clinic's channels changed (reload).
/// Drain answers once every row handed over before it was attempted (true: none is left
/// in backoff); tick is its own look at the loop while a drain waits.
using sender_actor = caf::typed_actor<
  caf::reacts_to<deliver_atom, outbox_item>,
  /// Read the account's token again (after a failed read).
  caf::reacts_to<token_atom, std::string /*clinic_id*/, std::string /*account_id*/>,
  /// The clinic's channels changed: its tokens are read again before their next use.
  caf::reacts_to<reload_atom, std::string /*clinic_id*/>,
  caf::replies_to<drain_atom>::with<bool>,
  caf::reacts_to<tick_atom>,
  caf::replies_to<inspect_atom>::with<std::string>>;

/// The optional language model's workers (ai.enabled; ai.workers of them, detached: each
/// makes its blocking HTTP calls on its own thread and keeps its provider connection).
/// They count calls, latency, failures, tokens and the circuit breaker's state; they
/// never see the clinic's rules: the conversation validates what comes back.
using language_model_actor = caf::typed_actor<
  /// A chat completion (outcome "breaker_open" at once while the breaker is open).
  caf::replies_to<ask_atom, model_call>::with<model_result>,
  /// A voice note fetched from the channel (the account's token read from a reader) and
  /// transcribed by the provider.
  caf::replies_to<transcribe_atom, media_call>::with<model_result>>;

/// One per (clinic, channel, contact): memory, understanding, replies.
using conversation_actor = caf::typed_actor<
  caf::reacts_to<process_atom, stored_message>,
  caf::reacts_to<tick_atom>,
  caf::reacts_to<expired_atom, flow_expiry>,
  /// Taken (true); the action's receipt tells when it is committed.
  caf::replies_to<staff_atom, staff_action>::with<bool>,
  /// A message unasked (a reminder): interactive inside the 24-hour window, else its template.
  caf::reacts_to<remind_atom, proactive_message>,
  caf::replies_to<inspect_atom>::with<std::string>>;

/// One per clinic, the tenant boundary: owns its conversations and booking flows, and
/// serialises every hold, booking, move and cancellation of its agenda.
using clinic_actor = caf::typed_actor<
  caf::reacts_to<process_atom, stored_message>,
  /// A conversation's message for its booking flow (spawned on demand).
  caf::replies_to<flow_atom, flow_request>::with<flow_reply>,
  /// The agenda as a conversation's flow sees it.
  caf::replies_to<agenda_atom, std::string /*conversation_id*/>::with<agenda_snapshot>,
  /// Hold a slot for an owner: booked = held, slot_taken = refused.
  caf::replies_to<hold_atom, std::string /*conversation_id*/, std::string /*owner*/, core::slot>::with<clinic_answer>,
  caf::reacts_to<release_atom, std::string /*owner*/, core::slot>,
  caf::replies_to<book_atom, std::string /*conversation_id*/, std::string /*owner*/, core::slot>::with<clinic_answer>,
  caf::replies_to<reschedule_atom, std::string /*conversation_id*/, std::string /*owner*/,
                  std::string /*appointment_id*/, core::slot>::with<clinic_answer>,
  caf::replies_to<cancel_atom, std::string /*conversation_id*/, std::string /*appointment_id*/>::with<clinic_answer>,
  /// The patient confirmed their appointment (a reminder's answer).
  caf::replies_to<confirm_atom, std::string /*conversation_id*/, std::string /*appointment_id*/>::with<clinic_answer>,
  /// A due reminder claimed by this node's scheduler: sent, held for quiet hours, or skipped
  /// (also the waitlist's jobs: offering a freed time, ending an offer's hold).
  caf::reacts_to<remind_atom, core::due_reminder>,
  /// A flow's patient joins the waitlist of its wish: waitlisted.
  caf::replies_to<waitlist_atom, std::string /*conversation_id*/, core::waitlist_wish, std::string /*lang*/>::with<
    clinic_answer>,
  /// The patient's answer to a waitlist offer (true: take it): the reply, "" when the offer
  /// is not this conversation's (answered like an unknown message).
  caf::replies_to<offer_atom, std::string /*conversation_id*/, std::string /*offer_id*/, bool /*accept*/>::with<
    std::string>,
  /// A flow expired: tell its conversation.
  caf::reacts_to<expired_atom, flow_expiry>,
  /// The clinic's data changed: read profile and agenda again (new messages wait for them).
  caf::reacts_to<reload_atom>,
  /// Its profile or agenda could not be read: try again.
  caf::reacts_to<load_atom>,
  /// Admin API: the free slots of a query, from the in-memory agenda.
  caf::replies_to<slots_atom, core::slot_query>::with<slot_list>,
  /// Admin API: create, move, cancel, attended, no-show (serialised with the chat's).
  caf::replies_to<change_atom, persistence::staff_change>::with<staff_answer>,
  caf::reacts_to<staff_atom, staff_action>,
  caf::replies_to<inspect_atom>::with<std::string>,
  /// Its live actors (clinic), their totals (summary), one conversation or flow.
  caf::replies_to<inspect_atom, inspect_query>::with<std::string>>;

/// One per booking in progress (clinic, conversation): drives core::next_flow_state.
using appointment_flow_actor = caf::typed_actor<
  caf::replies_to<flow_atom, flow_request>::with<flow_reply>,
  caf::reacts_to<tick_atom>,
  caf::replies_to<inspect_atom>::with<std::string>>;

/// A node's published endpoint (cluster.port): the only actor other nodes talk to.
using cluster_node_actor = caf::typed_actor<
  caf::reacts_to<forwarded_atom, std::vector<cluster_message>, std::string /*from node*/>,
  caf::replies_to<whois_atom>::with<node_identity>,
  /// An admin API request for a clinic this node owns: served by its own admin API worker.
  caf::replies_to<api_atom, forwarded_api>::with<forwarded_reply>,
  /// A clinic's data changed (committed on another node): handed to this node's router.
  caf::reacts_to<reload_atom, std::string /*clinic_id*/, std::string /*from node*/>,
  /// Live inspection of this node (node snapshot, actor totals), answered by its router.
  caf::replies_to<inspect_atom, inspect_query>::with<std::string>,
  /// A peer that connected to this node introduces itself and its node actor, so that
  /// this node uses that connection instead of opening a second one (two links between
  /// the same nodes break CAF 0.17's TLS transport).
  caf::reacts_to<hello_atom, node_identity, caf::strong_actor_ptr>>;

/// Writes this node's heartbeat to Redis, reads the live members, contacts seeds and
/// peers, and hands every change of the view to the router (detached: Redis blocks).
/// drain removes the heartbeat so peers see the leave at once.
using membership_actor = caf::typed_actor<
  caf::reacts_to<tick_atom>,
  /// Send the view to the router again (a fresh router after a crash has none).
  caf::reacts_to<view_atom>,
  /// A peer connected to this node and introduced its node actor (from cluster_node).
  caf::reacts_to<hello_atom, node_identity, caf::strong_actor_ptr>,
  caf::replies_to<drain_atom>::with<bool>>;

/// The live members as this node sees them (node-local, it holds handles).
struct cluster_view {
  std::vector<core::cluster_member> members;        ///< sorted by id, this node included
  std::map<std::string, cluster_node_actor> peers; ///< connected node actors by id
};

/// Entry point of stored channel traffic: finds clinics (on their owner node).
using router_actor = caf::typed_actor<
  caf::reacts_to<process_atom, std::vector<stored_message>>,
  /// Messages another node forwarded here: handled on this node, never forwarded again.
  caf::reacts_to<forwarded_atom, std::vector<stored_message>>,
  /// The live members changed: ownership moves.
  caf::reacts_to<view_atom, cluster_view>,
  /// Sender #i was restarted: hand its pending outbox rows to its successor.
  caf::reacts_to<resend_atom, int32_t /*sender index*/>,
  /// The periodic recovery sweep (also the first one, once ownership is known).
  caf::reacts_to<tick_atom>,
  /// The durable job scheduler: a nudge (jobs were planned: look now) and its own timer
  /// (the tick of that number; older ticks are dropped).
  caf::reacts_to<jobs_atom>,
  caf::reacts_to<jobs_atom, uint64_t /*tick*/>,
  /// A clinic's catalogue or channels changed: its live clinic actor reloads, the senders
  /// read its tokens again, and every connected peer is told.
  caf::reacts_to<reload_atom, std::string /*clinic_id*/>,
  /// The same, committed on another node: done here (logged with that node), not
  /// broadcast again.
  caf::reacts_to<reload_atom, std::string /*clinic_id*/, std::string /*from node*/>,
  /// The live members and connected peers as this node sees them (the admin API asks).
  caf::replies_to<view_atom>::with<cluster_view>,
  /// Messages held for an owner not connected yet: those older than cluster.dead_after_ms
  /// are left to the owner's sweep.
  caf::reacts_to<held_atom, std::string /*owner node*/>,
  /// The clinic's actor (spawned on demand); the admin API talks to it directly.
  caf::replies_to<clinic_atom, std::string /*clinic_id*/>::with<clinic_actor>,
  caf::reacts_to<staff_atom, staff_action>,
  caf::replies_to<inspect_atom>::with<std::string>,
  /// Live inspection: the node, actor totals, or passed on to the clinic's actor.
  caf::replies_to<inspect_atom, inspect_query>::with<std::string>>;

/// An admin API worker (api/, every route): tokens, rate limits, roles, tenants,
/// bodies, then the database work and bcrypt (detached: all of it blocks).
using api_worker_actor = caf::typed_actor<caf::reacts_to<api_atom, api_request>,
                                           /// A request another node forwarded (its clinic is owned here).
                                           caf::replies_to<api_atom, forwarded_api>::with<forwarded_reply>>;

/// Answers /health (detached: it may wait on a dead database).
using health_actor = caf::typed_actor<caf::reacts_to<health_atom, std::shared_ptr<http_responder>>>;

} // namespace atendeai::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::cluster_view)
