/// Booking contention through the chat: many patients of one clinic try to book the same
/// few slots at once, the way they would on WhatsApp. Each patient asks for a service,
/// taps one of the slots offered (--pick random: any of them, from a seeded generator;
/// first: the first, so that everyone wants the same one), and taps "Confirmar" when the
/// slot is held for them; when the slot was just taken, they tap one of the alternatives
/// offered, up to --max-attempts times. The tool is both sides of Meta: it posts signed webhooks to the
/// node and it is the node's Graph API (--port), so each patient's next message is
/// chosen from the reply that patient just received. Prints one JSON summary on stdout.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <iostream>
#include <mutex>
#include <random>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

#include "tests/support/sent_message.hpp"
#include "webhook_client.hpp"

namespace {

using atendeai::test::contains_text;
using atendeai::test::ids_of;
using atendeai::test::text_of;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string url = "http://127.0.0.1:8080/webhooks/whatsapp";
  std::string secret;
  std::string phone = "bench-booking-phone"; ///< the clinic's phone_number_id
  int port = 0;                              ///< where the node's replies come (its Graph API base)
  int patients = 50;
  int threads = 16;           ///< webhook senders
  int max_attempts = 5;       ///< slot taps per patient before giving up
  double reply_timeout_s = 60;
  long contact_offset = 0;
  std::string ask = "quero uma consulta de cardiologia";
  std::string run_id = "book";
  bool pick_first = false;    ///< tap the first slot offered instead of a random one
};

/// Where a patient is in the conversation.
enum class outcome { waiting, booked, sold_out, gave_up, unexpected, failed, stalled };

const char* outcome_name(outcome o) {
  switch (o) {
    case outcome::waiting: return "waiting";
    case outcome::booked: return "booked";
    case outcome::sold_out: return "sold_out";
    case outcome::gave_up: return "gave_up";
    case outcome::unexpected: return "unexpected";
    case outcome::failed: return "failed";
    case outcome::stalled: return "stalled";
  }
  return "?";
}

struct patient {
  std::string wa_id;
  outcome state = outcome::waiting;
  int messages = 0;      ///< messages sent so far (the next wamid's sequence)
  int attempts = 0;      ///< slot taps
  int refusals = 0;      ///< "just taken" replies with alternatives
  bool tapped_slot = false;
  clock_type::time_point started, last_sent, finished;
};

/// One webhook to post.
struct job {
  size_t patient;
  std::string body;
};

double pct(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1))];
}

class contention {
public:
  explicit contention(options o) : o_(std::move(o)), patients_(static_cast<size_t>(o_.patients)) {
    for (size_t i = 0; i < patients_.size(); ++i)
      patients_[i].wa_id = "55118" + std::to_string(10000000 + o_.contact_offset + static_cast<long>(i));
  }

  /// Runs the whole race; returns the JSON summary.
  json run() {
    auto server = start_graph_api();
    std::vector<std::thread> senders;
    for (int t = 0; t < o_.threads; ++t)
      senders.emplace_back([this] { send_loop(); });
    started_ = clock_type::now();
    {
      std::lock_guard<std::mutex> guard(mutex_);
      for (size_t i = 0; i < patients_.size(); ++i) {
        patients_[i].started = started_;
        send_text(i, o_.ask);
      }
    }
    wait_all_finished();
    auto elapsed = std::chrono::duration<double>(last_finished() - started_).count();
    {
      std::lock_guard<std::mutex> guard(mutex_);
      closing_ = true;
    }
    queue_cv_.notify_all();
    for (auto& t : senders)
      t.join();
    server->stop();
    server->wait();
    return summary(elapsed);
  }

private:
  using router_t = restinio::router::express_router_t<>;
  struct traits : restinio::default_traits_t {
    using request_handler_t = router_t;
  };

