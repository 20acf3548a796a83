#pragma once
/// Values the actors exchange. They stay on one node (they hold responders and JSON),
/// hence CAF_ALLOW_UNSAFE_MESSAGE_TYPE; the cluster sends its own inspectable types.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/responder.hpp"
#include "core/clinic.hpp"
#include "core/conversation.hpp"
#include "core/whatsapp.hpp"

namespace atendeai::persistence {
struct audit_entry;
}

namespace atendeai::actors {

/// A signed, parsed webhook waiting to be made durable and acknowledged.
struct webhook_request {
  std::shared_ptr<http_responder> responder;
  std::vector<core::inbound_message> messages;
  std::vector<core::status_update> statuses;
  std::string correlation_id;
};

using clinic_profile_ptr = std::shared_ptr<const core::clinic_profile>;

/// An inbound message committed to PostgreSQL, ready for its conversation.
struct stored_message {
  std::string clinic_id;
  std::string conversation_id;
  std::string message_id;
  core::inbound_message msg;
  /// Found unanswered in PostgreSQL by the sweep: handle it even if the conversation saw
  /// its id before (that handling never committed; the outbox stays unique anyway).
  bool redelivery = false;
  /// The clinic's current profile, set by the clinic actor (null: keep the one it has).
  clinic_profile_ptr profile = nullptr;
  /// Handed again to a fresh actor after its conversation or clinic crashed.
  bool replayed = false;
  /// The ingest that stored it created its conversation: there is no memory to read.
  bool new_conversation = false;
};

/// A staff action's pending answer (node-local): the admin API worker that sent the
/// action waits on it; the record writer settles it once the action's record is
/// committed (true, with the outbound message id of a reply), the clinic when it gives
/// the action up (false). The first settlement counts.
class staff_receipt {
public:
  void settle(bool committed, std::string message_id = {}) {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (outcome_)
        return;
      outcome_.emplace(committed, std::move(message_id));
    }
    settled_.notify_all();
  }
  /// The outcome, or nullopt when none came within `patience`.
  std::optional<std::pair<bool, std::string>> wait(std::chrono::milliseconds patience) {
    std::unique_lock<std::mutex> guard(mutex_);
    settled_.wait_for(guard, patience, [this] { return outcome_.has_value(); });
    return outcome_;
  }

private:
  std::mutex mutex_;
  std::condition_variable settled_;
  std::optional<std::pair<bool, std::string>> outcome_;
};

using staff_receipt_ptr = std::shared_ptr<staff_receipt>;

/// What a conversation decided for one inbound message: the reply (if any) and the
/// conversation's new state, written in one batch.
struct reply_record {
  /// What the outbound message answers: an inbound message (reply), a staff member
  /// (staff), nothing asked (notice: e.g. a released hold); none: only the state changes.
  enum class cause_kind { reply, staff, notice, none };
  cause_kind kind = cause_kind::reply;
  std::string clinic_id;
  std::string conversation_id;
  /// What caused it: the inbound message answered (kind reply), or a proactive message's own
  /// cause (a second message with the same cause is not written; empty: its own).
  std::string cause_id;
  std::string outbound_id;     ///< made by the writer when it first takes the record
  std::string intent;
  double confidence = 0;
  std::string channel = "whatsapp";
  std::string account_id;
  std::string recipient;
  bool has_reply = false;
  core::outbound_message reply;
  std::string rendered; ///< the reply as the channel's API takes it (rendered once, when decided)
  core::conversation_state state;
  bool state_changed = true; ///< the state differs from the one last written (else not written)
  bool touch = true;         ///< move the conversation's last activity (written behind)
  std::string correlation_id;
  std::string staff_user_id; ///< the staff member who wrote the reply
  /// Audit row written in the same transaction (staff actions).
  std::shared_ptr<const persistence::audit_entry> audit;
  /// A staff action's answer, settled when the record is committed or given up.
  staff_receipt_ptr receipt;
  /// Not empty: after this record (and every earlier one of the conversation: its writer
  /// keeps their order), the conversation's patient is erased in the same transaction,
  /// "anonymise" or "restrict" (LGPD, migration 0022), before the audit row is written.
  std::string erase_mode;
  std::vector<std::string> erased; ///< the conversations it erased (set by the writer)
};

/// The record that erases a conversation's patient (`mode`: anonymise | restrict) once
/// everything the conversation wrote before it is written (its writer keeps their order):
/// no reply, no state, no touch of the last activity.
inline reply_record erasure_record(std::string clinic_id, std::string conversation_id, std::string mode) {
  reply_record rec;
  rec.kind = reply_record::cause_kind::none;
  rec.clinic_id = std::move(clinic_id);
  rec.conversation_id = std::move(conversation_id);
  rec.state_changed = false;
  rec.touch = false;
  rec.erase_mode = std::move(mode);
  rec.correlation_id = "erasure";
  return rec;
}

/// A staff member's action on a conversation, from the admin API to the conversation
/// actor (router → clinic → conversation), so the live state matches the database.
/// It commits through the conversation's batch writer like every reply.
struct staff_action {
  /// erase: the patient's data erased or restricted (`erase_mode`), asked by staff or by
  /// the patient in the chat; every conversation of the contact (`conversation_ids`) ends.
  enum class kind { reply, release, erase };
  kind what = kind::reply;
  std::string clinic_id;
  std::string conversation_id;
  std::string staff_user_id;
  std::string text;       ///< the reply (a template's: its body with the parameters filled in)
  std::optional<core::template_call> templ; ///< sent as this registered template
  std::string channel = "whatsapp";
  std::string account_id;
  std::string recipient;
  std::string erase_mode;
  std::vector<std::string> conversation_ids;
  std::shared_ptr<const persistence::audit_entry> audit;
  /// Settled after the commit (true, the outbound message id of a reply) or when the
  /// action is given up (false).
  staff_receipt_ptr receipt;
};

/// A committed outbox row to deliver. The sender looks up the channel account's token
/// itself (tokens are not carried through messages).
struct outbox_item {
  std::string clinic_id;
  std::string outbox_id;
  std::string message_id;
  std::string conversation_id;
  std::string account_id;
  std::string recipient;
  std::string payload; ///< outbound_message JSON
  std::string rendered; ///< the channel API's request body (empty: rendered from payload)
  int attempts = 0;
  std::string correlation_id;
  bool retry = false; ///< the sender's own retry (not a second hand-over of the row)
};

/// The outcome of one delivery attempt.
struct delivery_record {
  std::string clinic_id;
  std::string outbox_id;
  std::string status; ///< pending (will retry) | sent | sink | failed
  int attempts = 0;
  std::string error;
  std::string external_id;
  std::string correlation_id;
};

/// A conversation's durable memory, read when its actor starts.
struct conversation_snapshot {
  core::conversation_state state;
  bool known_contact = false; ///< the contact wrote before this conversation actor started
  std::vector<std::pair<std::string, std::string>> memory; ///< (direction, text), oldest first
  std::vector<std::string> recent_external_ids;
  /// Where its last inbound message came from (channel, account, contact; empty: none).
  std::string reply_channel, reply_account, reply_contact;
};

/// Work found at start or by the periodic sweep.
struct recovery_work {
  std::vector<stored_message> unanswered;
  std::vector<outbox_item> pending;
};

} // namespace atendeai::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::webhook_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::stored_message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<atendeai::actors::stored_message>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::reply_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::staff_action)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::outbox_item)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::delivery_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::conversation_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::recovery_work)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::clinic_profile_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<atendeai::actors::http_responder>)
