#include "actors/language_model.hpp"

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>
#include <curl/curl.h>

#include "core/language_model.hpp"
#include "core/log.hpp"
#include "core/secret_box.hpp"

namespace atendeai::actors {

namespace {

using steady = std::chrono::steady_clock;

/// One HTTP exchange's result.
struct http_result {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  bool too_large = false;
};

struct body_sink {
  std::string* body;
  size_t limit;
  bool* too_large;
};

size_t collect_capped(char* data, size_t size, size_t n, void* out) {
  auto* sink = static_cast<body_sink*>(out);
  if (sink->body->size() + size * n > sink->limit) {
    *sink->too_large = true;
    return 0; // aborts the transfer
  }
  sink->body->append(data, size * n);
  return size * n;
}

/// The failure kind of an HTTP result, "" when it is a 2xx.
std::string failure_of(const http_result& r) {
  if (r.too_large)
    return "too_large";
  if (r.code == CURLE_OPERATION_TIMEDOUT)
    return "timeout";
  if (r.code != CURLE_OK)
    return "unreachable";
  if (r.status == 429)
    return "http_429";
  if (r.status >= 500)
    return "http_5xx";
  if (r.status < 200 || r.status >= 300)
    return "http_error";
  return {};
}

} // namespace

struct language_model_state {
  static constexpr const char* name = "language_model";
  language_model_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  CURL* easy = nullptr; ///< reused: its connection cache keeps the provider's connection open

  ~language_model_state() {
    if (easy)
      curl_easy_cleanup(easy);
  }

  // -- work -------------------------------------------------------------------

