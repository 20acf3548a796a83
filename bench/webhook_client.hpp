#pragma once
/// What the booker uses as Meta's side of WhatsApp: the notification envelope and one
/// signed POST of it to the node (the load generator builds its requests without JSON:
/// see loadgen.cpp).

#include <string>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "core/signature.hpp"
#include "options.hpp"

namespace atendeai::bench {

/// A WhatsApp Cloud API notification for one phone_number_id with these contacts and messages.
inline nlohmann::json notification(const std::string& phone_number_id, nlohmann::json contacts,
                                   nlohmann::json messages) {
  return {{"object", "whatsapp_business_account"},
          {"entry",
           {{{"id", "bench"},
             {"changes",
              {{{"field", "messages"},
                {"value",
                 {{"messaging_product", "whatsapp"},
                  {"metadata", {{"display_phone_number", "5511300000000"}, {"phone_number_id", phone_number_id}}},
                  {"contacts", std::move(contacts)},
                  {"messages", std::move(messages)}}}}}}}}}};
}

inline size_t discard_body(char*, size_t size, size_t n, void*) { return size * n; }

/// POSTs `body` to the webhook URL signed with the app secret on the easy handle `c`;
/// returns the HTTP status, 0 when no answer came (connection refused, reset, timeout).
inline long post_signed(CURL* c, const std::string& url, const std::string& secret, const std::string& body) {
  auto sig = "X-Hub-Signature-256: " + atendeai::core::whatsapp_signature(secret, body);
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
  h = curl_slist_append(h, sig.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  return status;
}

} // namespace atendeai::bench
