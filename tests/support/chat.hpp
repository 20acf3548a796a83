#pragma once
/// Chat-side test helpers: the demo clinic's days as its replies name them, interactive
/// replies (taps), and one message-and-reply exchange (what the fake Graph API received:
/// sent_to in support/harness.hpp, read with support/sent_message.hpp).

#include <chrono>
#include <string>
#include <vector>

#include <date/date.h>
#include <nlohmann/json.hpp>

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

/// A notification with one interactive reply (a tap on a button or a list row;
/// `kind` button_reply / list_reply).
std::string interactive_body(const std::string& from, const std::string& wamid, const std::string& kind,
                             const std::string& id, const std::string& title);

/// Posts a signed notification for `patient` and waits (up to `timeout`) for its one reply
/// (checked: one reply only, counted once the node on `db` is quiescent); returns it.
nlohmann::json exchange(const node_process& node, const scratch_database& db, const fake_graph_api& graph,
                        const std::string& patient, const std::string& body,
                        std::chrono::seconds timeout = std::chrono::seconds(30));

} // namespace atendeai::test
