#include "actors/sender.hpp"

#include <chrono>
#include <deque>
#include <fstream>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>
#include <curl/curl.h>

#include "actors/test_hooks.hpp"
#include "core/log.hpp"
#include "core/whatsapp.hpp"

namespace atendeai::actors {

namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/// The result of one HTTP request.
struct http_result {
  long status = 0;      ///< 0 when no HTTP answer (timeout, refused)
  std::string body;
  std::string error;
};

} // namespace

struct sender_state {
  static constexpr const char* name = "sender";
  sender_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  int index = 0;
  CURL* curl = nullptr;
  std::mt19937 rng{std::random_device{}()};
  uint64_t delivered = 0;
  uint64_t retried = 0;
  uint64_t failed = 0;
  core::histogram* latency = nullptr;
  core::counter* sent_to_api = nullptr;
  core::counter* sent_to_sink = nullptr;
  core::counter* failures = nullptr;
  core::counter* retries = nullptr;
  core::counter* duplicates = nullptr;
  core::gauge* outbox_depth = nullptr;
  std::unordered_set<std::string> taken; ///< outbox rows this sender took (the last 64k)
  std::deque<std::string> taken_order;
  /// Conversations with a reply in backoff, and their later replies waiting behind it:
  /// a conversation's replies go out in order.
  std::unordered_map<std::string, std::deque<outbox_item>> blocked;

  ~sender_state() {
    if (curl)
      curl_easy_cleanup(curl);
  }

  // -- work -------------------------------------------------------------------

  /// Looks the metrics up once; every series exists (at 0) before the first reply.
  void init() {
    auto& m = *node->metrics;
    latency = &m.histogram_with("atendeai_outbox_send_seconds", "Time to deliver one reply");
    const char* delivered_help = "Replies delivered";
    sent_to_api = &m.counter_with("atendeai_outbox_delivered_total", delivered_help, {{"to", "sent"}});
    sent_to_sink = &m.counter_with("atendeai_outbox_delivered_total", delivered_help, {{"to", "sink"}});
    failures = &m.counter_with("atendeai_outbox_failures_total", "Replies given up");
    retries = &m.counter_with("atendeai_outbox_retries_total", "Delivery attempts retried");
    duplicates = &m.counter_with("atendeai_outbox_duplicates_total", "Outbox rows handed to a sender twice (sent once)");
    outbox_depth = &m.gauge_with("atendeai_outbox_depth", "Outbox rows committed and not yet delivered");
  }

  /// Marks a row as taken by this sender; false when it was already.
  bool take(const std::string& outbox_id) {
    if (!taken.insert(outbox_id).second)
      return false;
    taken_order.push_back(outbox_id);
    if (taken_order.size() > 65536) {
      taken.erase(taken_order.front());
      taken_order.pop_front();
    }
    return true;
  }

  void deliver(outbox_item item) {
    if (!item.retry) {
      if (!take(item.outbox_id)) {
        duplicates->inc(); // handed over twice (a predecessor's rows resumed, a sweep): sent once
        outbox_depth->add(-1);
        return;
      }
      if (auto it = blocked.find(item.conversation_id); it != blocked.end()) {
        it->second.push_back(std::move(item)); // behind a reply of its conversation in backoff
        return;
      }
    }
    if (attempt(item) && item.retry)
      release(item.conversation_id);
  }

  /// The reply in backoff of a conversation is done: its followers go, in order, until
  /// one of them has to wait in turn.
  void release(const std::string& conversation_id) {
    auto it = blocked.find(conversation_id);
    if (it == blocked.end())
      return;
    auto queue = std::move(it->second);
    blocked.erase(it);
    while (!queue.empty()) {
      auto next = std::move(queue.front());
      queue.pop_front();
      if (!attempt(next)) {
        auto& rest = blocked[conversation_id];
        for (auto& q : queue)
          rest.push_back(std::move(q));
        return;
      }
    }
  }

