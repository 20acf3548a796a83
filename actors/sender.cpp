#include "actors/sender.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>
#include <curl/curl.h>

#include "actors/test_hooks.hpp"
#include "core/log.hpp"
#include "core/secret_box.hpp"
#include "core/utf8.hpp"
#include "core/whatsapp.hpp"

namespace atendeai::actors {

namespace {

using steady = std::chrono::steady_clock;

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/// The channel accounts' own access tokens, looked up where they are used: the sender
/// actor reads an account's token from PostgreSQL before it hands over the account's
/// first row, and again after its clinic's channels changed or once it is older than
/// token_refresh_after, and opens it there when it is sealed (security.data_key_file):
/// one decryption per read, none per message. The delivery loop takes the current one at
/// every attempt, so a retry goes out with a token read meanwhile. Tokens are never
/// carried in messages between nodes, and never logged.
class token_book {
public:
  /// How long a token is used before it is read again (a rotated token gets picked up
  /// even when nobody told this node).
  static constexpr auto refresh_after = std::chrono::minutes(5);

  static std::string key(const std::string& clinic_id, const std::string& account_id) {
    return clinic_id + '/' + account_id;
  }
  /// What a row of this key needs before it is handed over.
  enum class need { nothing, refresh, read };
  need check(const std::string& k, steady::time_point now) const {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = tokens_.find(k);
    if (it == tokens_.end() || it->second.stale)
      return need::read; // unknown, or its clinic's channels changed: wait for the read
    return now - it->second.read_at >= refresh_after ? need::refresh : need::nothing;
  }
  void put(const std::string& k, std::string token, steady::time_point now) {
    std::lock_guard<std::mutex> guard(mutex_);
    tokens_[k] = entry{std::move(token), now, false};
  }
  /// The account's own token ("" when it has none or is unknown).
  std::string token(const std::string& k) const {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = tokens_.find(k);
    return it == tokens_.end() ? std::string{} : it->second.token;
  }
  /// The clinic's channels changed: its tokens are read again before their next use.
  void forget_clinic(const std::string& clinic_id) {
    std::lock_guard<std::mutex> guard(mutex_);
    ++changes_;
    auto prefix = clinic_id + '/';
    for (auto& [k, e] : tokens_)
      if (k.compare(0, prefix.size(), prefix) == 0)
        e.stale = true;
  }
  /// Counts forget_clinic calls: a read that began before one may have read the old token.
  uint64_t changes() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return changes_;
  }

private:
  struct entry {
    std::string token;
    steady::time_point read_at;
    bool stale = false;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> tokens_;
  uint64_t changes_ = 0;
};

/// One request to the channel's API being made.
struct transfer {
  outbox_item item;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string url;
  std::string response;
  steady::time_point started;
};

/// A reply waiting out its backoff.
struct timer {
  steady::time_point due;
  uint64_t seq = 0; ///< ties broken by arrival
  outbox_item item;
  bool operator>(const timer& other) const { return due != other.due ? due > other.due : seq > other.seq; }
};

} // namespace

/// The sender's event loop: one thread, libcurl's multi interface, up to
/// `sender.concurrency` requests at once on reused keep-alive connections. It owns the
/// per-conversation order (a conversation's next reply waits until the one before it is
/// delivered or given up, backoff included), the retries with jittered exponential
/// backoff, and the outcomes it tells the record writers. The actor in front of it only
/// hands rows over, answers inspection and waits for it on drain.
class delivery_loop {
public:
  delivery_loop(node_context_ptr node, int index, std::shared_ptr<const token_book> tokens)
    : node_(std::move(node)), index_(index), tokens_(std::move(tokens)) {
    auto& m = *node_->metrics;
    latency_ = &m.histogram_with("atendeai_outbox_send_seconds", "Time to deliver one reply");
    const char* delivered_help = "Replies delivered";
    sent_to_api_ = &m.counter_with("atendeai_outbox_delivered_total", delivered_help, {{"to", "sent"}});
    sent_to_sink_ = &m.counter_with("atendeai_outbox_delivered_total", delivered_help, {{"to", "sink"}});
    failures_ = &m.counter_with("atendeai_outbox_failures_total", "Replies given up");
    retries_ = &m.counter_with("atendeai_outbox_retries_total", "Delivery attempts retried");
    window_fallbacks_ = &m.counter_with("atendeai_outbox_window_fallbacks_total",
                                        "Messages Meta refused outside the 24-hour window, sent again as their template");
    duplicates_ = &m.counter_with("atendeai_outbox_duplicates_total", "Outbox rows handed to a sender twice (sent once)");
    outbox_depth_ = &m.gauge_with("atendeai_outbox_depth", "Outbox rows committed and not yet delivered");
    multi_ = curl_multi_init();
    auto concurrency = static_cast<long>(std::max(1, node_->cfg.sender.concurrency));
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, concurrency);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, concurrency);
    max_in_flight_ = static_cast<size_t>(concurrency);
    thread_ = std::thread([this] { run(); });
  }

  ~delivery_loop() {
    stopping_ = true;
    curl_multi_wakeup(multi_);
    thread_.join();
    for (auto& [easy, t] : in_flight_)
      discard(*t);
    for (auto* easy : idle_handles_)
      curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
  }

  delivery_loop(const delivery_loop&) = delete;
  delivery_loop& operator=(const delivery_loop&) = delete;

  /// Hands a committed row over (any thread).
  void submit(outbox_item item) {
    active_.fetch_add(1);
    {
      std::lock_guard<std::mutex> guard(mutex_);
      incoming_.push_back(std::move(item));
    }
    curl_multi_wakeup(multi_);
  }

  /// Every row handed over has been attempted (rows in backoff, and those of their
  /// conversations behind them, wait for their turn).
  bool idle() const { return active_.load() == 0; }
  /// No reply waits out a backoff.
  bool none_in_backoff() const { return in_backoff_.load() == 0; }

  std::string inspect() const {
    return nlohmann::json{{"kind", "sender"},
                          {"index", index_},
                          {"delivered", delivered_.load()},
                          {"retried", retried_.load()},
                          {"failed", failed_.load()},
                          {"in_backoff", in_backoff_.load()},
                          {"active", active_.load()}}
      .dump();
  }