  /// The fake Graph API: answers each send with a wamid and drives that patient on.
  restinio::running_server_handle_t<traits> start_graph_api() {
    auto router = std::make_unique<router_t>();
    router->http_post("/:version/:phone/messages", [this](auto req, auto) {
      auto m = json::parse(req->body(), nullptr, false);
      on_reply(m.is_object() ? m : json::object());
      req->create_response()
        .append_header(restinio::http_field::content_type, "application/json")
        .set_body(R"({"messaging_product":"whatsapp","messages":[{"id":"wamid.booker.)" + o_.run_id + "." +
                  std::to_string(++replies_) + "\"}]}")
        .done();
      return restinio::request_accepted();
    });
    return restinio::run_async(restinio::own_io_context(),
                               restinio::server_settings_t<traits>{}
                                 .address("127.0.0.1")
                                 .port(static_cast<std::uint16_t>(o_.port))
                                 .request_handler(std::move(router)),
                               2);
  }

  /// Decides a patient's next message from the reply they received.
  void on_reply(const json& m) {
    auto to = m.value("to", "");
    std::lock_guard<std::mutex> guard(mutex_);
    auto idx = index_of(to);
    if (!idx) {
      ++stray_replies_;
      return;
    }
    auto& p = patients_[*idx];
    if (p.state != outcome::waiting) {
      ++stray_replies_; // one reply per message: a second one is a duplicate
      return;
    }
    auto text = text_of(m);
    auto ids = ids_of(m);
    auto kind = m.value("/interactive/type"_json_pointer, std::string()) == "button" ? "button_reply" : "list_reply";
    if (contains_text(text, "Não encontrei horários livres")) {
      // Sold out (offered the waitlist, which a racing patient does not join).
      if (p.tapped_slot) {
        ++p.refusals;
        ++refusals_;
      }
      finish(p, outcome::sold_out);
    } else if (std::find(ids.begin(), ids.end(), "confirm") != ids.end()) {
      send_tap(*idx, "button_reply", "confirm", "Confirmar");
    } else if (contains_text(text, "Consulta confirmada")) {
      finish(p, outcome::booked);
    } else if (!ids.empty() && ids.front().rfind("slot:", 0) == 0) {
      // (the rows of a slot list or buttons are all slots)
      if (p.tapped_slot) {
        ++p.refusals; // the slot tapped was taken (or held) by someone else: alternatives offered
        ++refusals_;
      }
      if (p.attempts >= o_.max_attempts) {
        finish(p, outcome::gave_up);
        return;
      }
      ++p.attempts;
      p.tapped_slot = true;
      auto pick = o_.pick_first ? 0 : std::uniform_int_distribution<size_t>(0, ids.size() - 1)(random_);
      send_tap(*idx, kind, ids[pick], "slot");
    } else {
      finish(p, outcome::unexpected);
    }
  }

  std::optional<size_t> index_of(const std::string& wa) const {
    if (wa.size() < 6 || wa.rfind("55118", 0) != 0)
      return std::nullopt;
    long n = std::strtol(wa.c_str() + 5, nullptr, 10) - 10000000 - o_.contact_offset;
    if (n < 0 || n >= static_cast<long>(patients_.size()) || patients_[static_cast<size_t>(n)].wa_id != wa)
      return std::nullopt;
    return static_cast<size_t>(n);
  }

  void finish(patient& p, outcome o) {
    p.state = o;
    p.finished = clock_type::now();
    ++finished_;
    done_cv_.notify_all();
  }

  /// Queues one message of a patient (mutex_ held).
  void enqueue(size_t i, json message) {
    auto& p = patients_[i];
    message["from"] = p.wa_id;
    message["id"] = "wamid.bench." + o_.run_id + "." + std::to_string(i) + "." + std::to_string(p.messages++);
    message["timestamp"] = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
    auto body = atendeai::bench::notification(
      o_.phone, json::array({{{"profile", {{"name", "Paciente"}}}, {"wa_id", p.wa_id}}}), json::array({message}));
    p.last_sent = clock_type::now();
    queue_.push_back({i, body.dump()});
    queue_cv_.notify_one();
  }

  void send_text(size_t i, const std::string& text) {
    enqueue(i, {{"type", "text"}, {"text", {{"body", text}}}});
  }

  void send_tap(size_t i, const std::string& kind, const std::string& id, const std::string& title) {
    enqueue(i, {{"type", "interactive"}, {"interactive", {{"type", kind}, {kind, {{"id", id}, {"title", title}}}}}});
  }

  /// A sender thread: posts queued webhooks; a refused one is retried with the same
  /// wamid (as Meta does), a few times.
  void send_loop() {
    CURL* c = curl_easy_init();
    while (true) {
      job j;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        queue_cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
        if (queue_.empty())
          break;
        j = std::move(queue_.front());
        queue_.pop_front();
      }
      long status = 0;
      for (int attempt = 0; attempt < 5 && status != 200; ++attempt) {
        if (attempt > 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
        ++requests_sent_;
        status = atendeai::bench::post_signed(c, o_.url, o_.secret, j.body);
        if (status == 200)
          ++messages_acked_;
        else if (status >= 500)
          ++status_5xx_;
        else if (status >= 400)
          ++status_4xx_;
        else
          ++transport_errors_;
      }
      ++messages_sent_;
      if (status != 200) {
        std::lock_guard<std::mutex> guard(mutex_);
        auto& p = patients_[j.patient];
        if (p.state == outcome::waiting)
          finish(p, outcome::failed);
      }
    }
    curl_easy_cleanup(c);
  }

  /// Waits until every patient is done; one without a reply for --reply-timeout is stalled.
  void wait_all_finished() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (finished_ < patients_.size()) {
      done_cv_.wait_for(lock, std::chrono::milliseconds(500));
      auto now = clock_type::now();
      for (auto& p : patients_)
        if (p.state == outcome::waiting && now - p.last_sent > std::chrono::duration<double>(o_.reply_timeout_s))
          finish(p, outcome::stalled);
    }
  }

  clock_type::time_point last_finished() {
    std::lock_guard<std::mutex> guard(mutex_);
    auto last = started_;
    for (auto& p : patients_)
      last = std::max(last, p.finished);
    return last;
  }

  json summary(double elapsed) {
    std::lock_guard<std::mutex> guard(mutex_);
    json outcomes = json::object();
    for (auto o : {outcome::booked, outcome::sold_out, outcome::gave_up, outcome::unexpected, outcome::failed,
                   outcome::stalled})
      outcomes[outcome_name(o)] = 0;
    std::vector<double> booking_s;
    long attempts = 0, refused_patients = 0;
    for (auto& p : patients_) {
      outcomes[outcome_name(p.state)] = outcomes[outcome_name(p.state)].get<long>() + 1;
      attempts += p.attempts;
      refused_patients += p.refusals > 0 ? 1 : 0;
      if (p.state == outcome::booked)
        booking_s.push_back(std::chrono::duration<double>(p.finished - p.started).count());
    }
    long booked = outcomes["booked"];
    return {{"patients", patients_.size()},
            {"pick", o_.pick_first ? "first" : "random"},
            {"duration_s", elapsed},
            {"bookings", booked},
            {"bookings_per_s", elapsed > 0 ? static_cast<double>(booked) / elapsed : 0},
            {"attempts", attempts},
            {"refusals", refusals_.load()},
            {"refused_patients", refused_patients},
            {"outcomes", outcomes},
            {"time_to_book_s", {{"p50", pct(booking_s, 50)}, {"p95", pct(booking_s, 95)}, {"max", pct(booking_s, 100)}}},
            {"messages_sent", messages_sent_.load()},
            {"messages_acked", messages_acked_.load()},
            {"requests_sent", requests_sent_.load()},
            {"status_5xx", status_5xx_.load()},
            {"status_4xx", status_4xx_.load()},
            {"transport_errors", transport_errors_.load()},
            {"replies_received", replies_.load()},
            {"stray_replies", stray_replies_}};
  }

  // -- data members ---
  options o_;
  std::mutex mutex_; ///< guards patients_, queue_, closing_, finished_, stray_replies_, random_
  std::condition_variable queue_cv_, done_cv_;
  std::vector<patient> patients_;
  std::deque<job> queue_;
  bool closing_ = false;
  size_t finished_ = 0;
  long stray_replies_ = 0;
  std::mt19937 random_{20261123}; ///< fixed seed: the same choices for the same replies
  clock_type::time_point started_;
  std::atomic<long> replies_{0}, refusals_{0}, messages_sent_{0}, messages_acked_{0}, requests_sent_{0},
    status_5xx_{0}, status_4xx_{0}, transport_errors_{0};
};

} // namespace

