-- The message pipeline on append-only tables, written by one set-based statement per
-- batch whatever the number of clinics in it.
--
--   inbound_messages   one row per patient message, id made by the node (time-ordered)
--   outbound_messages  one row per cause: a reply by the inbound message it answers (its
--                      payload null when the assistant stayed silent), a staff reply,
--                      a notice... by their own cause id (UNIQUE (clinic_id, cause_id))
--   delivery_events    one row per delivery attempt of an outbound message
--   message_statuses   the channel's status notifications (sent, delivered, read, failed)
--
-- Nothing on the per-message path is updated in place and nothing has a foreign key: an
-- inbound message is "answered" when an outbound row names it as its cause, and an
-- outbound message is "pending" until a final delivery event exists. The tenant of each
-- row is derived in SQL (an inbound row's from its channel account, a reply's from the
-- inbound row it answers) by SECURITY DEFINER functions owned by atendeai_system: the
-- node's word is never trusted for the tenant. The old tables' names live on as views
-- WITH (security_invoker = true), so every reader keeps row-level security.

CREATE TABLE atendeai.inbound_messages (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL,
  conversation_id uuid NOT NULL,
  channel text NOT NULL,
  account_id text NOT NULL,
  contact text NOT NULL, -- the patient's id on the channel: where replies go
  external_id text NOT NULL,
  type text NOT NULL,
  body text,
  payload jsonb,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, channel, external_id)
);
CREATE INDEX inbound_messages_conversation_idx
  ON atendeai.inbound_messages (clinic_id, conversation_id, created_at DESC);
-- Appended in time order: a BRIN index serves the recovery sweeps at almost no write cost.
CREATE INDEX inbound_messages_created_brin ON atendeai.inbound_messages USING brin (created_at);

CREATE TABLE atendeai.outbound_messages (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL,
  cause_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('reply', 'staff', 'notice')),
  conversation_id uuid NOT NULL,
  channel text NOT NULL,
  account_id text,
  recipient text,
  body text,
  payload jsonb, -- null: nothing to send
  intent text,
  confidence real,
  staff_user_id uuid,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, cause_id)
);
CREATE INDEX outbound_messages_conversation_idx
  ON atendeai.outbound_messages (clinic_id, conversation_id, created_at DESC);
CREATE INDEX outbound_messages_created_brin ON atendeai.outbound_messages USING brin (created_at);

CREATE TABLE atendeai.delivery_events (
  clinic_id uuid NOT NULL,
  outbound_id uuid NOT NULL,
  attempt int NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'sink', 'failed')), -- pending: will retry
  error text,
  external_id text, -- the id the channel gave the message
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (clinic_id, outbound_id, attempt)
);

CREATE TABLE atendeai.message_statuses (
  clinic_id uuid NOT NULL,
  channel text NOT NULL,
  external_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
  error text,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (clinic_id, channel, external_id, status)
);

SELECT atendeai.protect_tenant_table(t)
  FROM unnest(ARRAY['atendeai.inbound_messages', 'atendeai.outbound_messages', 'atendeai.delivery_events',
                    'atendeai.message_statuses']::regclass[]) AS t;
GRANT SELECT, INSERT, UPDATE, DELETE ON atendeai.inbound_messages, atendeai.outbound_messages,
  atendeai.delivery_events, atendeai.message_statuses TO atendeai_app;
GRANT SELECT, INSERT ON atendeai.inbound_messages, atendeai.outbound_messages, atendeai.delivery_events,
  atendeai.message_statuses, atendeai.contacts, atendeai.conversations, atendeai.conversation_memory
  TO atendeai_system;

-- The existing rows, moved: inbound messages; replies, staff messages and notices with
-- their outbox rows; silent answers; delivery outcomes; channel statuses.
INSERT INTO atendeai.inbound_messages (clinic_id, id, conversation_id, channel, account_id, contact, external_id,
                                       type, body, payload, sent_at, created_at)