  /// One blocking request: GET without a body, POST with `json` or `form`.
  http_result perform(const std::string& url, const std::vector<std::string>& headers, const std::string* json,
                      curl_mime* form, size_t max_bytes) {
    if (!easy)
      easy = curl_easy_init();
    else
      curl_easy_reset(easy);
    http_result r;
    body_sink sink{&r.body, max_bytes, &r.too_large};
    curl_slist* list = nullptr;
    for (auto& h : headers)
      list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(node->cfg.ai.timeout_ms));
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(node->cfg.ai.timeout_ms, 3000)));
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_capped);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
    if (json) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, json->data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(json->size()));
    } else if (form) {
      curl_easy_setopt(easy, CURLOPT_MIMEPOST, form);
    }
    r.code = curl_easy_perform(easy);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(list);
    if (r.too_large)
      r.code = CURLE_OK;
    return r;
  }

  std::vector<std::string> provider_headers(bool json) const {
    std::vector<std::string> h;
    if (json)
      h.emplace_back("Content-Type: application/json");
    else
      h.emplace_back("Expect:"); // a form: no 100-continue round trip before the audio
    if (!node->cfg.ai.api_key.empty())
      h.push_back((node->cfg.ai.auth_header == "api-key" ? "api-key: " : "Authorization: Bearer ") +
                  node->cfg.ai.api_key);
    return h;
  }

  /// Counts one provider call and tells the breaker; a failure is logged without content.
  void count(const char* kind, const std::string& clinic_id, const std::string& outcome, steady::time_point started) {
    auto& m = *node->metrics;
    m.counter_with("atendeai_model_calls_total", "Calls to the language model provider, by kind and outcome",
                   {{"kind", kind}, {"outcome", outcome}})
      .inc();
    m.histogram_with("atendeai_model_latency_seconds", "Latency of calls to the language model provider",
                     {{"kind", kind}})
      .observe(std::chrono::duration<double>(steady::now() - started).count());
    if (outcome == "ok") {
      node->model_breaker->succeeded();
      return;
    }
    node->model_breaker->failed(steady::now());
    m.counter_with("atendeai_model_failures_total", "Failed calls to the language model provider, by kind",
                   {{"kind", kind}, {"reason", outcome}})
      .inc();
    core::log_event(spdlog::level::warn, "model_call_failed",
                    {{"clinic_id", clinic_id}, {"kind", kind}, {"reason", outcome}});
  }

  model_result breaker_open(const char* kind) {
    node->metrics
      ->counter_with("atendeai_model_calls_total", "Calls to the language model provider, by kind and outcome",
                     {{"kind", kind}, {"outcome", "breaker_open"}})
      .inc();
    return model_result::of("breaker_open");
  }

  model_result chat(const model_call& c) {
    if (!node->model_breaker->allow(steady::now()))
      return breaker_open("chat");
    auto started = steady::now();
    auto r = perform(node->cfg.ai.base_url + "/chat/completions", provider_headers(true), &c.body, nullptr,
                     1 << 20);
    model_result out;
    out.outcome = failure_of(r);
    if (out.outcome == "too_large")
      out.outcome = "malformed";
    if (out.outcome.empty()) {
      if (auto done = core::read_completion(r.body)) {
        out.outcome = "ok";
        out.content = std::move(done->content);
        out.prompt_tokens = done->prompt_tokens;
        out.completion_tokens = done->completion_tokens;
        auto& m = *node->metrics;
        const char* help = "Tokens sent to and received from the language model, by clinic";
        m.counter_with("atendeai_model_tokens_total", help, {{"clinic_id", c.clinic_id}, {"direction", "in"}})
          .inc(static_cast<uint64_t>(std::max<int64_t>(0, out.prompt_tokens)));
        m.counter_with("atendeai_model_tokens_total", help, {{"clinic_id", c.clinic_id}, {"direction", "out"}})
          .inc(static_cast<uint64_t>(std::max<int64_t>(0, out.completion_tokens)));
      } else {
        out.outcome = "malformed";
      }
    }
    count("chat", c.clinic_id, out.outcome, started);
    return out;
  }

  /// Fetches the voice note with the account's token, then transcribes it.
  void transcribe(media_call c, caf::typed_response_promise<model_result> rp) {
    if (!node->cfg.ai.transcription) {
      rp.deliver(model_result::of("no_transcription"));
      return;
    }
    self->request(node->reader_for(c.clinic_id), std::chrono::seconds(10), token_atom::value, c.clinic_id,
                  c.account_id)
      .await(
        [this, c, rp](std::string& stored) mutable {
          auto token = core::plain_secret(node->data_key.get(), stored);
          std::string bearer = token && !token->empty() ? *token : node->cfg.whatsapp.access_token;
          rp.deliver(fetch_and_transcribe(c, bearer));
        },
        [this, c, rp](caf::error& err) mutable {
          core::log_event(spdlog::level::warn, "media_token_unavailable",
                          {{"clinic_id", c.clinic_id}, {"error", caf::to_string(err)}});
          rp.deliver(model_result::of("no_token"));
        });
  }

  model_result fetch_and_transcribe(const media_call& c, const std::string& bearer) {
    auto& m = *node->metrics;
    auto media = [&](const std::string& outcome) {
      m.counter_with("atendeai_media_fetches_total", "Voice notes fetched from the channel, by outcome",
                     {{"outcome", outcome}})
        .inc();
      return model_result::of(outcome);
    };
    if (bearer.empty())
      return media("no_token");
    const auto limit = static_cast<size_t>(node->cfg.ai.media_max_bytes);
    const std::vector<std::string> auth{"Authorization: Bearer " + bearer};
    auto& w = node->cfg.whatsapp;
    auto info = perform(w.api_base + "/" + w.api_version + "/" + c.media_id, auth, nullptr, nullptr, 64 * 1024);
    if (!failure_of(info).empty())
      return media("fetch_failed");
    auto j = nlohmann::json::parse(info.body, nullptr, false);
    if (!j.is_object() || !j.contains("url") || !j["url"].is_string())
      return media("fetch_failed");
    if (j.value("file_size", int64_t{0}) > static_cast<int64_t>(limit))
      return media("too_large");
    auto mime = j.value("mime_type", std::string("audio/ogg"));
    auto file = perform(j["url"].get<std::string>(), auth, nullptr, nullptr, limit);
    if (file.too_large)
      return media("too_large");
    if (!failure_of(file).empty() || file.body.empty())
      return media("fetch_failed");
    media("ok");
    if (!node->model_breaker->allow(steady::now()))
      return breaker_open("transcription");
    auto started = steady::now();
    curl_mime* form = curl_mime_init(easy);
    auto* part = curl_mime_addpart(form);
    curl_mime_name(part, "model");
    curl_mime_data(part, node->cfg.ai.transcription_model.c_str(), CURL_ZERO_TERMINATED);
    part = curl_mime_addpart(form);
    curl_mime_name(part, "response_format");
    curl_mime_data(part, "json", CURL_ZERO_TERMINATED);
    part = curl_mime_addpart(form);
    curl_mime_name(part, "file");
    curl_mime_data(part, file.body.data(), file.body.size());
    curl_mime_filename(part, mime.find("mpeg") != std::string::npos ? "voice.mp3" : "voice.ogg");
    curl_mime_type(part, mime.substr(0, mime.find(';')).c_str());
    auto r = perform(node->cfg.ai.base_url + "/audio/transcriptions", provider_headers(false), nullptr, form,
                     1 << 20);
    curl_mime_free(form);
    model_result out;
    out.outcome = failure_of(r);
    if (r.status == 404 || r.status == 501) { // a provider without speech to text: not a failure of it
      node->model_breaker->succeeded();
      m.counter_with("atendeai_model_calls_total", "Calls to the language model provider, by kind and outcome",
                     {{"kind", "transcription"}, {"outcome", "no_transcription"}})
        .inc();
      return model_result::of("no_transcription");
    }
    if (out.outcome.empty()) {
      auto t = nlohmann::json::parse(r.body, nullptr, false);
      if (t.is_object() && t.contains("text") && t["text"].is_string()) {
        out.outcome = "ok";
        out.content = t["text"].get<std::string>();
      } else {
        out.outcome = "malformed";
      }
    } else if (out.outcome == "too_large") {
      out.outcome = "malformed";
    }
    count("transcription", c.clinic_id, out.outcome, started);
    return out;
  }
};

language_model_actor::behavior_type language_model(language_model_actor::stateful_pointer<language_model_state> self,
                                                   node_context_ptr node) {
  self->state.self = self;
  self->state.node = std::move(node);
  return {
    [self](ask_atom, const model_call& c) { return self->state.chat(c); },
    [self](transcribe_atom, media_call& c) -> caf::result<model_result> {
      auto rp = self->make_response_promise<model_result>();
      self->state.transcribe(std::move(c), rp);
      return rp;
    },
  };
}

language_model_actor spawn_language_model(caf::actor_system& sys, node_context_ptr node) {
  return sys.spawn<caf::detached>(language_model, std::move(node));
}

void register_model_metrics(const node_context& node) {
  auto breaker = node.model_breaker;
  node.metrics->gauge_callback("atendeai_model_breaker_state",
                               "The language model's circuit breaker: 0 closed, 1 open, 2 half open", [breaker] {
                                 auto s = breaker->current(steady::now());
                                 return s == core::circuit_breaker::state::closed ? 0.0
                                        : s == core::circuit_breaker::state::open ? 1.0
                                                                                  : 2.0;
                               });
}

} // namespace atendeai::actors
