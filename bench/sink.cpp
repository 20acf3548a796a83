/// A fake Graph API for benchmarks: answers every POST /{version}/{phone}/messages with
/// a wamid at once and appends "recipient<TAB>arrival_epoch_us" to the file given, so the
/// benchmark can measure webhook-in → reply-at-sink latency. Runs until SIGINT/SIGTERM.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>

#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: sink PORT OUTPUT_FILE\n";
    return 2;
  }
  auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  std::FILE* out = std::fopen(argv[2], "w");
  if (!out) {
    std::cerr << "sink: cannot write " << argv[2] << "\n";
    return 2;
  }
  // Line-buffered: bench/run joins this file while the sink still runs.
  std::setvbuf(out, nullptr, _IOLBF, 0);
  std::mutex mutex;
  std::atomic<uint64_t> ids{0};
  // Meta's wamids are unique for ever; a sink restarted against the same database (the
  // baseline scenario) must not hand out ids the node already recorded.
  const auto run = std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  using router_t = restinio::router::express_router_t<>;
  struct traits : restinio::default_traits_t {
    using request_handler_t = router_t;
  };
  auto router = std::make_unique<router_t>();
  router->http_post("/:version/:phone/messages", [&](auto req, auto) {
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    auto body = nlohmann::json::parse(req->body(), nullptr, false);
    auto to = body.is_object() ? body.value("to", "") : std::string();
    {
      std::lock_guard<std::mutex> guard(mutex);
      std::fprintf(out, "%s\t%lld\n", to.c_str(), static_cast<long long>(now));
    }
    req->create_response()
      .append_header(restinio::http_field::content_type, "application/json")
      .set_body(R"({"messaging_product":"whatsapp","messages":[{"id":"wamid.sink.)" + run + "."
                + std::to_string(++ids) + "\"}]}")
      .done();
    return restinio::request_accepted();
  });
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto server = restinio::run_async(restinio::own_io_context(),
                                    restinio::server_settings_t<traits>{}.address("127.0.0.1").port(port).request_handler(
                                      std::move(router)),
                                    1);
  int sig = 0;
  sigwait(&set, &sig);
  server->stop();
  server->wait();
  std::fclose(out);
  return 0;
}
