-- Back to 0008's tables (messages, outbox), with every row moved back.

DROP FUNCTION atendeai.ingest_batch(jsonb, jsonb);
DROP FUNCTION atendeai.record_outcomes(jsonb, jsonb);
DROP FUNCTION atendeai.touch_conversations(jsonb);
DROP FUNCTION atendeai.conversation_memories(jsonb, int);
DROP FUNCTION atendeai.unanswered_since(timestamptz, interval, int);
DROP FUNCTION atendeai.pending_since(timestamptz, interval, int);
DROP VIEW atendeai.outbox;
DROP VIEW atendeai.messages;

CREATE TABLE atendeai.messages (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  conversation_id uuid NOT NULL,
  channel text NOT NULL,
  direction text NOT NULL CHECK (direction IN ('in', 'out')),
  external_id text,
  type text NOT NULL,
  body text,
  payload jsonb,
  intent text,
  confidence real,
  status text NOT NULL CHECK (status IN ('received', 'pending', 'sent', 'delivered', 'read', 'failed', 'sink')),
  error text,
  answered_at timestamptz,
  staff_user_id uuid,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, channel, external_id),
  FOREIGN KEY (clinic_id, conversation_id) REFERENCES atendeai.conversations (clinic_id, id)
);
CREATE INDEX messages_conversation_idx ON atendeai.messages (clinic_id, conversation_id, created_at DESC);
CREATE INDEX messages_unanswered_idx ON atendeai.messages (created_at)
  WHERE direction = 'in' AND answered_at IS NULL;

CREATE TABLE atendeai.outbox (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  message_id uuid NOT NULL,
  in_reply_to uuid,
  conversation_id uuid NOT NULL,
  channel text NOT NULL,
  account_id text NOT NULL,
  recipient text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'sink', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  external_id text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  sent_at timestamptz,
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, in_reply_to),
  FOREIGN KEY (clinic_id, message_id) REFERENCES atendeai.messages (clinic_id, id)
);
CREATE INDEX outbox_pending_idx ON atendeai.outbox (created_at) WHERE status = 'pending';

SELECT atendeai.protect_tenant_table(t)
  FROM unnest(ARRAY['atendeai.messages', 'atendeai.outbox']::regclass[]) AS t;
GRANT SELECT, INSERT, UPDATE, DELETE ON atendeai.messages, atendeai.outbox TO atendeai_app;
GRANT SELECT, UPDATE ON atendeai.messages, atendeai.outbox TO atendeai_system;

INSERT INTO atendeai.messages (clinic_id, id, conversation_id, channel, direction, external_id, type, body, payload,
                               intent, confidence, status, answered_at, sent_at, created_at)
SELECT i.clinic_id, i.id, i.conversation_id, i.channel, 'in', i.external_id, i.type, i.body, i.payload, a.intent,
       a.confidence, 'received', a.created_at, i.sent_at, i.created_at
  FROM atendeai.inbound_messages i
  LEFT JOIN atendeai.outbound_messages a ON a.clinic_id = i.clinic_id AND a.cause_id = i.id;

INSERT INTO atendeai.messages (clinic_id, id, conversation_id, channel, direction, external_id, type, body, payload,
                               status, error, staff_user_id, created_at)
SELECT s.clinic_id, s.id, s.conversation_id, s.channel, 'out', s.external_id, 'reply', s.body, s.payload, s.status,
       s.error, s.staff_user_id, s.created_at
  FROM atendeai.outbound_state s;

INSERT INTO atendeai.outbox (clinic_id, message_id, in_reply_to, conversation_id, channel, account_id, recipient,
                             payload, status, attempts, last_error, external_id, created_at, sent_at)
SELECT s.clinic_id, s.id, CASE WHEN s.kind = 'reply' THEN s.cause_id END, s.conversation_id, s.channel,
       coalesce(s.account_id, ''), coalesce(s.recipient, ''), s.payload, s.delivery_status, s.attempts,
       s.delivery_error, s.external_id, s.created_at, s.sent_at
  FROM atendeai.outbound_state s;

DROP VIEW atendeai.outbound_state;
DROP TABLE atendeai.message_statuses;
DROP TABLE atendeai.delivery_events;
DROP TABLE atendeai.outbound_messages;
DROP TABLE atendeai.inbound_messages;
REVOKE INSERT ON atendeai.contacts, atendeai.conversations, atendeai.conversation_memory FROM atendeai_system;
