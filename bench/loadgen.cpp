/// WhatsApp webhook load generator, event-driven (epoll) so it does not eat the machine it
/// measures: a fixed number of I/O threads (1 by default) drive N keep-alive HTTP/1.1
/// connections, and every request (headers, body and its X-Hub-Signature-256) is built
/// and signed before the clock starts, so the run itself does no JSON and no HMAC work.
///
/// Two modes:
///  - closed loop (--rate 0): each connection sends its next request when the answer to
///    the previous one arrives, until --duration has passed (or --requests were sent);
///  - open loop (--rate R): request i is due at t0 + i/R; it leaves on the first free
///    connection and its latency is measured from its *scheduled* time, so a slow server
///    cannot hide its latency by slowing the sender down (no coordinated omission).
///
/// Prints one JSON summary on stdout and, with --sent-log, one line per acknowledged
/// message "contact<TAB>scheduled_epoch_us"; with --acked-log, the wamid of every
/// acknowledged message, one a line. The summary carries the generator's own CPU time
/// during the run (getrusage), so bench/run can report it per message.

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/signature.hpp"
#include "options.hpp"

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::duration_cast;
using ns = std::chrono::nanoseconds;

struct options {
  std::string url = "http://127.0.0.1:8080/webhooks/whatsapp";
  std::string secret;
  double rate = 1000;         ///< requests per second (0: closed loop, as fast as answered)
  double duration_s = 5;
  long requests = 0;          ///< with rate 0: stop after this many requests instead of --duration
  int connections = 64;       ///< --threads (historical name) or --connections
  int io_threads = 1;         ///< event loops (each owns connections / its share of the schedule)
  int clinics = 1;            ///< phone_number_ids bench-phone-0 .. (or --phone for one)
  std::string phone;          ///< a single phone_number_id (e.g. demo-phone-number-id)
  long contacts = 1000;       ///< distinct patients (wa_ids); 0: a fresh contact per message
  long contact_offset = 0;
  int per_request = 1;        ///< messages per POST
  std::string run_id = "r";
  std::string sent_log;
  std::string acked_log;
  double prebuild_rate = 20000; ///< closed loop with --duration: messages/s to pre-build for
  double max_run_s = 0;         ///< open loop: stop sending after this long (0: never); the rest is "unsent"
  double timeout_s = 30;        ///< a request without a full answer after this long is a transport error
};

/// What the patients write (message s: texts[s mod n]). bench/run counts on exactly one
/// reply per message (replies/s and the drain at the sink), so every text is understood
/// (`atendeai understand`: greeting, hours, location, services, book, goodbye) and none
/// asks for a human: a hand-over ("quero falar com uma pessoa", or three messages in a
/// row not understood, such as "aceitam unimed?") leaves the patient's next messages to
/// the staff, unanswered by the bot.
const char* texts[] = {
  "oi", "bom dia!", "quais os horários de vocês?", "vcs abrem sabado?", "qual o endereço?",
  "kd o endereço", "quanto custa a consulta de cardiologia?", "quais serviços vocês têm?",
  "quero marcar uma consulta", "qro marcar consulta amanha de manha", "obrigado, tchau",
  "Hi! What are your opening hours?", "where are you located?", "qual o valor da consulta?",
  "preciso de informação sobre dermatologia", "vocês abrem domingo?"};
constexpr long n_texts = sizeof texts / sizeof texts[0];

int64_t epoch_us() {
  return duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double cpu_seconds(double* user = nullptr, double* sys = nullptr) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double u = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  double s = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
  if (user)
    *user = u;
  if (sys)
    *sys = s;
  return u + s;
}

/// What a request's messages look like: the contact and the wamid of message m of request i.
struct naming {
  const options& o;
  long seq(long i, int m) const { return i * o.per_request + m; }
  long contact(long seq) const { return o.contact_offset + (o.contacts > 0 ? seq % o.contacts : seq); }
  std::string wa_id(long seq) const { return "55119" + std::to_string(10000000 + contact(seq)); }
  std::string wamid(long seq) const { return "wamid.bench." + o.run_id + "." + std::to_string(seq); }
  std::string phone(long i) const { return o.phone.empty() ? "bench-phone-" + std::to_string(i % o.clinics) : o.phone; }
};

