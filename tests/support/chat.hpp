#pragma once
/// Chat-side test helpers: the choices of a sent message (what the fake Graph API
/// received and its text: sent_to, text_of in support/harness.hpp), interactive replies,
/// and one message-and-reply exchange.

#include <memory>
#include <string>
#include <vector>

#include <date/date.h>
#include <nlohmann/json.hpp>

#include "support/harness.hpp"

namespace atendeai::test {

/// The demo clinic's ids (core/demo_clinic.cpp) as the tests name them.
namespace demo {
inline const std::string clinic_id = "00000000-0000-4000-8000-00000000c001";
inline const std::string clinico = "00000000-0000-4000-8000-00000000a001";
inline const std::string cardio = "00000000-0000-4000-8000-00000000a002";
inline const std::string dermato = "00000000-0000-4000-8000-00000000a003";
inline const std::string ana = "00000000-0000-4000-8000-00000000b001";
inline const std::string carlos = "00000000-0000-4000-8000-00000000b002";
inline const std::string address = "Rua Exemplo, 123 — Centro, São Paulo/SP";
} // namespace demo

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

/// The choice ids of an interactive message (buttons or list rows), in order.
std::vector<std::string> ids_of(const nlohmann::json& sent);

/// A notification with one interactive reply (a tap on a button or a list row;
/// `kind` button_reply / list_reply).
std::string interactive_body(const std::string& from, const std::string& wamid, const std::string& kind,
                             const std::string& id, const std::string& title);

/// Starts `atendeai serve` on the database with the options and waits until it answers
/// (the test fails, with the node's output, if it does not).
std::unique_ptr<node_process> serve_node(const scratch_database& db, const node_options& o);

/// Posts a signed notification for `patient` and waits for its one reply (checked: one
/// reply only, counted once the node on `db` is quiescent); returns it.
nlohmann::json exchange(const node_process& node, const scratch_database& db, const fake_graph_api& graph,
                        const std::string& patient, const std::string& body);

} // namespace atendeai::test
