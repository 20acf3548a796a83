#include "support/fake_smtp.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace atendeai::test {

struct fake_smtp::impl {
  int listener = -1;
  int port = 0;
  std::atomic<bool> stop{false};
  std::thread loop;
  mutable std::mutex m;
  std::vector<smtp_message> messages;

  static void send_line(int fd, const std::string& line) {
    auto out = line + "\r\n";
    (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  }

  /// One client, one command at a time (enough for libcurl's SMTP dialogue).
  void serve(int fd) {
    send_line(fd, "220 fake-smtp ready");
    std::string buffer;
    smtp_message current;
    bool in_data = false;
    char chunk[4096];
    while (!stop) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0)
        continue;
      auto n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0)
        break;
      buffer.append(chunk, static_cast<size_t>(n));
      for (;;) {
        if (in_data) {
          auto end = buffer.find("\r\n.\r\n");
          if (end == std::string::npos)
            break;
          current.data = buffer.substr(0, end + 2);
          buffer.erase(0, end + 5);
          in_data = false;
          {
            std::lock_guard<std::mutex> lock(m);
            messages.push_back(current);
          }
          current = {};
          send_line(fd, "250 queued");
          continue;
        }
        auto eol = buffer.find("\r\n");
        if (eol == std::string::npos)
          break;
        auto line = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        auto verb = line.substr(0, 4);
        for (auto& c : verb)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (verb == "EHLO" || verb == "HELO") {
          send_line(fd, "250 fake-smtp");
        } else if (verb == "MAIL") {
          current.mail_from = line.substr(line.find(':') + 1);
          send_line(fd, "250 ok");
        } else if (verb == "RCPT") {
          current.rcpt.push_back(line.substr(line.find(':') + 1));
          send_line(fd, "250 ok");
        } else if (verb == "DATA") {
          in_data = true;
          send_line(fd, "354 end with <CRLF>.<CRLF>");
        } else if (verb == "QUIT") {
          send_line(fd, "221 bye");
          return;
        } else {
          send_line(fd, "250 ok");
        }
      }
    }
  }
};

fake_smtp::fake_smtp() : impl_(std::make_unique<impl>()) {
  impl_->listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (impl_->listener < 0 || ::bind(impl_->listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
      || ::listen(impl_->listener, 16) != 0 || ::getsockname(impl_->listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("fake_smtp: cannot listen");
  impl_->port = ntohs(addr.sin_port);
  impl_->loop = std::thread([i = impl_.get()] {
    while (!i->stop) {
      pollfd p{i->listener, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0)
        continue;
      int fd = ::accept4(i->listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      i->serve(fd);
      ::close(fd);
    }
  });
}

fake_smtp::~fake_smtp() {
  impl_->stop = true;
  impl_->loop.join();
  ::close(impl_->listener);
}

std::string fake_smtp::url() const {
  return "smtp://127.0.0.1:" + std::to_string(impl_->port);
}

std::vector<smtp_message> fake_smtp::received() const {
  std::lock_guard<std::mutex> lock(impl_->m);
  return impl_->messages;
}

} // namespace atendeai::test