/// The whole HTTP request i (head + signed body), built by string concatenation: the
/// same notification shape as webhook_client.hpp's, without a JSON library.
void build_request(const options& o, const naming& n, const std::string& host_header, const std::string& path,
                   const std::string& timestamp, long i, std::string& out) {
  std::string body;
  body.reserve(320 + static_cast<size_t>(o.per_request) * 300);
  body += R"({"entry":[{"changes":[{"field":"messages","value":{"contacts":[)";
  for (int m = 0; m < o.per_request; ++m) {
    if (m)
      body += ',';
    body += R"({"profile":{"name":"Paciente"},"wa_id":")";
    body += n.wa_id(n.seq(i, m));
    body += "\"}";
  }
  body += R"(],"messages":[)";
  for (int m = 0; m < o.per_request; ++m) {
    long s = n.seq(i, m);
    if (m)
      body += ',';
    body += R"({"from":")";
    body += n.wa_id(s);
    body += R"(","id":")";
    body += n.wamid(s);
    body += R"(","text":{"body":")";
    body += texts[s % n_texts];
    body += R"("},"timestamp":")";
    body += timestamp;
    body += R"(","type":"text"})";
  }
  body += R"(],"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511300000000","phone_number_id":")";
  body += n.phone(i);
  body += R"("}}}],"id":"bench"}],"object":"whatsapp_business_account"})";
  out += "POST ";
  out += path;
  out += " HTTP/1.1\r\nHost: ";
  out += host_header;
  out += "\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ";
  out += atendeai::core::whatsapp_signature(o.secret, body);
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
}

/// Requests 0 .. count-1 in one arena, built before the run.
struct prebuilt {
  std::string arena;
  std::vector<size_t> offsets{0}; ///< request i is arena[offsets[i], offsets[i + 1])
  long count() const { return static_cast<long>(offsets.size()) - 1; }
  std::string_view get(long i) const {
    return std::string_view(arena).substr(offsets[static_cast<size_t>(i)],
                                          offsets[static_cast<size_t>(i) + 1] - offsets[static_cast<size_t>(i)]);
  }
};

struct stats {
  long sent = 0, ok = 0, status_5xx = 0, status_4xx = 0, failed = 0, messages_acked = 0;
  long retried = 0;         ///< requests re-sent once on a fresh connection (a reused one was closed under them)
  long built_during_run = 0; ///< requests past the pre-built ones (built and signed during the run)
  long unsent = 0;          ///< open loop: scheduled but never sent (--max-run-s reached)
  std::vector<double> latencies_ms; ///< acknowledged (200) requests
  std::vector<long> acked;          ///< indices of acknowledged requests
  std::vector<int64_t> acked_sched_us; ///< their scheduled epoch time (with --sent-log)
  steady::time_point last_answer{};
};

double pct(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  auto k = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size())
    return false;
  for (size_t k = 0; k < name.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(line[k])) != name[k])
      return false;
  return true;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
    v.remove_suffix(1);
  return v;
}

/// Everything shared by the event loops (read-only during the run but `next`).
struct shared_state {
  const options* o = nullptr;
  const naming* names = nullptr;
  const prebuilt* pre = nullptr;
  std::string host_header, path, timestamp;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  steady::time_point t0, deadline, give_up;
  int64_t t0_epoch_us = 0;
  long total = 0;            ///< open loop or --requests: requests to send (0: until the deadline)
  std::atomic<long> next{0}; ///< closed loop: the next request index
};

/// One event loop: its connections, its part of the schedule, its counts.
class event_loop {
public:
  event_loop(shared_state& s, int index, int io_threads, int connections)
      : s_(s), stride_(io_threads), next_open_(index) {
    conns_.resize(static_cast<size_t>(std::max(connections, 1)));
  }

  /// Connects every connection (before the clock starts: the generator's own setup).
  void connect_all(stats& st) {
    st_ = &st;
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    for (size_t c = 0; c < conns_.size(); ++c)
      open_connection(c);
    auto until = steady::now() + std::chrono::seconds(5);
    while (steady::now() < until) {
      bool pending = false;
      for (auto& k : conns_)
        pending = pending || (k.fd >= 0 && !k.connected);
      if (!pending)
        break;
      poll_until(steady::now() + std::chrono::milliseconds(50));
    }
  }

