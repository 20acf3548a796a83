ALTER FUNCTION atendeai.conversation_memories(jsonb, int)
  RESET enable_seqscan RESET enable_hashjoin RESET enable_mergejoin;
ALTER FUNCTION atendeai.touch_conversations(jsonb)
  RESET enable_seqscan RESET enable_hashjoin RESET enable_mergejoin;
ALTER FUNCTION atendeai.record_outcomes(jsonb, jsonb)
  RESET enable_seqscan RESET enable_hashjoin RESET enable_mergejoin;
ALTER FUNCTION atendeai.ingest_batch(jsonb, jsonb)
  RESET enable_seqscan RESET enable_hashjoin RESET enable_mergejoin;
ALTER TABLE atendeai.conversation_memory RESET (fillfactor);
ALTER TABLE atendeai.conversations RESET (fillfactor);
CREATE INDEX conversations_recent_idx ON atendeai.conversations (clinic_id, last_message_at DESC);