SELECT m.clinic_id, m.id, m.conversation_id, m.channel, coalesce(m.payload ->> 'account_id', ''),
       coalesce(m.payload ->> 'contact', ct.external_id, ''), m.external_id, m.type, m.body, m.payload, m.sent_at,
       m.created_at
  FROM atendeai.messages m
  LEFT JOIN atendeai.conversations cv ON cv.clinic_id = m.clinic_id AND cv.id = m.conversation_id
  LEFT JOIN atendeai.contacts ct ON ct.clinic_id = cv.clinic_id AND ct.id = cv.contact_id
 WHERE m.direction = 'in' AND m.external_id IS NOT NULL;

INSERT INTO atendeai.outbound_messages (clinic_id, id, cause_id, kind, conversation_id, channel, account_id,
                                        recipient, body, payload, intent, confidence, staff_user_id, created_at)
SELECT m.clinic_id, m.id, coalesce(o.in_reply_to, m.id),
       CASE WHEN o.in_reply_to IS NOT NULL THEN 'reply' WHEN m.staff_user_id IS NOT NULL THEN 'staff' ELSE 'notice' END,
       m.conversation_id, m.channel, o.account_id, o.recipient, m.body, coalesce(o.payload, m.payload), i.intent,
       i.confidence, m.staff_user_id, m.created_at
  FROM atendeai.messages m
  LEFT JOIN atendeai.outbox o ON o.clinic_id = m.clinic_id AND o.message_id = m.id
  LEFT JOIN atendeai.messages i ON i.clinic_id = m.clinic_id AND i.id = o.in_reply_to
 WHERE m.direction = 'out';

INSERT INTO atendeai.outbound_messages (clinic_id, id, cause_id, kind, conversation_id, channel, account_id,
                                        recipient, intent, confidence, created_at)
SELECT m.clinic_id, gen_random_uuid(), m.id, 'reply', m.conversation_id, m.channel, m.payload ->> 'account_id',
       m.payload ->> 'contact', m.intent, m.confidence, m.answered_at
  FROM atendeai.messages m
 WHERE m.direction = 'in' AND m.answered_at IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM atendeai.outbox o WHERE o.clinic_id = m.clinic_id AND o.in_reply_to = m.id);

INSERT INTO atendeai.delivery_events (clinic_id, outbound_id, attempt, status, error, external_id, at)
SELECT o.clinic_id, o.message_id, greatest(o.attempts, 1), o.status, o.last_error, o.external_id,
       coalesce(o.sent_at, o.created_at)
  FROM atendeai.outbox o
 WHERE o.status <> 'pending' OR o.attempts > 0;

INSERT INTO atendeai.message_statuses (clinic_id, channel, external_id, status, error)
SELECT m.clinic_id, m.channel, m.external_id, m.status, m.error
  FROM atendeai.messages m
 WHERE m.direction = 'out' AND m.external_id IS NOT NULL AND m.status IN ('delivered', 'read', 'failed')
ON CONFLICT DO NOTHING;

DROP TABLE atendeai.outbox;
DROP TABLE atendeai.messages;

-- -- Readers (security_invoker: row-level security of the caller applies) ----------

