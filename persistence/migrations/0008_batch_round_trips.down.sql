DROP FUNCTION atendeai.conversation_memory_of(uuid, uuid, int);
DROP FUNCTION atendeai.record_deliveries_many(jsonb);
DROP FUNCTION atendeai.record_replies_many(jsonb);
DROP FUNCTION atendeai.record_statuses_many(jsonb);
DROP FUNCTION atendeai.ingest_inbound_many(jsonb);

-- The single-clinic functions as 0002 defined them.
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
  SELECT DISTINCT v_clinic, c.channel, c.id
    FROM jsonb_to_recordset(p_rows) AS r (channel text, contact text)
    JOIN atendeai.contacts c
      ON c.clinic_id = v_clinic AND c.channel = r.channel AND c.external_id = r.contact
  ON CONFLICT ON CONSTRAINT conversations_clinic_id_channel_contact_id_key DO NOTHING;

  RETURN QUERY
  WITH resolved AS (
    SELECT r.*, conv.id AS conv_id
      FROM jsonb_to_recordset(p_rows) AS r (channel text, contact text, ext text, type text,
                                            body text, payload jsonb, sent_at timestamptz)
      JOIN atendeai.contacts ct
        ON ct.clinic_id = v_clinic AND ct.channel = r.channel AND ct.external_id = r.contact
      JOIN atendeai.conversations conv
        ON conv.clinic_id = v_clinic AND conv.channel = r.channel AND conv.contact_id = ct.id
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
    JOIN atendeai.messages m
      ON m.clinic_id = v_clinic AND m.channel = rs.channel AND m.external_id = rs.ext;
END $$;

CREATE OR REPLACE FUNCTION atendeai.record_replies(p_rows jsonb)
RETURNS TABLE (outbox_id uuid, message_id uuid, conversation_id uuid, in_reply_to uuid,
               account_id text, recipient text, payload jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_clinic uuid := atendeai.current_clinic();
BEGIN
  IF v_clinic IS NULL THEN
    RAISE EXCEPTION 'app.clinic_id is not set';
  END IF;
  UPDATE atendeai.messages m
     SET intent = r.intent, confidence = r.confidence, answered_at = now()
    FROM jsonb_to_recordset(p_rows) AS r (in_message_id uuid, intent text, confidence real)
   WHERE m.clinic_id = v_clinic AND m.id = r.in_message_id AND r.in_message_id IS NOT NULL;

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
   WHERE c.clinic_id = v_clinic AND c.id = r.conversation_id;

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
BEGIN
  WITH r AS (
    SELECT * FROM jsonb_to_recordset(p_rows)
      AS x (outbox_id uuid, status text, attempts int, error text, external_id text)
  ), o AS (
    UPDATE atendeai.outbox o
       SET status = r.status, attempts = r.attempts, last_error = r.error,
           external_id = coalesce(r.external_id, o.external_id),
           sent_at = CASE WHEN r.status IN ('sent', 'sink') THEN now() ELSE o.sent_at END
      FROM r
     WHERE o.clinic_id = v_clinic AND o.id = r.outbox_id
    RETURNING o.message_id, o.status, o.external_id, o.last_error
  )
  UPDATE atendeai.messages m
     SET status = CASE WHEN o.status = 'pending' THEN 'pending' ELSE o.status END,
         external_id = coalesce(o.external_id, m.external_id), error = o.last_error
    FROM o
   WHERE m.clinic_id = v_clinic AND m.id = o.message_id;
END $$;
