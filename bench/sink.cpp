/// A fake Graph API for benchmarks: answers every POST /{version}/{phone}/messages with a
/// wamid at once and appends "recipient<TAB>arrival_epoch_us" to the file given, so the
/// benchmark can count replies and measure webhook-in → reply-at-sink latency.
///
/// Built not to eat the machine it measures: one event loop (RESTinio on an asio
/// io_context this program runs; THREADS, default 1), no JSON parsing (the recipient is
/// read from the body's "to":"…" field), and the file is written through a large buffer
/// flushed every 100 ms instead of line by line. Runs until SIGINT/SIGTERM (then flushes).
///
///   atendeai_sink PORT OUTPUT_FILE [THREADS]

#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <restinio/all.hpp>

namespace {

int64_t epoch_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// The value of the top-level "to" field of the Graph API request body (the node renders
/// it with nlohmann::json: no spaces, quotes inside strings escaped, so the first
/// `"to":"` is the field).
std::string_view recipient_of(std::string_view body) {
  constexpr std::string_view key = "\"to\":\"";
  auto at = body.find(key);
  if (at == std::string_view::npos)
    return {};
  auto from = at + key.size();
  auto end = body.find('"', from);
  return end == std::string_view::npos ? std::string_view() : body.substr(from, end - from);
}

struct sink_state {
  std::FILE* out = nullptr;
  std::mutex mutex; ///< only contended with THREADS > 1 (the flush timer runs on the loop too)
  uint64_t ids = 0;
  std::string run; ///< makes the wamids unique across sinks started against one database
};

template <class Traits>
int serve(restinio::asio_ns::io_context& ioctx, sink_state& st, std::uint16_t port, int threads) {
  auto handler = [&st](restinio::request_handle_t req) -> restinio::request_handling_status_t {
    auto now = epoch_us();
    const auto& target = req->header().request_target();
    if (req->header().method() != restinio::http_method_post() || target.size() < 9
        || target.compare(target.size() - 9, 9, "/messages") != 0)
      return restinio::request_rejected();
    auto to = recipient_of(req->body());
    char line[160];
    char* p = line;
    auto n = std::min(to.size(), sizeof line - 32);
    std::memcpy(p, to.data(), n);
    p += n;
    *p++ = '\t';
    p = std::to_chars(p, line + sizeof line - 1, now).ptr;
    *p++ = '\n';
    std::string body = R"({"messaging_product":"whatsapp","messages":[{"id":"wamid.sink.)";
    body += st.run;
    body += '.';
    {
      std::lock_guard<std::mutex> guard(st.mutex);
      std::fwrite(line, 1, static_cast<size_t>(p - line), st.out);
      body += std::to_string(++st.ids);
    }
    body += "\"}]}";
    req->create_response()
      .append_header(restinio::http_field::content_type, "application/json")
      .set_body(std::move(body))
      .done();
    return restinio::request_accepted();
  };
  restinio::http_server_t<Traits> server{
    restinio::external_io_context(ioctx),
    restinio::server_settings_t<Traits>{}.address("127.0.0.1").port(port).request_handler(std::move(handler))};
  server.open_sync();

  // bench/run reads the file while the sink runs: flush it every 100 ms.
  restinio::asio_ns::steady_timer timer(ioctx);
  std::function<void()> arm = [&] {
    timer.expires_after(std::chrono::milliseconds(100));
    timer.async_wait([&](const restinio::asio_ns::error_code& ec) {
      if (ec)
        return;
      {
        std::lock_guard<std::mutex> guard(st.mutex);
        std::fflush(st.out);
      }
      arm();
    });
  };
  arm();
  restinio::asio_ns::signal_set signals(ioctx, SIGINT, SIGTERM);
  signals.async_wait([&](const restinio::asio_ns::error_code&, int) {
    timer.cancel();
    server.close_sync();
    ioctx.stop();
  });
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back([&] { ioctx.run(); });
  ioctx.run();
  for (auto& t : pool)
    t.join();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: atendeai_sink PORT OUTPUT_FILE [THREADS]\n";
    return 2;
  }
  auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  int threads = argc > 3 ? std::max(1, std::stoi(argv[3])) : 1;
  sink_state st;
  st.out = std::fopen(argv[2], "w");
  if (!st.out) {
    std::cerr << "sink: cannot write " << argv[2] << "\n";
    return 2;
  }
  static std::vector<char> buffer(1 << 20);
  std::setvbuf(st.out, buffer.data(), _IOFBF, buffer.size());
  // Meta's wamids are unique for ever; a sink restarted against the same database (the
  // baseline scenario) must not hand out ids the node already recorded.
  st.run = std::to_string(epoch_us());
  restinio::asio_ns::io_context ioctx(threads);
  int rc;
  if (threads == 1) {
    using traits = restinio::default_single_thread_traits_t;
    rc = serve<traits>(ioctx, st, port, threads);
  } else {
    using traits = restinio::default_traits_t;
    rc = serve<traits>(ioctx, st, port, threads);
  }
  std::fflush(st.out);
  std::fclose(st.out);
  return rc;
}
