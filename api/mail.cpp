#include "api/mail.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

namespace atendeai::api {

namespace {

/// The bare address of a From header ("Name <a@b>" or "a@b") in angle brackets.
std::string address_of(const std::string& from) {
  auto lt = from.find('<'), gt = from.find('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt)
    return from.substr(lt, gt - lt + 1);
  return "<" + from + ">";
}

std::string rfc2822_now() {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

/// libcurl's view of the message being uploaded.
struct upload {
  const std::string* text;
  size_t offset = 0;
};

size_t read_upload(char* out, size_t size, size_t n, void* data) {
  auto* u = static_cast<upload*>(data);
  size_t left = u->text->size() - u->offset;
  size_t take = std::min(left, size * n);
  std::memcpy(out, u->text->data() + u->offset, take);
  u->offset += take;
  return take;
}

/// Appends the message to the 0600 mail file.
void append_to_file(const std::string& path, const std::string& message) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot open the mail file");
  ::fchmod(fd, 0600);
  auto entry = message + "\r\n.\r\n";
  bool ok = ::write(fd, entry.data(), entry.size()) == static_cast<ssize_t>(entry.size());
  ::close(fd);
  if (!ok)
    throw std::runtime_error("cannot write the mail file");
}

} // namespace

void send_mail(const config::mail_settings& m, const std::string& var_dir, const std::string& to,
               const std::string& subject, const std::string& text) {
  std::string message = "From: " + m.from + "\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\nDate: "
                        + rfc2822_now() + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n";
  if (m.smtp_url.empty())
    return append_to_file(var_dir + "/" + m.file, message);
  CURL* c = curl_easy_init();
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  upload u{&message};
  curl_easy_setopt(c, CURLOPT_URL, m.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, address_of(m.from).c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &u);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  auto rc = curl_easy_perform(c);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("SMTP delivery failed: ") + curl_easy_strerror(rc));
}

} // namespace atendeai::api