int main(int argc, char** argv) {
  options o;
  using arg = const std::string&;
  if (!atendeai::bench::parse_options(argc, argv, "booker",
                                      {{"--url", [&](arg v) { o.url = v; }},
                                       {"--secret", [&](arg v) { o.secret = v; }},
                                       {"--phone", [&](arg v) { o.phone = v; }},
                                       {"--port", [&](arg v) { o.port = std::stoi(v); }},
                                       {"--patients", [&](arg v) { o.patients = std::stoi(v); }},
                                       {"--threads", [&](arg v) { o.threads = std::stoi(v); }},
                                       {"--max-attempts", [&](arg v) { o.max_attempts = std::stoi(v); }},
                                       {"--reply-timeout", [&](arg v) { o.reply_timeout_s = std::stod(v); }},
                                       {"--contact-offset", [&](arg v) { o.contact_offset = std::stol(v); }},
                                       {"--ask", [&](arg v) { o.ask = v; }},
                                       {"--run-id", [&](arg v) { o.run_id = v; }},
                                       {"--pick", [&](arg v) { o.pick_first = v == "first"; }}}))
    return 2;
  if (o.secret.empty() || o.port <= 0 || o.patients <= 0 || o.threads <= 0) {
    std::cerr << "booker: --secret, --port, --patients > 0 and --threads > 0 are required\n";
    return 2;
  }
  curl_global_init(CURL_GLOBAL_ALL);
  auto result = contention(o).run();
  std::cout << result.dump() << "\n";
  curl_global_cleanup();
  return 0;
}
