#pragma once
/// Sending the admin API's e-mails (password resets): through SMTP (mail.smtp_url, with
/// STARTTLS when the server offers it), or appended to a 0600 file under the var folder
/// (mail.file) when no server is configured. Blocking (libcurl): workers only.

#include <string>

#include "config/config.hpp"

namespace atendeai::api {

/// Sends one plain-text UTF-8 message to `to` from mail.from; throws std::runtime_error
/// naming what failed (the caller counts and logs it).
/// @param mail the mail section of the configuration
/// @param var_dir the node's var folder (where the mail file lives)
void send_mail(const config::mail_settings& mail, const std::string& var_dir, const std::string& to,
               const std::string& subject, const std::string& text);

} // namespace atendeai::api
