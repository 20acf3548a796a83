#pragma once
/// Messages between conversations and the language model's workers (node-local: a
/// conversation asks a worker of its own node; nothing of it crosses the cluster).

#include <cstdint>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>

namespace atendeai::actors {

/// A chat completion to ask for: the request body, rendered (and redacted) by the
/// conversation; the clinic only for the per-clinic token counts.
struct model_call {
  std::string clinic_id;
  std::string body;
};

/// A voice note to transcribe: where the channel keeps it.
struct media_call {
  std::string clinic_id;
  std::string account_id; ///< the channel account whose token fetches it
  std::string media_id;   ///< the Graph API's media id
};

/// What a worker got. `outcome` is "ok" or the kind of failure: breaker_open, timeout,
/// unreachable, http_429, http_5xx, http_error, malformed; for media also no_token,
/// fetch_failed, too_large, no_transcription.
struct model_result {
  std::string outcome;
  std::string content; ///< the completion's content, or the transcript
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  bool ok() const { return outcome == "ok"; }
  /// A result carrying only its outcome (a failure, or "ok" without content).
  static model_result of(std::string outcome) {
    model_result r;
    r.outcome = std::move(outcome);
    return r;
  }
};

} // namespace atendeai::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::model_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::media_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::model_result)
