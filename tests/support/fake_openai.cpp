#include "support/fake_openai.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

#include <restinio/all.hpp>

#include "support/harness.hpp"

namespace atendeai::test {

namespace {

const char* reason_phrase(int status) {
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 408: return "Request Timeout";
  case 413: return "Payload Too Large";
  case 422: return "Unprocessable Entity";
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "Status";
  }
}

/// OpenAI's error body.
std::string error_body(const std::string& message, const std::string& type = "invalid_request_error") {
  return nlohmann::json{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}}
    .dump();
}

/// The request's "model", as OpenAI echoes it.
std::string request_model(const nlohmann::json& request) {
  if (request.is_object() && request.contains("model") && request["model"].is_string())
    return request["model"].get<std::string>();
  return "fake-model";
}

} // namespace

std::string chat_completion_body(const std::string& content, const std::string& model, int prompt_tokens,
                                 int completion_tokens) {
  static std::atomic<std::uint64_t> next_id{0};
  auto created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return nlohmann::json{
    {"id", "chatcmpl-fake-" + std::to_string(++next_id)},
    {"object", "chat.completion"},
    {"created", created.count()},
    {"model", model},
    {"choices",
     {{{"index", 0},
       {"message", {{"role", "assistant"}, {"content", content}, {"refusal", nullptr}}},
       {"logprobs", nullptr},
       {"finish_reason", "stop"}}}},
    {"usage",
     {{"prompt_tokens", prompt_tokens},
      {"completion_tokens", completion_tokens},
      {"total_tokens", prompt_tokens + completion_tokens}}},
    {"system_fingerprint", "fp_fake"}}
    .dump();
}

struct fake_openai::impl {
  using router_t = restinio::router::express_router_t<>;
  /// default_traits_t: a strand per connection, safe with several threads.
  struct traits : restinio::default_traits_t {
    using request_handler_t = router_t;
  };
  using chat_script = std::function<answer(const nlohmann::json& request)>;

  int port = 0;
  mutable std::mutex mutex;
  std::condition_variable wake; ///< notified when the server stops (ends the delays)
  bool stopping = false;
  std::deque<chat_script> chat_queue;
  chat_script chat_default;
  std::deque<answer> transcription_queue;
  std::vector<nlohmann::json> chats;
  std::vector<std::pair<std::string, std::string>> transcriptions;
  std::vector<std::string> authorizations;
  restinio::running_server_handle_t<traits> server;

  /// Records the request's Authorization header; call with `mutex` held.
  template <typename Request> void record_authorization(const Request& req) {
    auto auth = req->header().try_get_field("Authorization");
    authorizations.emplace_back(auth ? *auth : std::string());
  }

  /// Waits `ms` milliseconds, or less when the server stops. Never with `mutex` held.
  void pause(int ms) {
    if (ms <= 0)
      return;
    std::unique_lock<std::mutex> lock(mutex);
    wake.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping; });
  }

  template <typename Request> void respond(const Request& req, const answer& a) {
    pause(a.delay_ms);
    req->create_response(restinio::http_status_line_t{
                           restinio::http_status_code_t{static_cast<std::uint16_t>(a.status)}, reason_phrase(a.status)})
      .append_header(restinio::http_field::content_type, "application/json")
      .set_body(a.body)
      .done();
  }
};

fake_openai::fake_openai() : impl_(new impl) {
  impl_->port = free_port();
  impl_->chat_default = [](const nlohmann::json& request) {
    return answer{200,
                  chat_completion_body(nlohmann::json{{"intent", "unknown"}, {"known", false}, {"answer", ""}}.dump(),
                                       request_model(request)),
                  0};
  };
  auto router = std::make_unique<impl::router_t>();
  auto* self = impl_.get();
  router->http_post(R"(/v1/chat/completions)", [self](auto req, auto) {
    auto request = nlohmann::json::parse(req->body(), nullptr, false);
    impl::chat_script script;
    {
      std::lock_guard<std::mutex> guard(self->mutex);
      self->record_authorization(req);
      self->chats.push_back(request);
      if (!self->chat_queue.empty()) {
        script = std::move(self->chat_queue.front());
        self->chat_queue.pop_front();
      } else {
        script = self->chat_default;
      }
    }
    self->respond(req, script(request));
    return restinio::request_accepted();
  });
  router->http_post(R"(/v1/audio/transcriptions)", [self](auto req, auto) {
    answer a{404, error_body("no transcription scripted"), 0};
    {
      std::lock_guard<std::mutex> guard(self->mutex);
      self->record_authorization(req);
      auto type = req->header().try_get_field("Content-Type");
      self->transcriptions.emplace_back(req->body(), type ? *type : std::string());
      if (!self->transcription_queue.empty()) {
        a = std::move(self->transcription_queue.front());
        self->transcription_queue.pop_front();
      }
    }
    self->respond(req, a);
    return restinio::request_accepted();
  });
  router->non_matched_request_handler([self](auto req) {
    {
      std::lock_guard<std::mutex> guard(self->mutex);
      self->record_authorization(req);
    }
    self->respond(req, answer{404, error_body("unknown route: " + std::string(req->header().path())), 0});
    return restinio::request_accepted();
  });
  impl_->server = restinio::run_async(restinio::own_io_context(),
                                      restinio::server_settings_t<impl::traits>{}
                                        .address("127.0.0.1")
                                        .port(static_cast<std::uint16_t>(impl_->port))
                                        .request_handler(std::move(router)),
                                      4);
}

fake_openai::~fake_openai() {
  {
    std::lock_guard<std::mutex> guard(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->server->stop();
  impl_->server->wait();
}

std::string fake_openai::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + "/v1";
}

void fake_openai::push_chat(answer a) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  impl_->chat_queue.push_back([a = std::move(a)](const nlohmann::json&) { return a; });
}

void fake_openai::push_chat_content(const std::string& content, int delay_ms, int prompt_tokens,
                                    int completion_tokens) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  impl_->chat_queue.push_back([=](const nlohmann::json& request) {
    return answer{200, chat_completion_body(content, request_model(request), prompt_tokens, completion_tokens),
                  delay_ms};
  });
}

void fake_openai::set_chat_default(std::function<answer(const nlohmann::json& request)> f) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  impl_->chat_default = std::move(f);
}

void fake_openai::push_transcription(answer a) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  impl_->transcription_queue.push_back(std::move(a));
}

void fake_openai::push_transcript(const std::string& text, int delay_ms) {
  push_transcription(answer{200, nlohmann::json{{"text", text}}.dump(), delay_ms});
}

std::vector<nlohmann::json> fake_openai::chat_requests() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->chats;
}

std::vector<std::pair<std::string, std::string>> fake_openai::transcription_requests() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->transcriptions;
}

std::vector<std::string> fake_openai::authorizations() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->authorizations;
}

size_t fake_openai::chat_count() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->chats.size();
}

size_t fake_openai::transcription_count() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->transcriptions.size();
}

} // namespace atendeai::test
