#pragma once
/// The optional language model (issue 23), as pure functions: what is sent to an
/// OpenAI-compatible provider (a grounded prompt, with the patient's identifiers replaced
/// by placeholders), how its answer is read (a JSON verdict validated against a schema),
/// what may never reach a patient (guardrails), and the circuit breaker that stops asking
/// a provider that keeps failing. No I/O: the actor in actors/language_model.cpp makes
/// the calls, the conversation actor decides with these.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <date/date.h>
#include <nlohmann/json.hpp>

#include "core/clinic.hpp"
#include "core/understanding.hpp"

namespace atendeai::core {

/// Replaces what identifies a patient before text leaves for a provider: e-mail
/// addresses by [EMAIL], digit runs of 8 or more (phones, CPF, card numbers; spaces,
/// dots, dashes and brackets between digits included) by [PHONE], the words of
/// `names` (the patient's profile name) and the name after a self-introduction ("meu
/// nome é ...", "me chamo ...", "aqui é o ...", "my name is ...") by [NAME].
std::string redact_personal_data(std::string_view text, const std::vector<std::string>& names);

/// One line of the conversation's memory window.
struct history_line {
  bool outbound = false; ///< the assistant's (or staff's) message
  std::string text;
};

/// What the model is asked for one message.
struct model_question {
  std::string model;      ///< ai.model
  int max_tokens = 400;   ///< ai.max_tokens
  std::string lang;       ///< the patient's language: "pt-BR" or "en"
  date::year_month_day today; ///< in the clinic's zone (relative dates)
  std::vector<history_line> history; ///< oldest first, without the message itself
  std::string message;    ///< the patient's message
  std::vector<std::string> names; ///< the patient's names, replaced by [NAME]
};

/// The chat-completions request body: a system prompt with the clinic's personality, its
/// data (services and prices, professionals, hours, address, policies) and FAQ as the
/// only source of answers, the output schema, the guardrails; then the redacted history
/// and message. JSON output asked for (`response_format` json_object), temperature 0.
nlohmann::json model_request_body(const clinic_profile& clinic, const model_question& q);

/// A completion as the provider returned it.
struct completion {
  std::string content;           ///< choices[0].message.content
  int64_t prompt_tokens = 0;     ///< usage, 0 when not reported
  int64_t completion_tokens = 0;
};

/// Reads a chat-completions response body; nullopt when it is not one (no choices, no
/// string content).
std::optional<completion> read_completion(std::string_view body);

/// What the model made of a message. Labels beyond the rules' intents: off_topic (not
/// about the clinic, or unsafe) and medical_advice (asks for a diagnosis, a medicine, a
/// dose): both answered with the built-in texts, never the model's.
struct model_verdict {
  core::intent intent = core::intent::unknown;
  bool off_topic = false;
  bool medical_advice = false;
  std::string topic;  ///< for clinic_question, a topic of API.md ("insurance") or "other"
  bool known = false; ///< the answer comes from the clinic's data
  std::string answer; ///< the model's answer for the patient (clinic questions, unknown)
  std::optional<std::string> service;            ///< a service of the catalogue, by id
  std::optional<date::year_month_day> date;      ///< a valid day
  std::optional<minute_of_day> time;             ///< 00:00..23:59
};

/// Reads the model's content against the schema {"intent": label, "topic"?: string,
/// "known": bool, "answer"?: string, "service"?: name, "date"?: "YYYY-MM-DD", "time"?:
/// "HH:MM"}: nullopt when it is not a JSON object, the intent is not a label, a field has
/// the wrong type, or a clinic question comes without a usable answer while claiming to
/// know it. A service the catalogue does not have, or an invalid date or time, is dropped.
std::optional<model_verdict> read_verdict(std::string_view content, const clinic_profile& clinic);

/// Why an answer of the model must not reach the patient, or "" when it may: empty or
/// longer than 1,000 characters ("length"); claiming to have booked, moved or cancelled
/// ("booking_claim"); a price that is neither a service's nor in the FAQ ("price"); a
/// clock time that is not in the clinic's hours or FAQ ("availability"); a phone number
/// or a link the clinic's data does not hold ("contact").
std::string answer_violation(std::string_view answer, const clinic_profile& clinic);

/// True when the patient asks for medical advice (what to take, a dose, whether a symptom
/// is serious): declined with an offer to book, whatever the model would say.
bool reads_medical_advice(std::string_view text);

/// The reply to a request for medical advice: cannot advise, offers an appointment.
std::string medical_advice_text(bool en);
/// The reply to a voice note that could not be transcribed: kindly asks for text.
std::string voice_note_text(bool en);
/// The reply to an image, video or document sent without a caption: kindly asks for text.
std::string media_text(bool en);
/// The reply to a voice note over the size limit.
std::string media_too_large_text(bool en);

/// Stops calls to a provider that keeps failing: `failures` in a row open it for
/// `cooldown`; then one call is let through (half open) and its outcome closes or opens it
/// again. Thread-safe; time is passed in.
class circuit_breaker {
public:
  using clock = std::chrono::steady_clock;
  enum class state { closed, open, half_open };

  circuit_breaker(int failures, std::chrono::milliseconds cooldown) : limit_(failures), cooldown_(cooldown) {}
  /// True when a call may be made now (in half open, only the first caller gets true).
  bool allow(clock::time_point now);
  void succeeded();
  void failed(clock::time_point now);
  state current(clock::time_point now) const;

private:
  mutable std::mutex mutex_;
  int limit_;
  std::chrono::milliseconds cooldown_;
  int failures_ = 0;
  bool open_ = false;
  bool trial_ = false; ///< the half-open call is on its way
  clock::time_point opened_at_{};
};

/// The state's label for metrics and inspection: "closed", "open", "half_open".
std::string_view to_string(circuit_breaker::state s);

} // namespace atendeai::core
