-- Every outbound message has a cause and at most one message per cause: a reply's is the
-- inbound message it answers; a proactive message (a notice now; reminders, consent
-- requests and the like as they come) may name its own cause (a reminder's appointment
-- and time, say), so that writing it twice writes it once. Without one, a message is its
-- own cause (a staff reply: each is new). Only record_outcomes changes: a non-reply row's
-- cause is taken when given. (CREATE OR REPLACE keeps owner and grants, and takes the
-- plan settings of migration 0010 from this definition.)
CREATE OR REPLACE FUNCTION atendeai.record_outcomes(p_outcomes jsonb, p_deliveries jsonb)
RETURNS TABLE (ord int, clinic_id uuid, outbound_id uuid, conversation_id uuid, inserted boolean,
               account_id text, recipient text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
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
    SELECT r.clinic_id, r.id, CASE WHEN r.kind = 'reply' THEN r.cause ELSE coalesce(r.cause, r.id) END, r.kind,
           r.conversation_id, r.channel, r.account, r.recipient, r.body, r.payload, r.intent, r.confidence,
           r.staff_user_id
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
