#pragma once
/// WhatsApp Cloud API payloads (PROTOCOLS.md): notifications parsed into one channel-
/// neutral model, and replies rendered into Graph API message requests.
///
/// Hostile input: bodies are parsed under core::webhook_json_limits (core/json_limits.hpp),
/// so nothing kept is deeper or longer than those limits; a message holding a value nested
/// too deep is dropped (and counted by the caller), the rest of the body is read. What
/// PostgreSQL cannot store is sanitised in every kept string (NUL and ill-formed UTF-8 →
/// U+FFFD, over-long fields cut) and an unusable timestamp becomes the receipt time,
/// the original kept as text; such messages carry `sanitised`.

#include <cstdint>
#include <optional>
#include <variant>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_text.hpp"
#include "core/outbound.hpp"

namespace atendeai::core {

/// Longest text kept of a message, in code points (WhatsApp's own limit on a text body).
inline constexpr size_t max_text_chars = 4096;
/// Longest profile name kept, in code points.
inline constexpr size_t max_name_chars = 256;
/// Longest id kept (wa_id, wamid, phone_number_id, button and list row ids), in bytes.
inline constexpr size_t max_id_bytes = 256;
/// Longest original timestamp kept as text when it was unusable, in bytes.
inline constexpr size_t max_raw_timestamp_bytes = 64;
/// The last second a kept timestamp may name: 9999-12-31T23:59:59Z (PostgreSQL's
/// timestamptz and ISO 8601 with four-digit years both end there).
inline constexpr int64_t max_timestamp = 253402300799;

/// One message a patient sent, whatever its channel.
struct inbound_message {
  std::string channel = "whatsapp";
  std::string account_id;   ///< the clinic's account (WhatsApp phone_number_id)
  std::string contact;      ///< the patient's id on the channel (wa_id)
  std::string contact_name; ///< profile name, may be empty
  std::string external_id;  ///< the channel's message id (wamid)
  int64_t timestamp = 0;    ///< seconds since the epoch, as the channel gave it; the
                            ///< receipt time when it gave none or one out of range
  std::string type;         ///< text, interactive, button, image, audio, video, document,
                            ///< sticker, location, contacts, reaction, unsupported, ...
  std::string text;         ///< what the patient said: body, caption, chosen title ...
  std::string reply_id;     ///< id of the chosen button/list row, if any
  std::string context_id;   ///< id of the message replied to, if any
  nlohmann::json payload;   ///< the type-specific object as received (media ids etc.),
                            ///< its strings sanitised like the fields above
  std::string raw_timestamp; ///< the channel's timestamp as text when it was unusable
                             ///< (negative, past year 9999, not a whole number), else ""
  bool sanitised = false;    ///< content was changed so it can be stored (U+FFFD for NUL
                             ///< or ill-formed UTF-8, a field cut, the timestamp replaced)
};

/// A delivery status of a message we sent.
struct status_update {
  std::string channel = "whatsapp";
  std::string account_id;
  std::string external_id; ///< the wamid of our message
  std::string status;      ///< sent | delivered | read | failed
  int64_t timestamp = 0;
  std::string recipient;
  std::string error; ///< "code: title" of the first error, if any
};

/// Everything one notification carried.
struct whatsapp_notification {
  std::vector<inbound_message> messages;
  std::vector<status_update> statuses;
  std::vector<std::string> ignored; ///< descriptions of parts we did not recognise
  /// Messages dropped because they can never be stored as sent (a value nested deeper
  /// than the limit, messages past the array limit); the caller counts and logs them.
  size_t dropped = 0;
  std::vector<std::string> dropped_ids; ///< wamids of the dropped messages that had one
};

/// Why a body is not a notification at all (→ 400).
struct notification_error {
  std::string field;   ///< "object", "entry", "" for unparseable JSON
  std::string message;
};

/// Parses a notification body received at `received_at` (seconds since the epoch).
/// Lenient (API.md): only a body that is not JSON (or breaks the whole-body limits of
/// core::webhook_json_limits) or has no `object`/`entry` is an error; anything else
/// unrecognised lands in `ignored`, over-deep messages in `dropped`.
std::variant<whatsapp_notification, notification_error> parse_whatsapp_notification(std::string_view body,
                                                                                    int64_t received_at);

/// The Graph API request body that sends `msg` to `to` (text, buttons, list, or the
/// registered template of `msg.templ` with its parameters and quick-reply payloads),
/// with titles cut to the channel's limits.
nlohmann::json render_whatsapp_message(const outbound_message& msg, const std::string& to);

/// The JSON form of an inbound message as stored in messages.payload, and back
/// (`raw_timestamp` and `sanitised` only when set): written as text into `out` (the
/// write path), or as a tree.
void write_json(json_text& out, const inbound_message& m);
nlohmann::json to_json(const inbound_message& m);
inbound_message inbound_from_json(const nlohmann::json& j);

/// The JSON form of a reply kept in the outbox, and back; as text or as a tree.
void write_json(json_text& out, const outbound_message& msg);
nlohmann::json to_json(const outbound_message& msg);
outbound_message outbound_from_json(const nlohmann::json& j);

/// Cuts a UTF-8 string to at most `max_chars` code points (adding "…" when cut).
std::string truncate_utf8(std::string_view s, size_t max_chars);

} // namespace atendeai::core
