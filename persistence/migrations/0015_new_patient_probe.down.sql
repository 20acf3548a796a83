-- The second lookup reads its keys from the JSON rows again (migration 0010's body, with
-- its plan settings).
CREATE OR REPLACE FUNCTION atendeai.ingest_batch(p_messages jsonb, p_statuses jsonb)
RETURNS TABLE (ord int, clinic_id uuid, access_token text, message_id uuid, conversation_id uuid,
               inserted boolean, new_conversation boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
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
    LEFT JOIN LATERAL (SELECT (SELECT z.id FROM atendeai.conversations z
                                WHERE z.clinic_id = y.clinic_id AND z.channel = y.channel AND z.contact_id = y.id) AS id
                         FROM atendeai.contacts y
                        WHERE y.clinic_id = ch.clinic_id AND y.channel = r.channel AND y.external_id = r.contact) cv
      ON true;

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
      LEFT JOIN LATERAL (SELECT (SELECT z.id FROM atendeai.conversations z
                                  WHERE z.clinic_id = y.clinic_id AND z.channel = y.channel AND z.contact_id = y.id) AS id
                           FROM atendeai.contacts y
                          WHERE e ->> 'conversation_id' IS NULL AND y.clinic_id = (e ->> 'clinic_id')::uuid
                            AND y.channel = e ->> 'channel' AND y.external_id = e ->> 'contact') cv ON true;
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
