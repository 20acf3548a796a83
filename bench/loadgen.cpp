/// Open-loop WhatsApp webhook load generator: sends correctly signed notifications on a
/// fixed schedule (request i at t0 + i/rate) and measures each request's latency from
/// its *scheduled* time, so a slow server cannot hide its latency by slowing the sender
/// down (no coordinated omission). Prints one JSON summary on stdout and, with
/// --sent-log, one line per acknowledged message "contact<TAB>scheduled_epoch_us"; with
/// --acked-log, the wamid of every acknowledged message, one a line.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "webhook_client.hpp"

namespace {

struct options {
  std::string url = "http://127.0.0.1:8080/webhooks/whatsapp";
  std::string secret;
  double rate = 1000;         ///< requests per second (0: as fast as possible)
  double duration_s = 5;
  long requests = 0;          ///< with rate 0: stop after this many requests instead of --duration
  int threads = 64;
  int clinics = 1;            ///< phone_number_ids bench-phone-0 .. (or --phone for one)
  std::string phone;          ///< a single phone_number_id (e.g. demo-phone-number-id)
  long contacts = 1000;       ///< distinct patients (wa_ids); 0: a fresh contact per message
  long contact_offset = 0;
  int per_request = 1;        ///< messages per POST
  std::string run_id = "r";
  std::string sent_log;
  std::string acked_log;
};

const char* texts[] = {
  "oi", "bom dia!", "quais os horários de vocês?", "vcs abrem sabado?", "qual o endereço?",
  "kd o endereço", "quanto custa a consulta de cardiologia?", "quais serviços vocês têm?",
  "quero marcar uma consulta", "qro marcar consulta amanha de manha", "obrigado, tchau",
  "Hi! What are your opening hours?", "where are you located?", "aceitam unimed?",
  "quero falar com uma pessoa", "preciso de informação sobre dermatologia"};

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

struct result {
  std::vector<double> latencies_ms; ///< acknowledged (200) requests
  long sent = 0, ok = 0, status_5xx = 0, status_4xx = 0, failed = 0, messages_acked = 0;
  std::vector<std::pair<std::string, int64_t>> acked_contacts;
  std::vector<std::string> acked_wamids;
};

double pct(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  auto k = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

} // namespace

int main(int argc, char** argv) {
  options o;
  using arg = const std::string&;
  if (!atendeai::bench::parse_options(
        argc, argv, "loadgen",
        {{"--url", [&](arg v) { o.url = v; }},
         {"--secret", [&](arg v) { o.secret = v; }},
         {"--rate", [&](arg v) { o.rate = std::stod(v); }},
         {"--duration", [&](arg v) { o.duration_s = std::stod(v); }},
         {"--requests", [&](arg v) { o.requests = std::stol(v); }},
         {"--threads", [&](arg v) { o.threads = std::stoi(v); }},
         {"--clinics", [&](arg v) { o.clinics = std::stoi(v); }},
         {"--phone", [&](arg v) { o.phone = v; }},
         {"--contacts", [&](arg v) { o.contacts = std::stol(v); }},
         {"--contact-offset", [&](arg v) { o.contact_offset = std::stol(v); }},
         {"--per-request", [&](arg v) { o.per_request = std::stoi(v); }},
         {"--run-id", [&](arg v) { o.run_id = v; }},
         {"--sent-log", [&](arg v) { o.sent_log = v; }},
         {"--acked-log", [&](arg v) { o.acked_log = v; }}}))
    return 2;
  if (o.secret.empty()) {
    std::cerr << "loadgen: --secret is required\n";
    return 2;
  }
  curl_global_init(CURL_GLOBAL_ALL);
  const long total = o.rate > 0 ? static_cast<long>(o.rate * o.duration_s) : 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.duration_s);
  std::atomic<long> next{0};
  std::vector<result> results(static_cast<size_t>(o.threads));
  const auto t0 = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  const int64_t t0_epoch_us = now_us() + 100000;