-- An outbound message to send with its delivery state: the last attempt's outcome, and
-- its status as the channel reported it (never backwards: read stays read).
CREATE VIEW atendeai.outbound_state WITH (security_invoker = true) AS
SELECT o.clinic_id, o.id, o.cause_id, o.kind, o.conversation_id, o.channel, o.account_id, o.recipient, o.body,
       o.payload, o.staff_user_id, o.created_at,
       coalesce(d.status, 'pending') AS delivery_status, coalesce(d.attempts, 0) AS attempts,
       d.error AS delivery_error, d.external_id, d.sent_at,
       CASE WHEN coalesce(array_position(r.rank, st.status), 0) > array_position(r.rank, coalesce(d.status, 'pending'))
            THEN st.status ELSE coalesce(d.status, 'pending') END AS status,
       coalesce(st.error, d.error) AS error
  FROM atendeai.outbound_messages o
 CROSS JOIN (SELECT ARRAY['pending', 'sink', 'sent', 'delivered', 'read', 'failed'] AS rank) r
  LEFT JOIN LATERAL (
    SELECT max(e.attempt) AS attempts,
           (array_agg(e.status ORDER BY e.attempt DESC))[1] AS status,
           (array_agg(e.error ORDER BY e.attempt DESC))[1] AS error,
           max(e.external_id) AS external_id,
           max(e.at) FILTER (WHERE e.status IN ('sent', 'sink')) AS sent_at
      FROM atendeai.delivery_events e
     WHERE e.clinic_id = o.clinic_id AND e.outbound_id = o.id) d ON true
  LEFT JOIN LATERAL (
    SELECT s.status, s.error
      FROM atendeai.message_statuses s
     WHERE d.external_id IS NOT NULL AND s.clinic_id = o.clinic_id AND s.channel = o.channel
       AND s.external_id = d.external_id
     ORDER BY array_position(r.rank, s.status) DESC
     LIMIT 1) st ON true
 WHERE o.payload IS NOT NULL;

-- The messages of a conversation as one table (the shape of the former table).
CREATE VIEW atendeai.messages WITH (security_invoker = true) AS
SELECT i.clinic_id, i.id, i.conversation_id, i.channel, 'in'::text AS direction, i.external_id, i.type, i.body,
       i.payload, a.intent, a.confidence, 'received'::text AS status, NULL::text AS error,
       a.created_at AS answered_at, NULL::uuid AS staff_user_id, i.sent_at, i.created_at
  FROM atendeai.inbound_messages i
  LEFT JOIN atendeai.outbound_messages a ON a.clinic_id = i.clinic_id AND a.cause_id = i.id
UNION ALL
SELECT s.clinic_id, s.id, s.conversation_id, s.channel, 'out', s.external_id, 'reply', s.body, s.payload, NULL,
       NULL, s.status, s.error, NULL, s.staff_user_id, NULL, s.created_at
  FROM atendeai.outbound_state s;

-- Outbound messages as deliveries (the shape of the former outbox).
CREATE VIEW atendeai.outbox WITH (security_invoker = true) AS
SELECT s.clinic_id, s.id, s.id AS message_id, CASE WHEN s.kind = 'reply' THEN s.cause_id END AS in_reply_to,
       s.conversation_id, s.channel, s.account_id, s.recipient, s.payload, s.delivery_status AS status, s.attempts,
       s.delivery_error AS last_error, s.external_id, s.created_at, s.sent_at
  FROM atendeai.outbound_state s;

GRANT SELECT ON atendeai.outbound_state, atendeai.messages, atendeai.outbox TO atendeai_app, atendeai_system;

-- -- Writers (one statement per batch, any number of clinics) ---------------------

