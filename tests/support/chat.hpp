#pragma once
/// Chat-side test helpers: the demo clinic's days as its replies name them, interactive
/// replies (taps), and one message-and-reply exchange (what the fake Graph API received:
/// sent_to in support/harness.hpp, read with support/sent_message.hpp).

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <date/date.h>
#include <nlohmann/json.hpp>

#include "core/demo_clinic.hpp"
#include "core/privacy.hpp"
#include "support/demo_ids.hpp"
#include "support/harness.hpp"

namespace atendeai::test {

/// A local day of the demo clinic (America/Sao_Paulo) and how the replies name it.
struct clinic_day {
  date::year_month_day ymd;
  std::string ddmm;    ///< "25/11"
  std::string weekday; ///< "quarta"
  /// The instant of a local hour that day, ISO 8601 UTC as PostgreSQL prints it.
  std::string utc(int hour) const;
  /// The same instant as the admin API writes it, with the clinic's offset ("...T14:00:00-03:00").
  std::string local(int hour) const;
};
/// The demo clinic's view of a local date.
clinic_day clinic_day_of(const date::year_month_day& d);

/// The demo clinic's first reply to a patient: `text` with the privacy notice after it
/// (LGPD, health_protection: the first reply carries it).
inline std::string with_privacy_notice(const std::string& text, bool en = false) {
  return text + "\n\n" + core::privacy_notice_text(core::demo_clinic(), {}, en);
}

/// A notification with one interactive reply (a tap on a button or a list row;
/// `kind` button_reply / list_reply).
std::string interactive_body(const std::string& from, const std::string& wamid, const std::string& kind,
                             const std::string& id, const std::string& title);

/// Posts a signed notification for `patient` and waits (up to `timeout`) for its one reply
/// (checked: one reply only, counted once the node on `db` is quiescent); returns it.
nlohmann::json exchange(const node_process& node, const scratch_database& db, const fake_graph_api& graph,
                        const std::string& patient, const std::string& body,
                        std::chrono::seconds timeout = std::chrono::seconds(30));

/// A node answering the demo clinic's patients through the fake Graph API, started by
/// start() with `options` (restartable on the same database), and patients who write or
/// tap and get one reply each.
struct chat_node {
  fake_graph_api graph;
  scratch_database db;
  node_options options{graph.base_url(), "test-token", {}};
  std::unique_ptr<node_process> node;
  std::atomic<int> next_id{0};

  /// Starts the node (again) with `options`.
  void start();
  /// Stops the node (SIGTERM, which must end it cleanly) and starts a fresh one on the same
  /// database (the clinic actor then loads its agenda again).
  void restart();

  /// A wamid not used before in this test.
  std::string fresh_wamid() { return "wamid.chat-" + std::to_string(++next_id); }
  /// Posts a body for `patient` and waits for the one new reply.
  nlohmann::json exchange(const std::string& patient, const std::string& body);
  /// The patient types `text`; the one reply.
  nlohmann::json say(const std::string& patient, const std::string& text);
  /// The patient taps a button or list row (`kind` button_reply / list_reply); the one reply.
  nlohmann::json tap(const std::string& patient, const std::string& kind, const std::string& id,
                     const std::string& title);

  std::string scalar(const std::string& sql) const { return db.scalar(sql); }
  long count(const std::string& sql) const { return std::stol("0" + db.scalar(sql)); }
};

} // namespace atendeai::test
