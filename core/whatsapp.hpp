#pragma once
/// WhatsApp Cloud API payloads (PROTOCOLS.md): notifications parsed into one channel-
/// neutral model, and replies rendered into Graph API message requests.

#include <cstdint>
#include <optional>
#include <variant>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/outbound.hpp"

namespace atendeai::core {

/// One message a patient sent, whatever its channel.
struct inbound_message {
  std::string channel = "whatsapp";
  std::string account_id;   ///< the clinic's account (WhatsApp phone_number_id)
  std::string contact;      ///< the patient's id on the channel (wa_id)
  std::string contact_name; ///< profile name, may be empty
  std::string external_id;  ///< the channel's message id (wamid)
  int64_t timestamp = 0;    ///< seconds since the epoch, as the channel gave it
  std::string type;         ///< text, interactive, button, image, audio, video, document,
                            ///< sticker, location, contacts, reaction, unsupported, ...
  std::string text;         ///< what the patient said: body, caption, chosen title ...
  std::string reply_id;     ///< id of the chosen button/list row, if any
  std::string context_id;   ///< id of the message replied to, if any
  nlohmann::json payload;   ///< the type-specific object as received (media ids etc.)
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
};

/// Why a body is not a notification at all (→ 400).
struct notification_error {
  std::string field;   ///< "object", "entry", "" for unparseable JSON
  std::string message;
};

/// Parses a notification body. Lenient (API.md): only unparseable JSON or a body without
/// `object`/`entry` is an error; anything else unrecognised lands in `ignored`.
std::variant<whatsapp_notification, notification_error> parse_whatsapp_notification(std::string_view body);

/// The Graph API request body that sends `msg` to `to` (text, buttons or list),
/// with titles cut to the channel's limits.
nlohmann::json render_whatsapp_message(const outbound_message& msg, const std::string& to);

/// The JSON form of an inbound message as stored in messages.payload, and back.
nlohmann::json to_json(const inbound_message& m);
inbound_message inbound_from_json(const nlohmann::json& j);

/// The JSON form of a reply kept in the outbox, and back.
nlohmann::json to_json(const outbound_message& msg);
outbound_message outbound_from_json(const nlohmann::json& j);

/// Cuts a UTF-8 string to at most `max_chars` code points (adding "…" when cut).
std::string truncate_utf8(std::string_view s, size_t max_chars);

} // namespace atendeai::core