-- Stores a batch of inbound messages and channel statuses.
-- p_messages: [{ord, channel, account, contact, contact_name, id, ext, type, body, payload, sent_at}]
-- p_statuses: [{channel, account, ext, status, error}]
-- Each row's clinic comes from its channel account (rows of unknown or inactive accounts
-- are left out); contacts and conversations are created when missing, every lookup a
-- probe on a full unique key. Returns one row per stored or already known message:
-- inserted = false for a message stored before (or by a transaction committing now),
-- new_conversation when this call created its conversation (nothing to read for it).
CREATE FUNCTION atendeai.ingest_batch(p_messages jsonb, p_statuses jsonb)
RETURNS TABLE (ord int, clinic_id uuid, access_token text, message_id uuid, conversation_id uuid,
               inserted boolean, new_conversation boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_rows jsonb := '[]';
  v_created uuid[] := '{}';
BEGIN
  IF jsonb_array_length(coalesce(p_statuses, '[]')) > 0 THEN
    INSERT INTO atendeai.message_statuses AS s (clinic_id, channel, external_id, status, error)
    SELECT DISTINCT ON (ch.clinic_id, r.channel, r.ext, r.status) ch.clinic_id, r.channel, r.ext, r.status, r.error
      FROM jsonb_to_recordset(p_statuses) AS r (channel text, account text, ext text, status text, error text)
     CROSS JOIN LATERAL (SELECT x.clinic_id FROM atendeai.clinic_channels x
                          WHERE x.channel = r.channel AND x.account_id = r.account AND x.active LIMIT 1) ch
     WHERE r.status IN ('sent', 'delivered', 'read', 'failed') AND r.ext IS NOT NULL
    ON CONFLICT DO NOTHING;
  END IF;
  IF jsonb_array_length(coalesce(p_messages, '[]')) = 0 THEN
    RETURN;
  END IF;

  -- Clinic, contact and conversation of each row.
  SELECT coalesce(jsonb_agg(to_jsonb(r) || jsonb_build_object('clinic_id', ch.clinic_id, 'access_token', ch.access_token,
                                                               'conversation_id', cv.id)), '[]')
    INTO v_rows
    FROM jsonb_to_recordset(p_messages) AS r (ord int, channel text, account text, contact text, contact_name text,
                                              id uuid, ext text, type text, body text, payload jsonb,
                                              sent_at timestamptz)
   CROSS JOIN LATERAL (SELECT x.clinic_id, x.access_token FROM atendeai.clinic_channels x
                         JOIN atendeai.clinics c ON c.id = x.clinic_id
                        WHERE x.channel = r.channel AND x.account_id = r.account AND x.active AND c.active
                        LIMIT 1) ch
    LEFT JOIN LATERAL (SELECT z.id FROM atendeai.contacts y
                         JOIN atendeai.conversations z
                           ON z.clinic_id = y.clinic_id AND z.channel = y.channel AND z.contact_id = y.id
                        WHERE y.clinic_id = ch.clinic_id AND y.channel = r.channel AND y.external_id = r.contact
                        LIMIT 1) cv ON true;

  -- New patients: their contact and conversation (a concurrent batch creating the same
  -- ones wins; ours then finds them).
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(v_rows) e WHERE e ->> 'conversation_id' IS NULL) THEN
    INSERT INTO atendeai.contacts (clinic_id, channel, external_id, name)
    SELECT DISTINCT ON (r.clinic_id, r.channel, r.contact) r.clinic_id, r.channel, r.contact, r.contact_name
      FROM jsonb_to_recordset(v_rows) AS r (clinic_id uuid, channel text, contact text, contact_name text,
                                            conversation_id uuid)
     WHERE r.conversation_id IS NULL
     ORDER BY r.clinic_id, r.channel, r.contact
    ON CONFLICT (clinic_id, channel, external_id) DO NOTHING;

    WITH ins AS (
      INSERT INTO atendeai.conversations AS c (clinic_id, channel, contact_id)
      SELECT DISTINCT ON (r.clinic_id, r.channel, ct.id) r.clinic_id, r.channel, ct.id
        FROM jsonb_to_recordset(v_rows) AS r (clinic_id uuid, channel text, contact text, conversation_id uuid)
       CROSS JOIN LATERAL (SELECT y.id FROM atendeai.contacts y
                            WHERE y.clinic_id = r.clinic_id AND y.channel = r.channel AND y.external_id = r.contact
                            LIMIT 1) ct
       WHERE r.conversation_id IS NULL
       ORDER BY r.clinic_id, r.channel, ct.id
      ON CONFLICT ON CONSTRAINT conversations_clinic_id_channel_contact_id_key DO NOTHING
      RETURNING c.id)
    SELECT coalesce(array_agg(ins.id), '{}') INTO v_created FROM ins;

    SELECT coalesce(jsonb_agg(CASE WHEN e ->> 'conversation_id' IS NULL
                                   THEN e || jsonb_build_object('conversation_id', cv.id) ELSE e END), '[]')
      INTO v_rows
      FROM jsonb_array_elements(v_rows) AS e
      LEFT JOIN LATERAL (SELECT z.id FROM atendeai.contacts y
                           JOIN atendeai.conversations z
                             ON z.clinic_id = y.clinic_id AND z.channel = y.channel AND z.contact_id = y.id
                          WHERE e ->> 'conversation_id' IS NULL AND y.clinic_id = (e ->> 'clinic_id')::uuid
                            AND y.channel = e ->> 'channel' AND y.external_id = e ->> 'contact'
                          LIMIT 1) cv ON true;
  END IF;

  RETURN QUERY
  WITH r AS MATERIALIZED (
    SELECT * FROM jsonb_to_recordset(v_rows) AS x (ord int, clinic_id uuid, access_token text, channel text,
                                                   account text, contact text, id uuid, ext text, type text,
                                                   body text, payload jsonb, sent_at timestamptz,
                                                   conversation_id uuid)
     WHERE x.conversation_id IS NOT NULL
  ), ins AS (
    INSERT INTO atendeai.inbound_messages AS m (clinic_id, id, conversation_id, channel, account_id, contact,
                                                external_id, type, body, payload, sent_at)
    SELECT r.clinic_id, r.id, r.conversation_id, r.channel, r.account, r.contact, r.ext, r.type, r.body, r.payload,
           r.sent_at
      FROM r
     ORDER BY r.clinic_id, r.channel, r.ext -- one order for every writer: no deadlock on a retried message
    ON CONFLICT (clinic_id, channel, external_id) DO NOTHING
    RETURNING m.id)
  SELECT r.ord, r.clinic_id, r.access_token, r.id, r.conversation_id, ins.id IS NOT NULL,
         r.conversation_id = ANY (v_created)
    FROM r LEFT JOIN ins ON ins.id = r.id;
