#pragma once
/// The message pipeline's fixtures: a scratch database and a fake Graph API with the
/// counts the pipeline's tests read (through the messages and outbox views), and a node
/// serving them. The cluster tests share the counts over their three nodes.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "support/harness.hpp"

namespace atendeai::test {

/// A scratch database and a fake Graph API, and what the pipeline recorded in them.
struct pipeline_records {
  scratch_database db;
  fake_graph_api graph;

  long count(const std::string& sql) const { return std::stol("0" + db.scalar(sql)); }
  long inbound() const { return count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in'"); }
  long inbound(const std::string& wamid) const {
    return count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND external_id = '" + wamid + "'");
  }
  long outbound() const { return count("SELECT count(*) FROM atendeai.messages WHERE direction = 'out'"); }
  long outbox() const { return count("SELECT count(*) FROM atendeai.outbox"); }
  long outbox_sent() const { return count("SELECT count(*) FROM atendeai.outbox WHERE status = 'sent'"); }
  long unanswered() const {
    return count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND answered_at IS NULL");
  }
  /// Outbox rows answering the inbound message `wamid`.
  long replies_to(const std::string& wamid) const {
    return count("SELECT count(*) FROM atendeai.outbox o JOIN atendeai.messages m "
                 "ON m.clinic_id = o.clinic_id AND m.id = o.in_reply_to WHERE m.external_id = '" + wamid + "'");
  }

  /// Waits until every inbound message is handled and `replies` replies are delivered
  /// and recorded as sent: the point after which a duplicate would have shown.
  bool settled(long replies, std::chrono::milliseconds timeout = std::chrono::seconds(60)) const {
    return eventually(
      [&] {
        return unanswered() == 0 && outbox_sent() == replies && static_cast<long>(graph.count()) >= replies;
      },
      timeout);
  }
};

/// A scratch database, a fake Graph API and the node serving them (restartable).
struct pipeline : pipeline_records {
  int port = free_port();
  std::unique_ptr<node_process> node;

  /// Starts (or restarts) the node with `env` added to the test settings.
  void start(std::map<std::string, std::string> env = {}) {
    node.reset();
    node = serve_node(db, {graph.base_url(), "test-token", std::move(env)}, port);
  }
};

} // namespace atendeai::test