  void run() {
    const bool open_loop = s_.o->rate > 0;
    auto next_timeout_check = steady::now() + std::chrono::milliseconds(100);
    while (true) {
      auto now = steady::now();
      dispatch(now, open_loop);
      if (finished(now, open_loop))
        break;
      if (now >= next_timeout_check) {
        check_timeouts(now);
        next_timeout_check = now + std::chrono::milliseconds(100);
      }
      poll_until(wake_time(next_timeout_check, open_loop));
    }
    for (auto& k : conns_)
      if (k.fd >= 0)
        ::close(k.fd);
    ::close(ep_);
  }

private:

  struct connection {
    int fd = -1;
    bool connected = false;
    bool used = false;         ///< has answered a request already (a reused keep-alive connection)
    bool want_write = false;
    long req = -1;             ///< the request in flight (-1: free)
    bool retried = false;      ///< that request was already re-sent once
    steady::time_point sched{}, sent_at{}, retry_at{};
    std::string_view out;      ///< what is being written
    std::string owned;         ///< a request built during the run
    size_t woff = 0;
    std::string in;            ///< the answer so far
    size_t head_end = 0;       ///< 0: head not complete yet
    int status = 0;
    long content_length = -1;
    bool chunked = false, until_close = false, close_after = false;
  };

  shared_state& s_;
  int stride_;
  long next_open_; ///< open loop: this loop's next request index (index, index + stride, ...)
  long inflight_ = 0; ///< connections with a request
  std::vector<connection> conns_;
  stats* st_ = nullptr;
  int ep_ = -1;
  bool have_pwait2_ = true;
  char buf_[65536];

  steady::time_point due(long i) const {
    return s_.t0 + duration_cast<steady::duration>(std::chrono::duration<double>(static_cast<double>(i) / s_.o->rate));
  }

  /// When to wake at the latest: the next timeout check, the next scheduled request (open
  /// loop) or the deadline (closed loop) when a connection is free for it, or the end of
  /// a free connection's back-off.
  steady::time_point wake_time(steady::time_point limit, bool open_loop) const {
    auto wake = limit;
    auto now = steady::now();
    bool more = open_loop ? next_open_ < s_.total : (s_.total > 0 ? s_.next.load() < s_.total : now < s_.deadline);
    if (!more || inflight_ == static_cast<long>(conns_.size()))
      return wake; // nothing to start before an answer (or the next check)
    bool free_now = false;
    for (auto& k : conns_)
      if (k.req < 0) {
        if (k.retry_at > now)
          wake = std::min(wake, k.retry_at);
        else
          free_now = true;
      }
    if (open_loop && free_now)
      wake = std::min(wake, due(next_open_));
    if (!open_loop && s_.total == 0)
      wake = std::min(wake, s_.deadline);
    return wake;
  }

  /// Waits for events until `when` at the latest (epoll_pwait2's nanosecond timeout: an
  /// open-loop request leaves on time without a timer fd to arm and read).
  void poll_until(steady::time_point when) {
    epoll_event events[256];
    auto left = when - steady::now();
    if (left < steady::duration::zero())
      left = steady::duration::zero();
    int n = -1;
    if (have_pwait2_) {
      timespec ts{};
      auto sec = duration_cast<std::chrono::seconds>(left);
      ts.tv_sec = sec.count();
      ts.tv_nsec = duration_cast<ns>(left - sec).count();
      n = epoll_pwait2(ep_, events, 256, &ts, nullptr);
      if (n < 0 && errno == ENOSYS)
        have_pwait2_ = false;
    }
    if (!have_pwait2_) {
      auto ms = duration_cast<std::chrono::milliseconds>(left + std::chrono::microseconds(999)).count();
      n = epoll_wait(ep_, events, 256, static_cast<int>(std::min<int64_t>(ms, 1000)));
    }
    for (int k = 0; k < n; ++k)
      on_event(static_cast<size_t>(events[k].data.u64), events[k].events);
  }