private:
  // -- loop -------------------------------------------------------------------

  void run() {
    while (!stopping_) {
      std::deque<outbox_item> arrived;
      {
        std::lock_guard<std::mutex> guard(mutex_);
        arrived.swap(incoming_);
      }
      for (auto& item : arrived)
        accept(std::move(item));
      auto now = steady::now();
      while (!timers_.empty() && timers_.top().due <= now) {
        auto item = std::move(const_cast<timer&>(timers_.top()).item);
        timers_.pop();
        --in_backoff_;
        active_.fetch_add(1);
        ready_.push_back(std::move(item));
      }
      while (!ready_.empty() && in_flight_.size() < max_in_flight_) {
        auto item = std::move(ready_.front());
        ready_.pop_front();
        start(std::move(item));
      }
      if (node_->sink)
        node_->sink->flush();
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left))
        if (msg->msg == CURLMSG_DONE)
          done(msg->easy_handle, msg->data.result);
      if (!ready_.empty() && in_flight_.size() < max_in_flight_)
        continue; // a finished request made room
      int wait_ms = 1000;
      if (!timers_.empty())
        wait_ms = static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(timers_.top().due - steady::now()).count() + 1, 0,
          1000));
      curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
    }
  }

  /// A row arrives: sent once per sender, and after the replies of its conversation
  /// handed over before it.
  void accept(outbox_item item) {
    if (!take(item.outbox_id)) {
      duplicates_->inc(); // handed over twice (a predecessor's rows resumed, a sweep): sent once
      outbox_depth_->add(-1);
      active_.fetch_sub(1);
      return;
    }
    auto lane = lanes_.find(item.conversation_id);
    if (lane != lanes_.end()) { // its conversation has a reply on the way or in backoff
      lane->second.push_back(std::move(item));
      active_.fetch_sub(1); // counted again when its turn comes
      return;
    }
    lanes_.emplace(item.conversation_id, std::deque<outbox_item>{});
    ready_.push_back(std::move(item));
  }

  /// Marks a row as taken by this sender; false when it was already.
  bool take(const std::string& outbox_id) {
    if (!taken_.insert(outbox_id).second)
      return false;
    taken_order_.push_back(outbox_id);
    if (taken_order_.size() > 65536) {
      taken_.erase(taken_order_.front());
      taken_order_.pop_front();
    }
    return true;
  }

  /// Starts one attempt (or, without a token, writes the local sink at once).
  void start(outbox_item item) {
    auto token = tokens_->token(token_book::key(item.clinic_id, item.account_id));
    if (token.empty())
      token = node_->cfg.whatsapp.access_token;
    auto t = std::make_unique<transfer>();
    t->started = steady::now();
    if (token.empty()) {
      t->item = std::move(item);
      to_sink(t->item);
      finish(*t, delivery_record{t->item.clinic_id, t->item.outbox_id, "sink", t->item.attempts + 1, "", "",
                                 t->item.correlation_id});
      return;
    }
    try {
      if (item.rendered.empty()) // a row found in PostgreSQL: rendered here once
        item.rendered =
          core::render_whatsapp_message(core::outbound_from_json(nlohmann::json::parse(item.payload)), item.recipient)
            .dump();
    } catch (const std::exception& e) {
      t->item = std::move(item);
      finish(*t, delivery_record{t->item.clinic_id, t->item.outbox_id, "failed", t->item.attempts + 1,
                                 std::string("unreadable outbox payload: ") + e.what(), "", t->item.correlation_id});
      return;
    }
    t->item = std::move(item);
    auto& w = node_->cfg.whatsapp;
    t->url = w.api_base + "/" + w.api_version + "/" + t->item.account_id + "/messages";
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    t->headers = curl_slist_append(t->headers, ("Authorization: Bearer " + token).c_str());
    CURL* easy = nullptr;
    if (!idle_handles_.empty()) {
      easy = idle_handles_.back();
      idle_handles_.pop_back();
      curl_easy_reset(easy);
    } else {
      easy = curl_easy_init();
    }
    t->easy = easy;
    auto timeout = static_cast<long>(node_->cfg.sender.timeout_ms);
    curl_easy_setopt(easy, CURLOPT_URL, t->url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->item.rendered.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(t->item.rendered.size()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t->response);
    curl_multi_add_handle(multi_, easy);
    in_flight_.emplace(easy, std::move(t));
  }

  /// A request ended: delivered, given up, or put in backoff.
  void done(CURL* easy, CURLcode rc) {
    auto it = in_flight_.find(easy);
    if (it == in_flight_.end())
      return;
    auto t = std::move(it->second);
    in_flight_.erase(it);
    long status = 0;
    if (rc == CURLE_OK)
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(multi_, easy);
    idle_handles_.push_back(easy); // its connection stays in the multi handle's cache
    t->easy = nullptr;
    curl_slist_free_all(std::exchange(t->headers, nullptr));
    auto& item = t->item;
    delivery_record rec{item.clinic_id, item.outbox_id, "", item.attempts + 1, "", "", item.correlation_id};
    if (status >= 200 && status < 300) {
      rec.status = "sent";
      auto j = nlohmann::json::parse(t->response, nullptr, false);
      if (!j.is_discarded() && j.contains("messages") && j["messages"].is_array() && !j["messages"].empty())
        rec.external_id = j["messages"][0].value("id", "");
    } else if (status == 0 || status == 429 || status >= 500) {
      rec.error = status ? "HTTP " + std::to_string(status) : curl_easy_strerror(rc);
      if (rec.attempts < node_->cfg.sender.max_attempts) {
        retry(std::move(item), rec);
        return;
      }
      rec.status = "failed";
    } else if (auto templated = window_fallback(item, status, t->response)) {
      // Meta refused free text because the window closed after all: its template goes
      // at once, in the same place in the conversation's order.
      rec.status = "pending";
      rec.error = "HTTP " + std::to_string(status) + ": 131047 (the 24-hour window closed): sent as its template";
      caf::anon_send(node_->writer_for(item.conversation_id), delivered_atom::value, rec);
      window_fallbacks_->inc();
      item.rendered = std::move(*templated);
      item.attempts = rec.attempts;
      item.retry = true;
      ready_.push_back(std::move(item));
      return;
    } else {
      // Refused for good (a template not approved, a number not on WhatsApp...): failed
      // at once with Meta's code and words, which staff see on the message.
      rec.status = "failed";
      auto meta = meta_error(t->response);
      auto said = meta ? "Meta error " + std::to_string(meta->first) + ": " + meta->second : t->response;
      core::cut_utf8(said, 500); // never a split character in the stored row
      rec.error = "HTTP " + std::to_string(status) + ": " + said;
      node_->metrics
        ->counter_with("atendeai_outbox_refused_total", "Messages the channel refused for good, by its error code",
                       {{"code", meta ? std::to_string(meta->first) : "http_" + std::to_string(status)}})
        .inc();
    }
    finish(*t, std::move(rec));
  }

  /// Meta's error in a Graph API answer: its code and message (with the details that
  /// name what is wrong, e.g. which template), or nullopt when the answer has none.
  static std::optional<std::pair<int, std::string>> meta_error(const std::string& response) {
    auto answer = nlohmann::json::parse(response, nullptr, false);
    if (answer.is_discarded() || !answer.contains("error") || !answer["error"].is_object())
      return std::nullopt;
    const auto& e = answer["error"];
    auto text = [&](const nlohmann::json& j, const char* key) {
      return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    std::string words = text(e, "message");
    if (e.contains("error_data") && e["error_data"].is_object())
      if (auto details = text(e["error_data"], "details"); !details.empty())
        words += (words.empty() ? "" : " — ") + details;
    core::cut_utf8(words, 400);
    return std::make_pair(e.contains("code") && e["code"].is_number_integer() ? e["code"].get<int>() : 0, words);
  }

  /// The request body of the template a refused message falls back to: when Meta answered
  /// error 131047 (re-engagement: the 24-hour window closed) to a message that was not a
  /// template and carries a fallback; nullopt otherwise.
  static std::optional<std::string> window_fallback(const outbox_item& item, long status, const std::string& response) {
    if (status < 400 || status >= 500 || item.rendered.find("\"type\":\"template\"") != std::string::npos)
      return std::nullopt;
    auto meta = meta_error(response);
    if (!meta || meta->first != 131047)
      return std::nullopt;
    auto payload = nlohmann::json::parse(item.payload, nullptr, false);
    if (!payload.is_object())
      return std::nullopt;
    auto msg = core::outbound_from_json(payload);
    if (!msg.fallback)
      return std::nullopt;
    msg.templ = std::move(msg.fallback);
    return core::render_whatsapp_message(msg, item.recipient).dump();
  }

  /// The row's last attempt: its outcome to the record writer, and its conversation's
  /// next reply may go.
  void finish(const transfer& t, delivery_record rec) {
    const auto& item = t.item;
    latency_->observe(std::chrono::duration<double>(steady::now() - t.started).count());
    if (rec.status == "failed") {
      ++failed_;
      failures_->inc();
    } else {
      ++delivered_;
      (rec.status == "sink" ? sent_to_sink_ : sent_to_api_)->inc();
    }
    auto level = rec.status == "failed" ? spdlog::level::warn : spdlog::level::info;
    if (spdlog::should_log(level)) // building the fields costs more than the check
      core::log_event(level, "reply_delivered",
                      {{"clinic_id", item.clinic_id}, {"conversation_id", item.conversation_id},
                       {"correlation_id", item.correlation_id}, {"outbox_id", item.outbox_id},
                       {"status", rec.status}, {"attempts", rec.attempts}, {"error", rec.error}});
    caf::anon_send(node_->writer_for(item.conversation_id), delivered_atom::value, std::move(rec));
    next_of(item.conversation_id);
    active_.fetch_sub(1);
  }

  /// The conversation's reply in hand is done: its next one goes, or the lane closes.
  void next_of(const std::string& conversation_id) {
    auto lane = lanes_.find(conversation_id);
    if (lane == lanes_.end())
      return;
    if (lane->second.empty()) {
      lanes_.erase(lane);
      return;
    }
    auto next = std::move(lane->second.front());
    lane->second.pop_front();
    active_.fetch_add(1);
    ready_.push_back(std::move(next));
  }

  /// Records the attempt as pending and tries again after a jittered, growing delay;
  /// the conversation's later replies wait behind it.
  void retry(outbox_item item, delivery_record& rec) {
    rec.status = "pending";
    caf::anon_send(node_->writer_for(item.conversation_id), delivered_atom::value, rec);
    ++retried_;
    retries_->inc();
    auto& s = node_->cfg.sender;
    double base = static_cast<double>(s.backoff_base_ms) * static_cast<double>(1u << std::min(item.attempts, 20));
    auto capped = std::min(base, static_cast<double>(s.backoff_max_ms));
    auto delay = std::uniform_real_distribution<double>(capped / 2, capped)(rng_); // jitter
    core::log_event(spdlog::level::info, "reply_retry",
                    {{"clinic_id", item.clinic_id}, {"correlation_id", item.correlation_id},
                     {"attempt", rec.attempts}, {"error", rec.error}, {"delay_ms", static_cast<int64_t>(delay)}});
    item.attempts = rec.attempts;
    item.retry = true;
    timers_.push(timer{steady::now() + std::chrono::milliseconds(static_cast<int64_t>(delay)), ++timer_seq_,
                       std::move(item)});
    ++in_backoff_;
    active_.fetch_sub(1);
  }

  void to_sink(const outbox_item& item) {
    nlohmann::json line = {{"clinic_id", item.clinic_id},
                           {"conversation_id", item.conversation_id},
                           {"outbox_id", item.outbox_id},
                           {"account_id", item.account_id},
                           {"to", item.recipient},
                           {"message", nlohmann::json::parse(item.payload, nullptr, false)}};
    node_->sink->append(item.conversation_id, line.dump());
  }

  void discard(transfer& t) {
    if (t.easy) {
      curl_multi_remove_handle(multi_, t.easy);
      curl_easy_cleanup(t.easy);
    }
    curl_slist_free_all(t.headers);
  }

  // -- data members -----------------------------------------------------------

  node_context_ptr node_;
  int index_ = 0;
  std::shared_ptr<const token_book> tokens_;
  CURLM* multi_ = nullptr;
  size_t max_in_flight_ = 1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::deque<outbox_item> incoming_; ///< handed over, not yet seen by the loop (guarded)
  // The loop thread's own:
  std::deque<outbox_item> ready_;    ///< their turn has come, waiting for a free request slot
  std::unordered_map<CURL*, std::unique_ptr<transfer>> in_flight_;
  std::vector<CURL*> idle_handles_;
  /// Conversations with a reply on the way or in backoff, and their later replies.
  std::unordered_map<std::string, std::deque<outbox_item>> lanes_;
  std::priority_queue<timer, std::vector<timer>, std::greater<timer>> timers_;
  uint64_t timer_seq_ = 0;
  std::unordered_set<std::string> taken_; ///< outbox rows this sender took (the last 64k)
  std::deque<std::string> taken_order_;
  std::mt19937 rng_{std::random_device{}()};
  // Read from any thread:
  std::atomic<size_t> active_{0};     ///< handed over or due, not yet attempted to the end
  std::atomic<size_t> in_backoff_{0};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> retried_{0};
  std::atomic<uint64_t> failed_{0};
  core::histogram* latency_ = nullptr;
  core::counter* sent_to_api_ = nullptr;
  core::counter* sent_to_sink_ = nullptr;
  core::counter* failures_ = nullptr;
  core::counter* retries_ = nullptr;
  core::counter* window_fallbacks_ = nullptr;
  core::counter* duplicates_ = nullptr;
  core::gauge* outbox_depth_ = nullptr;
};

struct sender_state {
  static constexpr const char* name = "sender";
  sender_actor::pointer self = nullptr;
  node_context_ptr node;
  std::shared_ptr<token_book> tokens = std::make_shared<token_book>();
  std::unique_ptr<delivery_loop> loop;
  /// The accounts whose token is being read (by token_book key), each with the rows
  /// waiting for it (none while a token in hand is only refreshed).
  std::unordered_map<std::string, std::vector<outbox_item>> awaiting_token;
  /// Drain requests waiting for the loop to have attempted every row handed over.
  std::vector<caf::typed_response_promise<bool>> draining;

  bool idle() const {
    return loop->idle() &&
           std::all_of(awaiting_token.begin(), awaiting_token.end(), [](const auto& a) { return a.second.empty(); });
  }

  /// Hands the row to the loop once its account's token is known (one read per account
  /// at a time).
  void deliver(outbox_item item) {
    auto k = token_book::key(item.clinic_id, item.account_id);
    auto need = tokens->check(k, steady::now());
    bool reading = awaiting_token.count(k) > 0;
    if (!reading && need != token_book::need::nothing)
      read_token(item.clinic_id, item.account_id);
    if (need == token_book::need::read)
      awaiting_token[k].push_back(std::move(item));
    else
      loop->submit(std::move(item)); // a refresh goes on with the token in hand
  }

  /// Reads an account's token; the rows waiting for it go on once it is in. A failed read
  /// is tried again after a second (the rows are committed: none is lost meanwhile). A
  /// sealed token this node's key cannot open (the key was rotated while the node ran, or
  /// the row was changed) is read again every 30 s: meanwhile the token in hand, if any,
  /// stays in use, and rows of an account without one wait.
  void read_token(const std::string& clinic_id, const std::string& account_id) {
    awaiting_token[token_book::key(clinic_id, account_id)]; // being read from now on
    auto changes = tokens->changes();
    self->request(node->reader_for(clinic_id), std::chrono::seconds(30), token_atom::value, clinic_id, account_id)
      .then(
        [this, clinic_id, account_id, changes](std::string& stored) {
          if (tokens->changes() != changes) // channels changed while it read: read again
            return read_token(clinic_id, account_id);
          auto token = core::plain_secret(node->data_key.get(), stored);
          if (!token) {
            core::log_event(spdlog::level::err, "channel_token_unreadable",
                            {{"clinic_id", clinic_id},
                             {"error", node->data_key ? "the data key cannot open the stored token"
                                                      : "the stored token is sealed and no data key is set"},
                             {"effect", "security.data_key_file: restart the node with the key the tokens are "
                                        "sealed with; read again in 30 s"}});
            self->delayed_send(self, std::chrono::seconds(30), token_atom::value, clinic_id, account_id);
            return;
          }
          auto k = token_book::key(clinic_id, account_id);
          tokens->put(k, std::move(*token), steady::now());
          auto rows = std::move(awaiting_token[k]);
          awaiting_token.erase(k);
          for (auto& row : rows)
            loop->submit(std::move(row));
        },
        [this, clinic_id, account_id](const caf::error& err) {
          core::log_event(spdlog::level::warn, "channel_token_read_failed",
                          {{"clinic_id", clinic_id}, {"error", caf::to_string(err)}});
          self->delayed_send(self, std::chrono::seconds(1), token_atom::value, clinic_id, account_id);
        });
  }
};

sender_actor::behavior_type sender(sender_actor::stateful_pointer<sender_state> self, node_context_ptr node,
                                   int index) {
  auto& st = self->state;
  st.self = self;
  st.node = node;
  st.loop = std::make_unique<delivery_loop>(std::move(node), index, st.tokens);
  return {
    [self](deliver_atom, outbox_item& item) {
      ATENDEAI_CRASH_ONCE_IF_MARKED("ATENDEAI_TEST_CRASH_SENDER_MARKER", item.payload);
      self->state.deliver(std::move(item));
    },
    [self](token_atom, const std::string& clinic_id, const std::string& account_id) {
      self->state.read_token(clinic_id, account_id);
    },
    [self](reload_atom, const std::string& clinic_id) { self->state.tokens->forget_clinic(clinic_id); },
    [self](drain_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (st.idle())
        return st.loop->none_in_backoff();
      if (st.draining.empty())
        self->send(self, tick_atom::value);
      st.draining.push_back(self->make_response_promise<bool>());
      return st.draining.back();
    },
    [self](tick_atom) { // drain: look again until the loop is idle
      auto& st = self->state;
      if (!st.idle()) {
        self->delayed_send(self, std::chrono::milliseconds(5), tick_atom::value);
        return;
      }
      for (auto& rp : std::exchange(st.draining, {}))
        rp.deliver(st.loop->none_in_backoff());
    },
    [self](inspect_atom) { return self->state.loop->inspect(); },
  };
}

sender_actor spawn_sender(caf::actor_system& sys, node_context_ptr node, int index) {
  return sys.spawn(sender, node, index);
}

} // namespace atendeai::actors
