#pragma once
/// A fake OpenAI-compatible server for tests (the language model feature): answers
/// POST /v1/chat/completions and POST /v1/audio/transcriptions with scripted answers,
/// records what it receives, and can delay an answer without holding up the others.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace atendeai::test {

class fake_openai {
public:
  fake_openai();
  /// Stops the server promptly, waking any handler still waiting out a delay.
  ~fake_openai();
  fake_openai(const fake_openai&) = delete;
  fake_openai& operator=(const fake_openai&) = delete;

  /// "http://127.0.0.1:<port>/v1" — what ai.base_url is set to.
  std::string base_url() const;

  /// One scripted answer: HTTP status, raw body, and a delay before answering.
  struct answer {
    int status = 200;
    std::string body;
    int delay_ms = 0;
  };

  /// Queues an answer for the next POST /v1/chat/completions (FIFO). With an empty queue
  /// the server answers with `chat_default` (settable), by default a completion whose
  /// content is {"intent":"unknown","known":false,"answer":""}.
  void push_chat(answer a);
  /// Convenience: queues a 200 OpenAI chat completion (id, object "chat.completion", model
  /// (the request's), choices[0].message {role assistant, content}, finish_reason "stop",
  /// usage {prompt_tokens, completion_tokens, total_tokens}) whose message content is
  /// `content` (a string: pass json.dump() for structured answers), after `delay_ms`.
  void push_chat_content(const std::string& content, int delay_ms = 0, int prompt_tokens = 120,
                         int completion_tokens = 30);
  /// The answer to a chat completion when nothing is queued; `request` is the request's
  /// body (parsed JSON, discarded when it is not JSON).
  void set_chat_default(std::function<answer(const nlohmann::json& request)> f);

  /// Queues an answer for the next POST /v1/audio/transcriptions (FIFO); with an empty
  /// queue it answers 404 {"error":{"message":"no transcription scripted"}}.
  void push_transcription(answer a);
  /// Convenience: a 200 {"text": text}, after `delay_ms`.
  void push_transcript(const std::string& text, int delay_ms = 0);

  /// Request bodies of chat completions received (parsed JSON, discarded when not JSON),
  /// in order.
  std::vector<nlohmann::json> chat_requests() const;
  /// Raw bodies and Content-Type headers of transcription requests (multipart/form-data),
  /// in order.
  std::vector<std::pair<std::string, std::string>> transcription_requests() const;
  /// Authorization headers of every request (any path; "" when absent), in order.
  std::vector<std::string> authorizations() const;
  size_t chat_count() const;
  size_t transcription_count() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The body of a 200 OpenAI chat completion whose message content is `content`.
std::string chat_completion_body(const std::string& content, const std::string& model = "fake-model",
                                 int prompt_tokens = 120, int completion_tokens = 30);

} // namespace atendeai::test
