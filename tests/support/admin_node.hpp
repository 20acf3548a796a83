#pragma once
/// A node for admin API tests that also talk to patients: the fake Graph API, a known
/// JWT key, bcrypt cost 4, rate limits out of the way (support/admin_api.hpp), tokens for
/// the demo administrators and for new users of any role, admin API calls that must
/// answer a status, and patients who write and wait for the reply.

#include <map>
#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "support/admin_api.hpp"
#include "support/demo_ids.hpp"
#include "support/harness.hpp"

namespace atendeai::test {

/// ATENDEAI_* settings of a test node.
using node_settings = std::map<std::string, std::string>;

class admin_node {
public:
  /// The key the node signs its tokens with.
  static constexpr const char* jwt_secret = "inbox-tests-jwt-secret-0123456789abcdef-xyz";

  /// Starts a node; `extra` adds or overrides ATENDEAI_* settings.
  explicit admin_node(node_settings extra = {});

  fake_graph_api graph;
  scratch_database db;
  std::unique_ptr<node_process> node;

  /// Starts the node again on the same database (after it stopped).
  void start();
  /// A URL on the node.
  std::string url(const std::string& path) const { return node->url(path); }
  /// The node's var folder (the demo administrators' passwords, the mail outbox).
  const std::string& var_dir() const { return var_dir_; }

  /// The password the first start generated for a demo administrator ("" if none).
  std::string demo_password(const std::string& email) const { return demo_admin_password(var_dir_, email); }
  /// An access token of the demo super admin (the test fails if refused).
  std::string super_token() const;
  /// An access token of the demo clinic's admin (the test fails if refused).
  std::string clinic_admin_token() const;
  /// Creates a user (as the super admin) of `role` in `clinic` and returns {id, token}.
  std::pair<std::string, std::string> user(const std::string& role, const std::string& clinic = demo::clinic_id);
  /// Inserts another clinic (with no channel) and returns its id.
  std::string other_clinic();

  /// An admin API call that must answer `status`; its JSON body.
  nlohmann::json call(const std::string& token, const std::string& method, const std::string& path,
                      const nlohmann::json& body, long status) const;
  /// A refused call: checks its status and the field its error names.
  void refused(const std::string& token, const std::string& method, const std::string& path,
               const nlohmann::json& body, long status, const std::string& field) const;

  /// The patient writes `text` to `phone_number_id`; waits for exactly one new reply and
  /// returns it as sent to the Graph API.
  nlohmann::json reply(const std::string& patient, const std::string& text,
                       const std::string& phone_number_id = demo_phone_number_id);
  /// The text of the one reply to `text` (reply()).
  std::string say(const std::string& patient, const std::string& text) { return text_of(reply(patient, text)); }
  /// The patient writes `text` and the message is handled without a reply (hand-over).
  void say_unanswered(const std::string& patient, const std::string& text);
  /// The conversation id of a patient of the demo clinic ("" if none).
  std::string conversation_of(const std::string& patient) const;
  /// One value from the database, as its owner.
  std::string scalar(const std::string& sql) const { return db.scalar(sql); }
  /// A count from the database (0 when the query gives no row).
  long count(const std::string& sql) const { return std::stol("0" + db.scalar(sql)); }
  /// The value of a metric line (name with labels) in /metrics, or -1.
  double metric(const std::string& line_prefix) const;

private:
  node_options options_;
  std::string var_dir_;
  int next_wamid_ = 0;
  int next_user_ = 0;
};

/// An admin_node with the demo administrators logged in.
struct logged_in_node : admin_node {
  using admin_node::admin_node;
  std::string super = super_token();             ///< the demo super admin's token
  std::string demo_admin = clinic_admin_token(); ///< the demo clinic admin's token
};

} // namespace atendeai::test
