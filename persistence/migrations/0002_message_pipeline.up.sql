-- Functions of the message pipeline. Tenant functions run with the caller's rights (so
-- row-level security applies: the caller has set app.clinic_id); system functions
-- cross tenants on purpose and run as atendeai_system.

-- Stores a batch of inbound messages of the current clinic, creating contacts and
-- conversations as needed. Returns one row per stored or already known message;
-- inserted tells which were new. A message another transaction is inserting right now
-- is absent from the result: it is that transaction's to answer.
CREATE FUNCTION atendeai.ingest_inbound(p_rows jsonb)
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

-- Records what the conversation decided for inbound messages of the current clinic:
-- intent and confidence, the answered mark, the conversation's state, and the reply
-- (an outbound message plus its outbox row). The outbox is unique on in_reply_to, so a
-- message answered already gets no second reply; only new outbox rows are returned.
CREATE FUNCTION atendeai.record_replies(p_rows jsonb)
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

-- Records delivery outcomes of the current clinic's outbox rows.
CREATE FUNCTION atendeai.record_deliveries(p_rows jsonb) RETURNS void
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

-- Applies channel status updates (sent, delivered, read, failed) to our outbound
-- messages of the current clinic. A status never moves backwards (read stays read),
-- which also makes a repeated notification harmless.
CREATE FUNCTION atendeai.record_statuses(p_rows jsonb) RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_clinic uuid := atendeai.current_clinic();
  v_count int;
BEGIN
  WITH r AS (
    SELECT DISTINCT ON (x.channel, x.ext) x.*
      FROM (SELECT e.value ->> 'channel' AS channel, e.value ->> 'ext' AS ext, e.value ->> 'status' AS status,
                   e.value ->> 'error' AS error, e.ord
              FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS e (value, ord)) x
     ORDER BY x.channel, x.ext,
              array_position(ARRAY['sent', 'delivered', 'read', 'failed'], x.status) DESC, x.ord DESC
  )
  UPDATE atendeai.messages m
     SET status = r.status, error = coalesce(r.error, m.error)
    FROM r
   WHERE m.clinic_id = v_clinic AND m.channel = r.channel AND m.external_id = r.ext
     AND m.direction = 'out'
     AND coalesce(array_position(ARRAY['pending', 'sink', 'sent', 'delivered', 'read', 'failed'], r.status), 0)
       > coalesce(array_position(ARRAY['pending', 'sink', 'sent', 'delivered', 'read', 'failed'], m.status), 0);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END $$;

-- System lookups (cross-tenant by nature), owned by atendeai_system.
CREATE FUNCTION atendeai.resolve_channel(p_channel text, p_account text)
RETURNS TABLE (clinic_id uuid, access_token text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT ch.clinic_id, ch.access_token
    FROM atendeai.clinic_channels ch JOIN atendeai.clinics c ON c.id = ch.clinic_id
   WHERE ch.channel = p_channel AND ch.account_id = p_account AND ch.active AND c.active
$$;

CREATE FUNCTION atendeai.pending_outbox(p_limit int)
RETURNS TABLE (clinic_id uuid, outbox_id uuid, message_id uuid, conversation_id uuid,
               in_reply_to uuid, account_id text, recipient text, payload jsonb, attempts int,
               access_token text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT o.clinic_id, o.id, o.message_id, o.conversation_id, o.in_reply_to, o.account_id,
         o.recipient, o.payload, o.attempts, ch.access_token
    FROM atendeai.outbox o
    LEFT JOIN atendeai.clinic_channels ch
      ON ch.clinic_id = o.clinic_id AND ch.channel = o.channel AND ch.account_id = o.account_id
   WHERE o.status = 'pending'
   ORDER BY o.created_at
   LIMIT p_limit
$$;

-- Inbound messages stored but never answered (a node died between the commit and the
-- reply), older than p_min_age so that messages in flight are left alone.
CREATE FUNCTION atendeai.unanswered_inbound(p_min_age interval, p_limit int)
RETURNS TABLE (clinic_id uuid, message_id uuid, conversation_id uuid, payload jsonb, access_token text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT m.clinic_id, m.id, m.conversation_id, m.payload, ch.access_token
    FROM atendeai.messages m
    LEFT JOIN atendeai.clinic_channels ch
      ON ch.clinic_id = m.clinic_id AND ch.channel = m.channel AND ch.account_id = m.payload ->> 'account_id' 
   WHERE m.direction = 'in' AND m.answered_at IS NULL AND m.created_at < now() - p_min_age
   ORDER BY m.created_at
   LIMIT p_limit
$$;

ALTER FUNCTION atendeai.resolve_channel(text, text) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.pending_outbox(int) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.unanswered_inbound(interval, int) OWNER TO atendeai_system;
REVOKE ALL ON FUNCTION atendeai.resolve_channel(text, text), atendeai.pending_outbox(int),
  atendeai.unanswered_inbound(interval, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.resolve_channel(text, text), atendeai.pending_outbox(int),
  atendeai.unanswered_inbound(interval, int) TO atendeai_app;
GRANT EXECUTE ON FUNCTION atendeai.ingest_inbound(jsonb), atendeai.record_replies(jsonb),
  atendeai.record_deliveries(jsonb), atendeai.record_statuses(jsonb) TO atendeai_app;
