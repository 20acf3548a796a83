DROP FUNCTION atendeai.unanswered_inbound(interval, int);
DROP FUNCTION atendeai.pending_outbox(int);
DROP FUNCTION atendeai.resolve_channel(text, text);
DROP FUNCTION atendeai.record_statuses(jsonb);
DROP FUNCTION atendeai.record_deliveries(jsonb);
DROP FUNCTION atendeai.record_replies(jsonb);
DROP FUNCTION atendeai.ingest_inbound(jsonb);
