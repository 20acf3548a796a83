#pragma once
/// Every typed actor interface of the node: the whole message protocol on one page.
///
///   HTTP ──ingest──► router ──ingest(resolved)──► batch_writer ──(commit)──► 200 to Meta
///                      ▲                               │
///                      └─────────process(stored)───────┘
///   router ──process──► clinic ──process──► conversation ──record──► batch_writer
///   batch_writer ──(commit)──deliver──► sender ──delivered──► batch_writer
///   db_reader answers reads (channel owners, clinic profiles, memory, recovery scans).

#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/api_request.hpp"
#include "actors/messages.hpp"

namespace atendeai::actors {

// -- atoms ---------------------------------------------------------------------

using ingest_atom = caf::atom_constant<caf::atom("ingest")>;       ///< make a webhook durable
using process_atom = caf::atom_constant<caf::atom("process")>;     ///< handle stored messages
using record_atom = caf::atom_constant<caf::atom("record")>;       ///< write a decision
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;     ///< send an outbox row
using delivered_atom = caf::atom_constant<caf::atom("delivered")>; ///< a delivery outcome
using flush_atom = caf::atom_constant<caf::atom("flush")>;         ///< commit the batch now
using resolve_atom = caf::atom_constant<caf::atom("resolve")>;     ///< channel account → clinic
using load_atom = caf::atom_constant<caf::atom("load")>;           ///< a clinic's profile
using memory_atom = caf::atom_constant<caf::atom("memory")>;       ///< a conversation's memory
using recover_atom = caf::atom_constant<caf::atom("recover")>;     ///< unanswered/pending work
using inspect_atom = caf::atom_constant<caf::atom("inspect")>;     ///< JSON snapshot of state
using health_atom = caf::atom_constant<caf::atom("health")>;       ///< dependency check
using tick_atom = caf::atom_constant<caf::atom("tick")>;           ///< periodic self-check
using drain_atom = caf::atom_constant<caf::atom("drain")>;         ///< flush before shutdown
using api_atom = caf::atom_constant<caf::atom("api")>;             ///< serve an admin API request

// -- interfaces ----------------------------------------------------------------

/// Blocking reads on its own connection (detached).
using db_reader_actor = caf::typed_actor<
  caf::replies_to<resolve_atom, std::string /*channel*/, std::string /*account*/>::with<channel_info>,
  caf::replies_to<load_atom, std::string /*clinic_id*/>::with<clinic_profile_ptr>,
  caf::replies_to<memory_atom, std::string /*clinic_id*/, std::string /*conversation_id*/>::with<
    conversation_snapshot>,
  caf::replies_to<recover_atom, bool /*at_start*/>::with<recovery_work>>;

/// Group commit of every write (detached, owns its connection).
using batch_writer_actor = caf::typed_actor<
  caf::reacts_to<ingest_atom, resolved_webhook>,
  caf::reacts_to<record_atom, reply_record>,
  caf::reacts_to<delivered_atom, delivery_record>,
  caf::reacts_to<flush_atom>,
  caf::replies_to<drain_atom>::with<bool>,
  caf::replies_to<inspect_atom>::with<std::string>>;

/// Delivers outbox rows to the channel's API or the local sink (detached).
using sender_actor = caf::typed_actor<
  caf::reacts_to<deliver_atom, outbox_item>,
  caf::replies_to<inspect_atom>::with<std::string>>;

/// One per (clinic, channel, contact): memory, understanding, replies.
using conversation_actor = caf::typed_actor<
  caf::reacts_to<process_atom, stored_message>,
  caf::reacts_to<tick_atom>,
  caf::replies_to<inspect_atom>::with<std::string>>;

/// One per clinic, the tenant boundary: owns its conversations.
using clinic_actor = caf::typed_actor<
  caf::reacts_to<process_atom, stored_message>,
  caf::replies_to<inspect_atom>::with<std::string>>;

/// Entry point of channel traffic: resolves accounts, finds clinics.
using router_actor = caf::typed_actor<
  caf::reacts_to<ingest_atom, webhook_request>,
  caf::reacts_to<process_atom, std::vector<stored_message>>,
  caf::reacts_to<tick_atom>,
  caf::replies_to<inspect_atom>::with<std::string>>;

/// Serves the admin API (auth, users, audit): tokens, rate limits, roles, tenants,
/// bodies, then the database work and bcrypt (detached: all of it blocks).
using auth_store_actor = caf::typed_actor<caf::reacts_to<api_atom, api_request>>;

/// Answers /health (detached: it may wait on a dead database).
using health_actor = caf::typed_actor<caf::reacts_to<health_atom, std::shared_ptr<http_responder>>>;

} // namespace atendeai::actors