END $$;

-- Records what conversations decided, and delivery attempts.
-- p_outcomes: [{ord, clinic, conversation, kind, cause, id, account, recipient, body, payload, intent,
--              confidence, staff_user_id, state, handoff}]
--   kind reply: cause is the inbound message answered; clinic, conversation, channel,
--     account and recipient come from that row (a row naming another clinic's message, or
--     a clinic that is not the message's, writes nothing). payload null: no message.
--   kind staff / notice: cause is the row's own id; the conversation must be the clinic's.
--   kind null: only the conversation's state.
--   state (jsonb) and handoff (boolean) are written only with a new outbound row (or
--   for a state-only row): a second decision for one inbound message changes nothing.
-- p_deliveries: [{clinic, outbound, attempt, status, error, external_id}] (the outbound
--   message must be the clinic's).
-- Returns one row per row written (a row whose clinic does not hold its message or
-- conversation is absent), with the account and recipient its message goes to;
-- inserted = false for a cause that had its outbound message already (and state-only rows).
CREATE FUNCTION atendeai.record_outcomes(p_outcomes jsonb, p_deliveries jsonb)
RETURNS TABLE (ord int, clinic_id uuid, outbound_id uuid, conversation_id uuid, inserted boolean,
               account_id text, recipient text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_rows jsonb := '[]';
  v_inserted uuid[] := '{}';
BEGIN
  IF jsonb_array_length(coalesce(p_deliveries, '[]')) > 0 THEN
    INSERT INTO atendeai.delivery_events (clinic_id, outbound_id, attempt, status, error, external_id)
    SELECT o.clinic_id, o.id, r.attempt, r.status, r.error, r.external_id
      FROM jsonb_to_recordset(p_deliveries) AS r (clinic uuid, outbound uuid, attempt int, status text, error text,
                                                  external_id text)
     CROSS JOIN LATERAL (SELECT x.clinic_id, x.id FROM atendeai.outbound_messages x
                          WHERE x.clinic_id = r.clinic AND x.id = r.outbound) o
    ON CONFLICT DO NOTHING;
  END IF;
  IF jsonb_array_length(coalesce(p_outcomes, '[]')) = 0 THEN
    RETURN;
  END IF;

  SELECT coalesce(jsonb_agg(to_jsonb(r) || jsonb_build_object(
           'clinic_id', coalesce(i.clinic_id, cv.clinic_id),
           'conversation_id', coalesce(i.conversation_id, cv.id),
           'channel', coalesce(i.channel, cv.channel),
           'account', CASE WHEN r.kind = 'reply' THEN i.account_id ELSE r.account END,
           'recipient', coalesce(i.contact, cv.contact))), '[]')
    INTO v_rows
    FROM jsonb_to_recordset(p_outcomes) AS r (ord int, clinic uuid, conversation uuid, kind text, cause uuid, id uuid,
                                              account text, recipient text, body text, payload jsonb, intent text,
                                              confidence real, staff_user_id uuid, state jsonb, handoff boolean)
    LEFT JOIN LATERAL (SELECT x.clinic_id, x.conversation_id, x.channel, x.account_id, x.contact
                         FROM atendeai.inbound_messages x
                        WHERE r.kind = 'reply' AND x.clinic_id = r.clinic AND x.id = r.cause) i ON true
    LEFT JOIN LATERAL (SELECT z.clinic_id, z.id, z.channel, y.external_id AS contact
                         FROM atendeai.conversations z
                         JOIN atendeai.contacts y ON y.clinic_id = z.clinic_id AND y.id = z.contact_id
                        WHERE r.kind IS DISTINCT FROM 'reply' AND z.clinic_id = r.clinic AND z.id = r.conversation) cv
      ON true
   WHERE coalesce(i.clinic_id, cv.clinic_id) IS NOT NULL;

  WITH ins AS (
    INSERT INTO atendeai.outbound_messages AS o (clinic_id, id, cause_id, kind, conversation_id, channel, account_id,
                                                 recipient, body, payload, intent, confidence, staff_user_id)
    SELECT r.clinic_id, r.id, CASE WHEN r.kind = 'reply' THEN r.cause ELSE r.id END, r.kind, r.conversation_id,
           r.channel, r.account, r.recipient, r.body, r.payload, r.intent, r.confidence, r.staff_user_id
      FROM jsonb_to_recordset(v_rows) AS r (clinic_id uuid, id uuid, cause uuid, kind text, conversation_id uuid,
                                            channel text, account text, recipient text, body text, payload jsonb,
                                            intent text, confidence real, staff_user_id uuid)
     WHERE r.kind IS NOT NULL
    ON CONFLICT (clinic_id, cause_id) DO NOTHING
    RETURNING o.id)
  SELECT coalesce(array_agg(ins.id), '{}') INTO v_inserted FROM ins;

  -- The conversation's state goes with its outbound message: the last one per
  -- conversation in the batch whose message was written (or a state-only row).
  INSERT INTO atendeai.conversation_memory AS cm (clinic_id, conversation_id, state, updated_at)
  SELECT DISTINCT ON (r.clinic_id, r.conversation_id) r.clinic_id, r.conversation_id, r.state, now()
    FROM jsonb_to_recordset(v_rows) AS r (ord int, clinic_id uuid, conversation_id uuid, kind text, id uuid,
                                          state jsonb)
   WHERE jsonb_typeof(r.state) = 'object' AND (r.kind IS NULL OR r.id = ANY (v_inserted))
   ORDER BY r.clinic_id, r.conversation_id, r.ord DESC
  ON CONFLICT (clinic_id, conversation_id) DO UPDATE SET state = excluded.state, updated_at = now();

  UPDATE atendeai.conversations c
     SET status = CASE WHEN x.handoff THEN 'handoff' ELSE 'open' END
    FROM (SELECT DISTINCT ON (r.clinic_id, r.conversation_id) r.clinic_id, r.conversation_id, r.handoff
            FROM jsonb_to_recordset(v_rows) AS r (ord int, clinic_id uuid, conversation_id uuid, kind text, id uuid,
                                                  handoff boolean)
           WHERE r.handoff IS NOT NULL AND (r.kind IS NULL OR r.id = ANY (v_inserted))
           ORDER BY r.clinic_id, r.conversation_id, r.ord DESC) x
   WHERE c.clinic_id = x.clinic_id AND c.id = x.conversation_id
     AND c.status IS DISTINCT FROM (CASE WHEN x.handoff THEN 'handoff' ELSE 'open' END);

  RETURN QUERY
  SELECT r.ord, r.clinic_id, r.id, r.conversation_id, r.id = ANY (v_inserted), r.account, r.recipient
    FROM jsonb_to_recordset(v_rows) AS r (ord int, clinic_id uuid, id uuid, conversation_id uuid, kind text,
                                          account text, recipient text);
END $$;

-- Written behind (it can be rebuilt from the messages): conversations' last activity,
-- for the staff inbox's order, set to the writing transaction's time.
-- p_rows: [{clinic, conversation}]
CREATE FUNCTION atendeai.touch_conversations(p_rows jsonb) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
DECLARE
  v_count int;
BEGIN
  UPDATE atendeai.conversations c
     SET last_message_at = now()
    FROM (SELECT DISTINCT r.clinic, r.conversation
            FROM jsonb_to_recordset(p_rows) AS r (clinic uuid, conversation uuid)) x
   WHERE c.clinic_id = x.clinic AND c.id = x.conversation AND c.last_message_at < now();
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END $$;

-- -- Readers for the node (system: a batch spans clinics) ---------------------------

-- The memory of several conversations at once: for each {ord, clinic, conversation},
-- its state, its last p_window handled messages, newest first, as
-- [[direction, body, external_id], ...], and where its last inbound message came from
-- (channel, account, contact, the account's token): where unprompted messages go.
CREATE FUNCTION atendeai.conversation_memories(p_rows jsonb, p_window int)
RETURNS TABLE (ord int, state jsonb, messages jsonb, channel text, account_id text, contact text,
               access_token text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT r.ord, cm.state, coalesce(t.list, '[]'::jsonb), li.channel, li.account_id, li.contact, ch.access_token
    FROM jsonb_to_recordset(p_rows) AS r (ord int, clinic uuid, conversation uuid)
    LEFT JOIN atendeai.conversation_memory cm ON cm.clinic_id = r.clinic AND cm.conversation_id = r.conversation
    LEFT JOIN LATERAL (
      SELECT jsonb_agg(jsonb_build_array(w.direction, w.body, w.external_id) ORDER BY w.created_at DESC, w.id DESC) AS list
        FROM (SELECT u.* FROM (
                (SELECT 'in' AS direction, coalesce(i.body, '') AS body, i.external_id, i.created_at, i.id
                   FROM atendeai.inbound_messages i
                  WHERE i.clinic_id = r.clinic AND i.conversation_id = r.conversation
                    AND EXISTS (SELECT 1 FROM atendeai.outbound_messages a
                                 WHERE a.clinic_id = i.clinic_id AND a.cause_id = i.id)
                  ORDER BY i.created_at DESC LIMIT p_window)
                UNION ALL
                (SELECT 'out', coalesce(o.body, ''), NULL, o.created_at, o.id
                   FROM atendeai.outbound_messages o
                  WHERE o.clinic_id = r.clinic AND o.conversation_id = r.conversation AND o.payload IS NOT NULL
                  ORDER BY o.created_at DESC LIMIT p_window)) u
               ORDER BY u.created_at DESC, u.id DESC LIMIT p_window) w) t ON true
    LEFT JOIN LATERAL (SELECT i.channel, i.account_id, i.contact
                         FROM atendeai.inbound_messages i
                        WHERE i.clinic_id = r.clinic AND i.conversation_id = r.conversation
                        ORDER BY i.created_at DESC LIMIT 1) li ON true
    LEFT JOIN atendeai.clinic_channels ch
      ON ch.clinic_id = r.clinic AND ch.channel = li.channel AND ch.account_id = li.account_id
$$;

-- Inbound messages stored but never answered (a node died between the commit and the
-- reply), created from p_since (null: from the start) and older than p_min_age.
CREATE FUNCTION atendeai.unanswered_since(p_since timestamptz, p_min_age interval, p_limit int)
RETURNS TABLE (clinic_id uuid, message_id uuid, conversation_id uuid, payload jsonb, access_token text,
               created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT i.clinic_id, i.id, i.conversation_id, i.payload, ch.access_token, i.created_at
    FROM atendeai.inbound_messages i
    LEFT JOIN atendeai.clinic_channels ch
      ON ch.clinic_id = i.clinic_id AND ch.channel = i.channel AND ch.account_id = i.account_id
   WHERE i.created_at >= coalesce(p_since, '-infinity'::timestamptz) AND i.created_at < now() - p_min_age
     AND NOT EXISTS (SELECT 1 FROM atendeai.outbound_messages o WHERE o.clinic_id = i.clinic_id AND o.cause_id = i.id)
   ORDER BY i.created_at
   LIMIT p_limit
$$;

-- Outbound messages with no final delivery event, created from p_since (null: from the
-- start) and older than p_min_age; correlation is the inbound message's channel id.
CREATE FUNCTION atendeai.pending_since(p_since timestamptz, p_min_age interval, p_limit int)
RETURNS TABLE (clinic_id uuid, outbound_id uuid, conversation_id uuid, account_id text, recipient text,
               payload jsonb, attempts int, access_token text, correlation text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT o.clinic_id, o.id, o.conversation_id, o.account_id, o.recipient, o.payload, coalesce(d.attempts, 0),
         ch.access_token, i.external_id, o.created_at
    FROM atendeai.outbound_messages o
    LEFT JOIN LATERAL (SELECT max(e.attempt) AS attempts, bool_or(e.status <> 'pending') AS done
                         FROM atendeai.delivery_events e
                        WHERE e.clinic_id = o.clinic_id AND e.outbound_id = o.id) d ON true
    LEFT JOIN atendeai.clinic_channels ch
      ON ch.clinic_id = o.clinic_id AND ch.channel = o.channel AND ch.account_id = o.account_id
    LEFT JOIN atendeai.inbound_messages i ON o.kind = 'reply' AND i.clinic_id = o.clinic_id AND i.id = o.cause_id
   WHERE o.payload IS NOT NULL AND o.created_at >= coalesce(p_since, '-infinity'::timestamptz)
     AND o.created_at < now() - p_min_age AND NOT coalesce(d.done, false)
   ORDER BY o.created_at
   LIMIT p_limit
$$;

ALTER FUNCTION atendeai.ingest_batch(jsonb, jsonb) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.record_outcomes(jsonb, jsonb) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.touch_conversations(jsonb) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.conversation_memories(jsonb, int) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.unanswered_since(timestamptz, interval, int) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.pending_since(timestamptz, interval, int) OWNER TO atendeai_system;
REVOKE ALL ON FUNCTION atendeai.ingest_batch(jsonb, jsonb), atendeai.record_outcomes(jsonb, jsonb),
  atendeai.touch_conversations(jsonb), atendeai.conversation_memories(jsonb, int),
  atendeai.unanswered_since(timestamptz, interval, int), atendeai.pending_since(timestamptz, interval, int)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.ingest_batch(jsonb, jsonb), atendeai.record_outcomes(jsonb, jsonb),
  atendeai.touch_conversations(jsonb), atendeai.conversation_memories(jsonb, int),
  atendeai.unanswered_since(timestamptz, interval, int), atendeai.pending_since(timestamptz, interval, int)
  TO atendeai_app;

-- The per-clinic functions of 0002/0008 (ingest_inbound, record_replies, ... and their
-- *_many wrappers) wrote the former tables; nothing calls them now. They stay until the
-- down path of this migration is retired, so that reverting it gives 0008's schema back.