  auto worker = [&](int w) {
    auto& r = results[static_cast<size_t>(w)];
    CURL* c = curl_easy_init();
    while (true) {
      long i = next.fetch_add(1);
      std::chrono::steady_clock::time_point scheduled;
      if (o.rate > 0) {
        if (i >= total)
          break;
        scheduled = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(static_cast<double>(i) / o.rate));
        std::this_thread::sleep_until(scheduled);
      } else {
        scheduled = std::chrono::steady_clock::now();
        if (o.requests > 0 ? i >= o.requests : scheduled >= deadline)
          break;
      }
      // Build one notification with per_request messages.
      nlohmann::json msgs = nlohmann::json::array(), contacts = nlohmann::json::array();
      std::vector<std::string> wa_ids, wamids;
      for (int m = 0; m < o.per_request; ++m) {
        long seq = i * o.per_request + m;
        long contact = o.contact_offset + (o.contacts > 0 ? seq % o.contacts : seq);
        auto wa = "55119" + std::to_string(10000000 + contact);
        wa_ids.push_back(wa);
        wamids.push_back("wamid.bench." + o.run_id + "." + std::to_string(seq));
        msgs.push_back({{"from", wa}, {"id", wamids.back()},
                        {"timestamp", std::to_string(t0_epoch_us / 1000000)}, {"type", "text"},
                        {"text", {{"body", texts[seq % (sizeof texts / sizeof texts[0])]}}}});
        contacts.push_back({{"profile", {{"name", "Paciente"}}}, {"wa_id", wa}});
      }
      auto phone = o.phone.empty() ? "bench-phone-" + std::to_string(i % o.clinics) : o.phone;
      auto text = atendeai::bench::notification(phone, std::move(contacts), std::move(msgs)).dump();
      ++r.sent;
      long status = atendeai::bench::post_signed(c, o.url, o.secret, text);
      auto done = std::chrono::steady_clock::now();
      if (status == 200) {
        ++r.ok;
        r.messages_acked += o.per_request;
        r.latencies_ms.push_back(std::chrono::duration<double, std::milli>(done - scheduled).count());
        if (!o.sent_log.empty()) {
          auto sched_us = t0_epoch_us + std::chrono::duration_cast<std::chrono::microseconds>(scheduled - t0).count();
          for (auto& wa : wa_ids)
            r.acked_contacts.emplace_back(wa, sched_us);
        }
        if (!o.acked_log.empty())
          r.acked_wamids.insert(r.acked_wamids.end(), wamids.begin(), wamids.end());
      } else if (status >= 500) {
        ++r.status_5xx;
      } else if (status >= 400) {
        ++r.status_4xx;
      } else {
        ++r.failed;
      }
    }
    curl_easy_cleanup(c);
  };
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int w = 0; w < o.threads; ++w)
    pool.emplace_back(worker, w);
  for (auto& t : pool)
    t.join();
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() - 0.1;
  result all;
  for (auto& r : results) {
    all.sent += r.sent;
    all.ok += r.ok;
    all.status_5xx += r.status_5xx;
    all.status_4xx += r.status_4xx;
    all.failed += r.failed;
    all.messages_acked += r.messages_acked;
    all.latencies_ms.insert(all.latencies_ms.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    all.acked_contacts.insert(all.acked_contacts.end(), r.acked_contacts.begin(), r.acked_contacts.end());
    all.acked_wamids.insert(all.acked_wamids.end(), r.acked_wamids.begin(), r.acked_wamids.end());
  }
  if (!o.acked_log.empty()) {
    std::ofstream out(o.acked_log);
    for (auto& w : all.acked_wamids)
      out << w << "\n";
  }
  if (!o.sent_log.empty()) {
    std::ofstream out(o.sent_log);
    for (auto& [wa, us] : all.acked_contacts)
      out << wa << "\t" << us << "\n";
  }
  auto max = all.latencies_ms.empty() ? 0 : *std::max_element(all.latencies_ms.begin(), all.latencies_ms.end());
  nlohmann::json summary = {
    {"target_rate", o.rate},
    {"duration_s", elapsed},
    {"requests_sent", all.sent},
    {"requests_acked", all.ok},
    {"messages_acked", all.messages_acked},
    {"acked_messages_per_s", elapsed > 0 ? static_cast<double>(all.messages_acked) / elapsed : 0},
    {"status_5xx", all.status_5xx},
    {"status_4xx", all.status_4xx},
    {"transport_errors", all.failed},
    {"latency_ms", {{"p50", pct(all.latencies_ms, 50)}, {"p95", pct(all.latencies_ms, 95)},
                    {"p99", pct(all.latencies_ms, 99)}, {"max", max}}}};
  std::cout << summary.dump() << "\n";
  curl_global_cleanup();
  return 0;
}
