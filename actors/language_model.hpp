#pragma once
/// The optional language model's workers: chat completions and voice-note transcriptions
/// against an OpenAI-compatible provider (ai.base_url), made with libcurl on the worker's
/// own thread (spawned detached), one reused connection per worker, behind the node's
/// circuit breaker. What to ask and how to read the answer is core/language_model.hpp's.

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct language_model_state;

/// A worker answering ask (chat completion) and transcribe (voice note) requests.
/// @param self the actor
/// @param node the node's wiring (ai settings, metrics, the breaker, readers for tokens)
language_model_actor::behavior_type language_model(language_model_actor::stateful_pointer<language_model_state> self,
                                                   node_context_ptr node);

/// Spawns a worker (detached: its calls block).
language_model_actor spawn_language_model(caf::actor_system& sys, node_context_ptr node);

/// Registers the breaker's state as a gauge (0 closed, 1 open, 2 half open).
void register_model_metrics(const node_context& node);

} // namespace atendeai::actors
