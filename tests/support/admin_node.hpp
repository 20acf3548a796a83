#pragma once
/// A node for admin API tests that also talk to patients: the fake Graph API, a known
/// JWT key, bcrypt cost 4, rate limits out of the way (support/admin_api.hpp), tokens for
/// the demo administrators and for new users of any role, and patients who write and
/// wait for the reply (what they were sent: sent_to and text_of, support/harness.hpp).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/admin_api.hpp"
#include "support/harness.hpp"

namespace atendeai::test {

/// ATENDEAI_* settings of a test node.
using node_settings = std::map<std::string, std::string>;

/// The demo clinic's id (seeded by every test node).
std::string demo_clinic();

class admin_node {
public:
  /// Starts a node; `extra` adds or overrides ATENDEAI_* settings.
  explicit admin_node(node_settings extra = {});

  fake_graph_api graph;
  scratch_database db;
  std::unique_ptr<node_process> node;

  /// Starts the node again on the same database (after it stopped).
  void start();
  /// A URL on the node.
  std::string url(const std::string& path) const { return node->url(path); }
  /// An access token of the demo super admin.
  std::string super_token();
  /// Creates a user (as the super admin) of `role` in `clinic` and returns {id, token}.
  std::pair<std::string, std::string> user(const std::string& role, const std::string& clinic = demo_clinic());
  /// Inserts another clinic (with no channel) and returns its id.
  std::string other_clinic();

  /// The patient writes `text`; waits for exactly one new reply and returns its text.
  std::string say(const std::string& patient, const std::string& text);
  /// The patient writes `text` and the message is handled without a reply (hand-over).
  void say_unanswered(const std::string& patient, const std::string& text);
  /// The conversation id of a patient of the demo clinic ("" if none).
  std::string conversation_of(const std::string& patient) const;
  /// One value from the database, as its owner.
  std::string scalar(const std::string& sql) const { return db.scalar(sql); }
  /// The value of a metric line (name with labels) in /metrics, or -1.
  double metric(const std::string& line_prefix) const;

private:
  std::map<std::string, std::string> env_;
  std::string var_dir_;
  int next_wamid_ = 0;
  int next_user_ = 0;
};

/// True when `text` contains `part`.
inline bool contains_text(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace atendeai::test