  /// One delivery attempt; false when it was put in backoff (its conversation waits).
  bool attempt(outbox_item& item) {
    ATENDEAI_CRASH_ONCE_IF_MARKED("ATENDEAI_TEST_CRASH_SENDER_MARKER", item.payload);
    auto token = item.access_token.empty() ? node->cfg.whatsapp.access_token : item.access_token;
    delivery_record rec{item.clinic_id, item.outbox_id, "", item.attempts + 1, "", "", item.correlation_id};
    auto started = std::chrono::steady_clock::now();
    if (token.empty()) {
      to_sink(item);
      rec.status = "sink";
    } else {
      if (item.rendered.empty()) // a row found in PostgreSQL: rendered here once
        item.rendered = core::render_whatsapp_message(core::outbound_from_json(nlohmann::json::parse(item.payload)),
                                                      item.recipient)
                          .dump();
      auto res = post(token, item.account_id, item.rendered);
      if (res.status >= 200 && res.status < 300) {
        rec.status = "sent";
        auto j = nlohmann::json::parse(res.body, nullptr, false);
        if (!j.is_discarded() && j.contains("messages") && j["messages"].is_array() && !j["messages"].empty())
          rec.external_id = j["messages"][0].value("id", "");
      } else if (res.status == 0 || res.status == 429 || res.status >= 500) {
        rec.error = res.status ? "HTTP " + std::to_string(res.status) : res.error;
        if (rec.attempts < node->cfg.sender.max_attempts) {
          retry(item, rec);
          return false;
        }
        rec.status = "failed";
      } else {
        rec.status = "failed";
        rec.error = "HTTP " + std::to_string(res.status) + ": " + res.body.substr(0, 500);
      }
    }
    latency->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (rec.status == "failed") {
      ++failed;
      failures->inc();
    } else {
      ++delivered;
      (rec.status == "sink" ? sent_to_sink : sent_to_api)->inc();
    }
    auto level = rec.status == "failed" ? spdlog::level::warn : spdlog::level::info;
    if (spdlog::should_log(level)) // building the fields costs more than the check
      core::log_event(level, "reply_delivered",
                      {{"clinic_id", item.clinic_id}, {"conversation_id", item.conversation_id},
                       {"correlation_id", item.correlation_id}, {"outbox_id", item.outbox_id},
                       {"status", rec.status}, {"attempts", rec.attempts}, {"error", rec.error}});
    self->send(node->writer_for(item.conversation_id), delivered_atom::value, std::move(rec));
    return true;
  }

  /// Puts a reply in backoff (its attempt recorded as pending) and blocks its conversation.
  void retry(const outbox_item& failed, delivery_record& rec) {
    auto item = failed;
    blocked[item.conversation_id];
    rec.status = "pending";
    self->send(node->writer_for(item.conversation_id), delivered_atom::value, rec);
    ++retried;
    retries->inc();
    auto& s = node->cfg.sender;
    double base = static_cast<double>(s.backoff_base_ms) * static_cast<double>(1u << std::min(item.attempts, 20));
    auto capped = std::min(base, static_cast<double>(s.backoff_max_ms));
    auto delay = std::uniform_real_distribution<double>(capped / 2, capped)(rng); // jitter
    core::log_event(spdlog::level::info, "reply_retry",
                    {{"clinic_id", item.clinic_id}, {"correlation_id", item.correlation_id},
                     {"attempt", rec.attempts}, {"error", rec.error}, {"delay_ms", static_cast<int64_t>(delay)}});
    item.attempts = rec.attempts;
    item.retry = true;
    self->delayed_send(self, std::chrono::milliseconds(static_cast<int64_t>(delay)), deliver_atom::value,
                       std::move(item));
  }

  http_result post(const std::string& token, const std::string& phone_number_id, const std::string& body) {
    http_result out;
    if (!curl)
      curl = curl_easy_init();
    curl_easy_reset(curl);
    auto& w = node->cfg.whatsapp;
    auto url = w.api_base + "/" + w.api_version + "/" + phone_number_id + "/messages";
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(node->cfg.sender.timeout_ms));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(node->cfg.sender.timeout_ms));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
    auto rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
    else
      out.error = curl_easy_strerror(rc);
    curl_slist_free_all(headers);
    return out;
  }

  void to_sink(const outbox_item& item) {
    auto path = node->cfg.paths.var_dir + "/" + node->cfg.sender.sink_file;
    std::ofstream out(path, std::ios::app);
    nlohmann::json line = {{"clinic_id", item.clinic_id},
                           {"conversation_id", item.conversation_id},
                           {"outbox_id", item.outbox_id},
                           {"account_id", item.account_id},
                           {"to", item.recipient},
                           {"message", nlohmann::json::parse(item.payload)}};
    out << line.dump() << "\n";
  }

  std::string inspect() const {
    return nlohmann::json{{"kind", name}, {"index", index}, {"delivered", delivered}, {"retried", retried},
                          {"failed", failed}}
      .dump();
  }
};

sender_actor::behavior_type sender(sender_actor::stateful_pointer<sender_state> self, node_context_ptr node,
                                   int index) {
  self->state.self = self;
  self->state.node = node;
  self->state.index = index;
  self->state.init();
  return {
    [self](deliver_atom, outbox_item& item) { self->state.deliver(std::move(item)); },
    [self](drain_atom) { return self->state.blocked.empty(); },
    [self](inspect_atom) { return self->state.inspect(); },
  };
}

sender_actor spawn_sender(caf::actor_system& sys, node_context_ptr node, int index) {
  return sys.spawn<caf::detached>(sender, node, index);
}

} // namespace atendeai::actors
