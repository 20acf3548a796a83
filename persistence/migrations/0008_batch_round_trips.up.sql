-- One round trip per batch and kind instead of one per clinic and kind. Each wrapper
-- takes {"<clinic id>": rows, ...} and, for every clinic in turn, sets app.clinic_id
-- (local to the transaction) before calling the single-clinic function of 0002 with that
-- clinic's rows: row-level security applies to every row exactly as when the batch writer
-- scoped each call itself. They run with the caller's rights (atendeai_app).

CREATE FUNCTION atendeai.ingest_inbound_many(p_batch jsonb)
RETURNS TABLE (clinic_id uuid, external_id text, message_id uuid, conversation_id uuid, inserted boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_clinic text;
  v_rows jsonb;
BEGIN
  FOR v_clinic, v_rows IN SELECT e.key, e.value FROM jsonb_each(p_batch) e LOOP
    PERFORM set_config('app.clinic_id', v_clinic, true);
    RETURN QUERY SELECT v_clinic::uuid, i.external_id, i.message_id, i.conversation_id, i.inserted
                   FROM atendeai.ingest_inbound(v_rows) i;
  END LOOP;
END $$;

CREATE FUNCTION atendeai.record_statuses_many(p_batch jsonb) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  v_clinic text;
  v_rows jsonb;
  v_count int := 0;
BEGIN
  FOR v_clinic, v_rows IN SELECT e.key, e.value FROM jsonb_each(p_batch) e LOOP
    PERFORM set_config('app.clinic_id', v_clinic, true);
    v_count := v_count + atendeai.record_statuses(v_rows);
  END LOOP;
  RETURN v_count;
END $$;

CREATE FUNCTION atendeai.record_replies_many(p_batch jsonb)
RETURNS TABLE (clinic_id uuid, outbox_id uuid, message_id uuid, conversation_id uuid, in_reply_to uuid,
               account_id text, recipient text, payload jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  v_clinic text;
  v_rows jsonb;
BEGIN
  FOR v_clinic, v_rows IN SELECT e.key, e.value FROM jsonb_each(p_batch) e LOOP
    PERFORM set_config('app.clinic_id', v_clinic, true);
    RETURN QUERY SELECT v_clinic::uuid, r.outbox_id, r.message_id, r.conversation_id, r.in_reply_to,
                        r.account_id, r.recipient, r.payload
                   FROM atendeai.record_replies(v_rows) r;
  END LOOP;
END $$;

CREATE FUNCTION atendeai.record_deliveries_many(p_batch jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_clinic text;
  v_rows jsonb;
BEGIN
  FOR v_clinic, v_rows IN SELECT e.key, e.value FROM jsonb_each(p_batch) e LOOP
    PERFORM set_config('app.clinic_id', v_clinic, true);
    PERFORM atendeai.record_deliveries(v_rows);
  END LOOP;
END $$;

-- The single-clinic functions of 0002, same signatures and results, with every lookup an
-- index probe per input row. The planner guesses 100 rows for jsonb_to_recordset and then
-- hash-joins against every row the clinic has (a scan of all its contacts, messages or
-- outbox rows per batch, growing with the clinic); LATERAL ... LIMIT 1 on unique keys and
-- "= ANY (ids)" on primary keys keep each batch's cost proportional to its own rows.
CREATE OR REPLACE FUNCTION atendeai.ingest_inbound(p_rows jsonb)
RETURNS TABLE (external_id text, message_id uuid, conversation_id uuid, inserted boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_clinic uuid := atendeai.current_clinic();
BEGIN
  IF v_clinic IS NULL THEN
    RAISE EXCEPTION 'app.clinic_id is not set';
  END IF;
  INSERT INTO atendeai.contacts (clinic_id, channel, external_id, name)
  SELECT DISTINCT ON (r.channel, r.contact) v_clinic, r.channel, r.contact, r.contact_name
    FROM jsonb_to_recordset(p_rows) AS r (channel text, contact text, contact_name text)
  ON CONFLICT (clinic_id, channel, external_id) DO NOTHING;

  INSERT INTO atendeai.conversations (clinic_id, channel, contact_id)
  SELECT DISTINCT v_clinic, r.channel, ct.id
    FROM jsonb_to_recordset(p_rows) AS r (channel text, contact text)
    CROSS JOIN LATERAL (SELECT c.id FROM atendeai.contacts c
                         WHERE c.clinic_id = v_clinic AND c.channel = r.channel AND c.external_id = r.contact
                         LIMIT 1) ct
  ON CONFLICT ON CONSTRAINT conversations_clinic_id_channel_contact_id_key DO NOTHING;

  RETURN QUERY
  WITH resolved AS MATERIALIZED (
    SELECT r.*, conv.id AS conv_id
      FROM jsonb_to_recordset(p_rows) AS r (channel text, contact text, ext text, type text,
                                            body text, payload jsonb, sent_at timestamptz)
      CROSS JOIN LATERAL (SELECT cv.id
                            FROM atendeai.contacts ct
                            JOIN atendeai.conversations cv
                              ON cv.clinic_id = v_clinic AND cv.channel = r.channel AND cv.contact_id = ct.id
                           WHERE ct.clinic_id = v_clinic AND ct.channel = r.channel AND ct.external_id = r.contact
                           LIMIT 1) conv
  ), ins AS (
    INSERT INTO atendeai.messages AS m (clinic_id, conversation_id, channel, direction, external_id,
                                        type, body, payload, status, sent_at)
    SELECT v_clinic, rs.conv_id, rs.channel, 'in', rs.ext, rs.type, rs.body, rs.payload,
           'received', rs.sent_at
      FROM resolved rs
    ON CONFLICT ON CONSTRAINT messages_clinic_id_channel_external_id_key DO NOTHING
    RETURNING m.external_id, m.id, m.conversation_id
  )
  SELECT ins.external_id, ins.id, ins.conversation_id, true FROM ins
  UNION ALL
  SELECT m.external_id, m.id, m.conversation_id, false
    FROM resolved rs
    CROSS JOIN LATERAL (SELECT x.external_id, x.id, x.conversation_id FROM atendeai.messages x
                         WHERE x.clinic_id = v_clinic AND x.channel = rs.channel AND x.external_id = rs.ext
                         LIMIT 1) m;
END $$;

CREATE OR REPLACE FUNCTION atendeai.record_replies(p_rows jsonb)
RETURNS TABLE (outbox_id uuid, message_id uuid, conversation_id uuid, in_reply_to uuid,
               account_id text, recipient text, payload jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_clinic uuid := atendeai.current_clinic();
  v_inbound uuid[];
  v_conversations uuid[];
BEGIN
  IF v_clinic IS NULL THEN
    RAISE EXCEPTION 'app.clinic_id is not set';
  END IF;
  v_inbound := ARRAY(SELECT (e ->> 'in_message_id')::uuid FROM jsonb_array_elements(p_rows) e
                      WHERE e ->> 'in_message_id' IS NOT NULL);
  v_conversations := ARRAY(SELECT DISTINCT (e ->> 'conversation_id')::uuid FROM jsonb_array_elements(p_rows) e);

  UPDATE atendeai.messages m
     SET intent = r.intent, confidence = r.confidence, answered_at = now()
    FROM jsonb_to_recordset(p_rows) AS r (in_message_id uuid, intent text, confidence real)
   WHERE m.clinic_id = v_clinic AND m.id = ANY (v_inbound) AND m.id = r.in_message_id
     AND r.in_message_id IS NOT NULL;

  INSERT INTO atendeai.conversation_memory AS cm (clinic_id, conversation_id, state, updated_at)
  SELECT DISTINCT ON (r.conversation_id) v_clinic, r.conversation_id, r.state, now()
    FROM (SELECT (e.value ->> 'conversation_id')::uuid AS conversation_id, e.value -> 'state' AS state, e.ord
            FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS e (value, ord)) r
   WHERE r.state IS NOT NULL AND jsonb_typeof(r.state) = 'object'
   ORDER BY r.conversation_id, r.ord DESC
  ON CONFLICT (clinic_id, conversation_id) DO UPDATE SET state = excluded.state, updated_at = now();

  UPDATE atendeai.conversations c
     SET status = CASE WHEN r.handoff THEN 'handoff' ELSE 'open' END, last_message_at = now()
    FROM (SELECT DISTINCT ON (x.conversation_id) x.conversation_id, x.handoff
            FROM (SELECT (e.value ->> 'conversation_id')::uuid AS conversation_id,
                         (e.value ->> 'handoff')::boolean AS handoff, e.ord
                    FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS e (value, ord)) x
           WHERE x.handoff IS NOT NULL
           ORDER BY x.conversation_id, x.ord DESC) r
   WHERE c.clinic_id = v_clinic AND c.id = ANY (v_conversations) AND c.id = r.conversation_id;

  RETURN QUERY
  WITH r AS MATERIALIZED (
    SELECT x.*, gen_random_uuid() AS out_id, gen_random_uuid() AS box_id
      FROM jsonb_to_recordset(p_rows) AS x (conversation_id uuid, in_message_id uuid, channel text,
                                            account_id text, recipient text, body text,
                                            reply jsonb, staff_user_id uuid)
     WHERE x.reply IS NOT NULL
  ), box AS (
    INSERT INTO atendeai.outbox AS o (clinic_id, id, message_id, in_reply_to, conversation_id, channel,
                                      account_id, recipient, payload)
    SELECT v_clinic, r.box_id, r.out_id, r.in_message_id, r.conversation_id, r.channel,
           r.account_id, r.recipient, r.reply
      FROM r
    ON CONFLICT ON CONSTRAINT outbox_clinic_id_in_reply_to_key DO NOTHING
    RETURNING o.id, o.message_id, o.conversation_id, o.in_reply_to, o.account_id, o.recipient, o.payload
  ), msg AS (
    INSERT INTO atendeai.messages (clinic_id, id, conversation_id, channel, direction, type, body,
                                   payload, status, staff_user_id)
    SELECT v_clinic, r.out_id, r.conversation_id, r.channel, 'out', 'reply', r.body, r.reply,
           'pending', r.staff_user_id
      FROM r JOIN box ON box.message_id = r.out_id
    RETURNING 1
  )
  SELECT box.id, box.message_id, box.conversation_id, box.in_reply_to, box.account_id,
         box.recipient, box.payload
    FROM box; -- msg runs to completion although unread (data-modifying CTE)
END $$;

CREATE OR REPLACE FUNCTION atendeai.record_deliveries(p_rows jsonb) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_clinic uuid := atendeai.current_clinic();
  v_outbox uuid[] := ARRAY(SELECT (e ->> 'outbox_id')::uuid FROM jsonb_array_elements(p_rows) e);
  v_messages uuid[];
BEGIN
  WITH r AS (
    SELECT * FROM jsonb_to_recordset(p_rows)
      AS x (outbox_id uuid, status text, attempts int, error text, external_id text)
  )
  UPDATE atendeai.outbox o
     SET status = r.status, attempts = r.attempts, last_error = r.error,
         external_id = coalesce(r.external_id, o.external_id),
         sent_at = CASE WHEN r.status IN ('sent', 'sink') THEN now() ELSE o.sent_at END
    FROM r
   WHERE o.clinic_id = v_clinic AND o.id = ANY (v_outbox) AND o.id = r.outbox_id;

  v_messages := ARRAY(SELECT o.message_id FROM atendeai.outbox o
                       WHERE o.clinic_id = v_clinic AND o.id = ANY (v_outbox));
  UPDATE atendeai.messages m
     SET status = CASE WHEN o.status = 'pending' THEN 'pending' ELSE o.status END,
         external_id = coalesce(o.external_id, m.external_id), error = o.last_error
    FROM atendeai.outbox o
   WHERE o.clinic_id = v_clinic AND o.id = ANY (v_outbox)
     AND m.clinic_id = v_clinic AND m.id = ANY (v_messages) AND m.id = o.message_id;
END $$;

-- A conversation's memory in one statement (one round trip, no explicit transaction):
-- {"state": <state or null>, "messages": [[direction, body, external_id], ...]} with the
-- last p_window handled messages, newest first. It scopes itself to p_clinic (local to
-- the statement's transaction), so row-level security applies as with set_clinic.
CREATE FUNCTION atendeai.conversation_memory_of(p_clinic uuid, p_conversation uuid, p_window int)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('app.clinic_id', p_clinic::text, true);
  RETURN jsonb_build_object(
    'state', (SELECT cm.state FROM atendeai.conversation_memory cm
               WHERE cm.clinic_id = p_clinic AND cm.conversation_id = p_conversation),
    'messages', coalesce((SELECT jsonb_agg(jsonb_build_array(m.direction, m.body, m.external_id)
                                           ORDER BY m.created_at DESC, m.id DESC)
                            FROM (SELECT x.direction, coalesce(x.body, '') AS body, x.external_id, x.created_at, x.id
                                    FROM atendeai.messages x
                                   WHERE x.clinic_id = p_clinic AND x.conversation_id = p_conversation
                                     AND (x.direction = 'out' OR x.answered_at IS NOT NULL)
                                   ORDER BY x.created_at DESC, x.id DESC
                                   LIMIT p_window) m), '[]'::jsonb));
END $$;

GRANT EXECUTE ON FUNCTION atendeai.conversation_memory_of(uuid, uuid, int) TO atendeai_app;
GRANT EXECUTE ON FUNCTION atendeai.ingest_inbound_many(jsonb), atendeai.record_statuses_many(jsonb),
  atendeai.record_replies_many(jsonb), atendeai.record_deliveries_many(jsonb) TO atendeai_app;