  /// Opens connection c (non-blocking connect); false if it failed at once.
  bool open_connection(size_t c) {
    auto& k = conns_[c];
    k.fd = ::socket(s_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (k.fd < 0)
      return false;
    int one = 1;
    setsockopt(k.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    k.connected = false;
    k.used = false;
    int r = ::connect(k.fd, reinterpret_cast<const sockaddr*>(&s_.addr), s_.addr_len);
    if (r != 0 && errno != EINPROGRESS) {
      ::close(k.fd);
      k.fd = -1;
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = c;
    k.want_write = true;
    epoll_ctl(ep_, EPOLL_CTL_ADD, k.fd, &ev);
    return true;
  }

  void close_connection(size_t c) {
    auto& k = conns_[c];
    if (k.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, k.fd, nullptr);
      ::close(k.fd);
    }
    k.fd = -1;
    k.connected = false;
    k.want_write = false;
  }

  void set_write_interest(size_t c, bool on) {
    auto& k = conns_[c];
    if (k.want_write == on || k.fd < 0)
      return;
    k.want_write = on;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, k.fd, &ev);
  }

  void reset_answer(connection& k) {
    k.in.clear();
    k.head_end = 0;
    k.status = 0;
    k.content_length = -1;
    k.chunked = k.until_close = k.close_after = false;
  }

  /// The connection broke or could not connect. Its request in flight goes again once on
  /// a fresh connection when a reused keep-alive connection was closed under it before
  /// any answer (what curl does too; a duplicate wamid is harmless), else it is a
  /// transport error.
  void connection_failed(size_t c, steady::time_point now) {
    auto& k = conns_[c];
    bool resend = k.req >= 0 && k.used && !k.retried && k.in.empty();
    close_connection(c);
    if (k.req >= 0 && resend) {
      ++st_->retried;
      k.retried = true;
      k.woff = 0;
      reset_answer(k);
      k.sent_at = now;
      if (open_connection(c))
        return; // written once connected
    }
    if (k.req >= 0) {
      ++st_->failed;
      k.req = -1;
      --inflight_;
      k.owned.clear();
    }
    reset_answer(k);
    // Closed loop: do not spin on a server that refuses; open loop: the schedule paces.
    k.retry_at = s_.o->rate > 0 ? now : now + std::chrono::milliseconds(10);
  }

  /// Starts request i (scheduled at sched) on connection c, connecting first if it is down.
  void start(size_t c, long i, steady::time_point sched, steady::time_point now) {
    auto& k = conns_[c];
    ++st_->sent;
    ++inflight_;
    k.req = i;
    k.sched = sched;
    k.retried = false;
    k.owned.clear();
    if (i < s_.pre->count()) {
      k.out = s_.pre->get(i);
    } else {
      ++st_->built_during_run;
      build_request(*s_.o, *s_.names, s_.host_header, s_.path, s_.timestamp, i, k.owned);
      k.out = k.owned;
    }
    k.woff = 0;
    reset_answer(k);
    k.sent_at = now;
    if (k.fd < 0) {
      if (!open_connection(c))
        connection_failed(c, now);
      return; // written once connected
    }
    if (k.connected)
      write_some(c);
  }

  void write_some(size_t c) {
    auto& k = conns_[c];
    while (k.woff < k.out.size()) {
      ssize_t w = ::send(k.fd, k.out.data() + k.woff, k.out.size() - k.woff, MSG_NOSIGNAL);
      if (w > 0) {
        k.woff += static_cast<size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        set_write_interest(c, true);
        return;
      }
      connection_failed(c, steady::now());
      return;
    }
    set_write_interest(c, false);
  }

  void dispatch(steady::time_point now, bool open_loop) {
    if (open_loop) {
      if (s_.o->max_run_s > 0 && now >= s_.give_up) {
        // Past --max-run-s: what was not sent by now stays unsent.
        for (; next_open_ < s_.total; next_open_ += stride_)
          ++st_->unsent;
        return;
      }
      for (size_t c = 0; c < conns_.size() && next_open_ < s_.total; ++c) {
        auto sched = due(next_open_);
        if (sched > now)
          break;
        auto& k = conns_[c];
        if (k.req >= 0 || k.retry_at > now)
          continue;
        start(c, next_open_, sched, now);
        next_open_ += stride_;
      }
      return;
    }
    if (inflight_ == static_cast<long>(conns_.size()))
      return;
    for (size_t c = 0; c < conns_.size(); ++c) {
      auto& k = conns_[c];
      if (k.req >= 0 || k.retry_at > now)
        continue;
      long i;
      if (s_.total > 0) {
        if (s_.next.load() >= s_.total)
          return;
        i = s_.next.fetch_add(1);
        if (i >= s_.total)
          return;
      } else {
        if (now >= s_.deadline)
          return;
        i = s_.next.fetch_add(1);
      }
      start(c, i, now, now);
    }
  }

  bool finished(steady::time_point now, bool open_loop) const {
    if (inflight_ > 0)
      return false;
    if (open_loop)
      return next_open_ >= s_.total;
    if (s_.total > 0)
      return s_.next.load() >= s_.total;
    return now >= s_.deadline;
  }

  void check_timeouts(steady::time_point now) {
    auto limit = duration_cast<steady::duration>(std::chrono::duration<double>(s_.o->timeout_s));
    for (size_t c = 0; c < conns_.size(); ++c) {
      auto& k = conns_[c];
      if (k.req >= 0 && now - k.sent_at > limit) {
        k.retried = true; // a timeout is an error, not resent
        connection_failed(c, now);
      }
    }
  }

  void on_event(size_t c, uint32_t events) {
    auto& k = conns_[c];
    if (k.fd < 0)
      return;
    auto now = steady::now();
    if (!k.connected) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        return;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(k.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        connection_failed(c, now);
        return;
      }
      k.connected = true;
      if (k.req >= 0)
        write_some(c);
      else
        set_write_interest(c, false);
      return;
    }
    if ((events & EPOLLOUT) && k.req >= 0 && k.woff < k.out.size()) {
      write_some(c);
      if (k.fd < 0)
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
      read_some(c, now);
  }

  void read_some(size_t c, steady::time_point now) {
    auto& k = conns_[c];
    while (k.fd >= 0) {
      ssize_t r = ::recv(k.fd, buf_, sizeof buf_, 0);
      if (r > 0) {
        if (k.req < 0) { // nothing asked: the server should not talk; drop the connection
          close_connection(c);
          return;
        }
        k.in.append(buf_, static_cast<size_t>(r));
        if (answer_complete(k)) {
          finish(c, now);
          return;
        }
        if (static_cast<size_t>(r) < sizeof buf_)
          return;
        continue;
      }
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      // EOF or error.
      if (k.req >= 0 && k.until_close && k.head_end > 0) {
        finish(c, now);
        close_connection(c);
        return;
      }
      if (k.req < 0) { // an idle keep-alive connection closed by the server
        close_connection(c);
        return;
      }
      connection_failed(c, now);
      return;
    }
  }

  /// True once k.in holds a whole HTTP/1.1 answer (Content-Length, chunked or none).
  static bool answer_complete(connection& k) {
    if (k.head_end == 0) {
      auto end = k.in.find("\r\n\r\n");
      if (end == std::string::npos)
        return false;
      k.head_end = end + 4;
      std::string_view head(k.in.data(), end + 2);
      auto eol = head.find("\r\n");
      auto status_line = head.substr(0, eol);
      auto sp = status_line.find(' ');
      if (sp != std::string_view::npos && status_line.size() >= sp + 4)
        std::from_chars(status_line.data() + sp + 1, status_line.data() + sp + 4, k.status);
      for (size_t p = eol + 2; p < head.size();) {
        auto e = head.find("\r\n", p);
        auto line = head.substr(p, e - p);
        p = e + 2;
        auto colon = line.find(':');
        if (colon == std::string_view::npos)
          continue;
        auto value = trim(line.substr(colon + 1));
        if (iequals_prefix(line, "content-length:"))
          std::from_chars(value.data(), value.data() + value.size(), k.content_length);
        else if (iequals_prefix(line, "transfer-encoding:"))
          k.chunked = value.find("chunked") != std::string_view::npos;
        else if (iequals_prefix(line, "connection:"))
          k.close_after = value.find("close") != std::string_view::npos;
      }
      if (!k.chunked && k.content_length < 0)
        k.until_close = !(k.status == 204 || k.status == 304 || (k.status >= 100 && k.status < 200));
    }
    if (k.chunked) {
      size_t p = k.head_end;
      while (true) {
        auto e = k.in.find("\r\n", p);
        if (e == std::string::npos)
          return false;
        size_t size = 0;
        std::from_chars(k.in.data() + p, k.in.data() + e, size, 16);
        p = e + 2;
        if (size == 0) {
          if (k.in.compare(p, 2, "\r\n") == 0)
            return true;
          return k.in.find("\r\n\r\n", p) != std::string::npos; // trailers
        }
        p += size + 2;
        if (p > k.in.size())
          return false;
      }
    }
    if (k.content_length >= 0)
      return k.in.size() >= k.head_end + static_cast<size_t>(k.content_length);
    return !k.until_close;
  }

  void finish(size_t c, steady::time_point now) {
    auto& k = conns_[c];
    auto& st = *st_;
    if (k.status == 200) {
      ++st.ok;
      st.messages_acked += s_.o->per_request;
      st.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - k.sched).count());
      if (!s_.o->acked_log.empty() || !s_.o->sent_log.empty())
        st.acked.push_back(k.req);
      if (!s_.o->sent_log.empty())
        st.acked_sched_us.push_back(s_.t0_epoch_us + duration_cast<std::chrono::microseconds>(k.sched - s_.t0).count());
    } else if (k.status >= 500) {
      ++st.status_5xx;
    } else if (k.status >= 400) {
      ++st.status_4xx;
    } else {
      ++st.failed;
    }
    st.last_answer = now;
    k.req = -1;
    --inflight_;
    k.used = true;
    k.owned.clear();
    bool close = k.close_after || k.until_close;
    reset_answer(k);
    if (close)
      close_connection(c);
  }
};

bool parse_url(const std::string& url, std::string& host, std::string& port, std::string& path) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return false;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) {
    host = authority;
    port = "80";
  } else {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  return !host.empty();
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
         {"--threads", [&](arg v) { o.connections = std::stoi(v); }},
         {"--connections", [&](arg v) { o.connections = std::stoi(v); }},
         {"--io-threads", [&](arg v) { o.io_threads = std::stoi(v); }},
         {"--clinics", [&](arg v) { o.clinics = std::stoi(v); }},
         {"--phone", [&](arg v) { o.phone = v; }},
         {"--contacts", [&](arg v) { o.contacts = std::stol(v); }},
         {"--contact-offset", [&](arg v) { o.contact_offset = std::stol(v); }},
         {"--per-request", [&](arg v) { o.per_request = std::stoi(v); }},
         {"--run-id", [&](arg v) { o.run_id = v; }},
         {"--sent-log", [&](arg v) { o.sent_log = v; }},
         {"--acked-log", [&](arg v) { o.acked_log = v; }},
         {"--prebuild-rate", [&](arg v) { o.prebuild_rate = std::stod(v); }},
         {"--max-run-s", [&](arg v) { o.max_run_s = std::stod(v); }},
         {"--timeout-s", [&](arg v) { o.timeout_s = std::stod(v); }}}))
    return 2;
  if (o.secret.empty()) {
    std::cerr << "loadgen: --secret is required\n";
    return 2;
  }
  o.io_threads = std::clamp(o.io_threads, 1, std::max(1, o.connections));
  o.per_request = std::max(1, o.per_request);
  o.clinics = std::max(1, o.clinics);

  shared_state s;
  s.o = &o;
  std::string host, port;
  if (!parse_url(o.url, host, port, s.path)) {
    std::cerr << "loadgen: only http://host[:port]/path URLs: " << o.url << "\n";
    return 2;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    std::cerr << "loadgen: cannot resolve " << host << "\n";
    return 2;
  }
  std::memcpy(&s.addr, found->ai_addr, found->ai_addrlen);
  s.addr_len = found->ai_addrlen;
  freeaddrinfo(found);
  s.host_header = host + ":" + port;

  // What to send, built and signed before the clock starts.
  naming names{o};
  s.names = &names;
  const int64_t start_epoch_us = epoch_us();
  s.timestamp = std::to_string(start_epoch_us / 1000000);
  if (o.rate > 0)
    s.total = static_cast<long>(o.rate * o.duration_s);
  else if (o.requests > 0)
    s.total = o.requests;
  long to_build = s.total > 0 ? s.total
                              : static_cast<long>(o.prebuild_rate * o.duration_s / o.per_request) + o.connections;
  auto build_started = steady::now();
  double cpu_before_build = cpu_seconds();
  prebuilt pre;
  {
    std::string first;
    if (to_build > 0)
      build_request(o, names, s.host_header, s.path, s.timestamp, 0, first);
    pre.arena.reserve((first.size() + first.size() / 8 + 64) * static_cast<size_t>(to_build) + 4096);
    pre.offsets.reserve(static_cast<size_t>(to_build) + 1);
    for (long i = 0; i < to_build; ++i) {
      build_request(o, names, s.host_header, s.path, s.timestamp, i, pre.arena);
      pre.offsets.push_back(pre.arena.size());
    }
  }
  s.pre = &pre;
  double prebuild_s = std::chrono::duration<double>(steady::now() - build_started).count();
  double prebuild_cpu_s = cpu_seconds() - cpu_before_build;

  // One event loop per I/O thread, each with its share of the connections.
  std::vector<std::unique_ptr<event_loop>> loops;
  std::vector<stats> results(static_cast<size_t>(o.io_threads));
  for (int t = 0; t < o.io_threads; ++t) {
    int share = o.connections / o.io_threads + (t < o.connections % o.io_threads ? 1 : 0);
    loops.push_back(std::make_unique<event_loop>(s, t, o.io_threads, share));
    auto& r = results[static_cast<size_t>(t)];
    r.latencies_ms.reserve(static_cast<size_t>(std::min<long>(to_build, 4000000)));
  }
  for (int t = 0; t < o.io_threads; ++t)
    loops[static_cast<size_t>(t)]->connect_all(results[static_cast<size_t>(t)]);

  double user0, sys0;
  double cpu0 = cpu_seconds(&user0, &sys0);
  s.t0 = steady::now() + std::chrono::milliseconds(10);
  s.t0_epoch_us = epoch_us() + 10000;
  s.deadline = s.t0 + duration_cast<steady::duration>(std::chrono::duration<double>(o.duration_s));
  s.give_up = s.t0 + duration_cast<steady::duration>(std::chrono::duration<double>(o.max_run_s));
  while (steady::now() < s.t0)
    std::this_thread::sleep_until(s.t0);
  std::vector<std::thread> pool;
  for (int t = 1; t < o.io_threads; ++t)
    pool.emplace_back([&, t] { loops[static_cast<size_t>(t)]->run(); });
  loops[0]->run();
  for (auto& t : pool)
    t.join();
  auto ended = steady::now();
  double user1, sys1;
  double cpu1 = cpu_seconds(&user1, &sys1);

  stats all;
  auto last = s.t0;
  for (auto& r : results) {
    all.sent += r.sent;
    all.ok += r.ok;
    all.status_5xx += r.status_5xx;
    all.status_4xx += r.status_4xx;
    all.failed += r.failed;
    all.messages_acked += r.messages_acked;
    all.retried += r.retried;
    all.built_during_run += r.built_during_run;
    all.unsent += r.unsent;
    all.latencies_ms.insert(all.latencies_ms.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    if (r.last_answer > last)
      last = r.last_answer;
  }
  // The run lasted from t0 to its last answer (or to the deadline when nothing answered).
  double elapsed = std::chrono::duration<double>((last > s.t0 ? last : ended) - s.t0).count();
  if (!o.acked_log.empty()) {
    std::ofstream out(o.acked_log);
    for (auto& r : results)
      for (long i : r.acked)
        for (int m = 0; m < o.per_request; ++m)
          out << names.wamid(names.seq(i, m)) << "\n";
  }
  if (!o.sent_log.empty()) {
    std::ofstream out(o.sent_log);
    for (auto& r : results)
      for (size_t k = 0; k < r.acked.size(); ++k)
        for (int m = 0; m < o.per_request; ++m)
          out << names.wa_id(names.seq(r.acked[k], m)) << "\t" << r.acked_sched_us[k] << "\n";
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
                    {"p99", pct(all.latencies_ms, 99)}, {"max", max}}},
    {"mode", o.rate > 0 ? "open" : "closed"},
    {"connections", o.connections},
    {"io_threads", o.io_threads},
    {"per_request", o.per_request},
    {"clinics", o.phone.empty() ? o.clinics : 1},
    {"run_id", o.run_id},
    {"started_epoch_us", s.t0_epoch_us},
    {"ended_epoch_us", s.t0_epoch_us + static_cast<int64_t>(elapsed * 1e6)},
    {"resent_on_fresh_connection", all.retried},
    {"unsent", all.unsent},
    {"prebuilt_requests", pre.count()},
    {"prebuild_s", prebuild_s},
    {"prebuild_cpu_s", prebuild_cpu_s},
    {"built_during_run", all.built_during_run},
    {"cpu_s", cpu1 - cpu0},
    {"cpu_user_s", user1 - user0},
    {"cpu_sys_s", sys1 - sys0}};
  std::cout << summary.dump() << "\n";
  return 0;
}
