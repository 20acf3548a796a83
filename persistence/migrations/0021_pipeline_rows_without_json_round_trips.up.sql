-- The pipeline's batch functions without JSON round trips (issue 14). ingest_batch and
-- record_outcomes resolved each batch row's tenant (clinic, conversation, recipient) into
-- a jsonb array built row by row (to_jsonb(r) || jsonb_build_object(...), jsonb_agg) and
-- read it back with jsonb_to_recordset in every following statement: pg_stat_statements
-- in the bench's 256-connection run put that build at ~40 % of ingest_batch's time, and
-- jsonb key lookups (getKeyJsonValueFromContainer, strlen, memcmp) at the top of
-- PostgreSQL's profile. The resolved rows now travel between statements as an array of a
-- row type (atendeai.ingest_row, atendeai.outcome_row), unnested where needed: no jsonb
-- is built, and no key is looked up by name after the node's own rows are read once.
-- Same signatures, results, tenant derivation (clinic from the channel account, a reply's
-- clinic from the inbound row it answers) and plan settings; CREATE OR REPLACE keeps
-- owners and grants.

CREATE TYPE atendeai.ingest_row AS (
  ord int, clinic_id uuid, access_token text, channel text, account text, contact text, contact_name text,
  id uuid, ext text, type text, body text, payload jsonb, sent_at timestamptz, conversation_id uuid);

CREATE TYPE atendeai.outcome_row AS (
  ord int, clinic_id uuid, conversation_id uuid, kind text, cause uuid, id uuid, channel text, account text,
  recipient text, body text, payload jsonb, intent text, confidence real, staff_user_id uuid, state jsonb,
  handoff boolean);

CREATE OR REPLACE FUNCTION atendeai.ingest_batch(p_messages jsonb, p_statuses jsonb)
RETURNS TABLE (ord int, clinic_id uuid, access_token text, message_id uuid, conversation_id uuid,
               inserted boolean, new_conversation boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
#variable_conflict use_column
DECLARE
  v_rows atendeai.ingest_row[];
  v_missing boolean;
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

  -- Clinic, contact and conversation of each row (rows of an unknown or inactive account
  -- drop out here).
  SELECT array_agg(ROW(r.ord, ch.clinic_id, ch.access_token, r.channel, r.account, r.contact, r.contact_name, r.id,
                       r.ext, r.type, r.body, r.payload, r.sent_at, cv.id)::atendeai.ingest_row),
         bool_or(cv.id IS NULL)
    INTO v_rows, v_missing
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
  IF v_rows IS NULL THEN
    RETURN;
  END IF;

  -- New patients: their contact and conversation (a concurrent batch creating the same
  -- ones wins; ours then finds them).
  IF v_missing THEN
    INSERT INTO atendeai.contacts (clinic_id, channel, external_id, name)
    SELECT DISTINCT ON (r.clinic_id, r.channel, r.contact) r.clinic_id, r.channel, r.contact, r.contact_name
      FROM unnest(v_rows) AS r
     WHERE r.conversation_id IS NULL
     ORDER BY r.clinic_id, r.channel, r.contact
    ON CONFLICT (clinic_id, channel, external_id) DO NOTHING;

    WITH ins AS (
      INSERT INTO atendeai.conversations AS c (clinic_id, channel, contact_id)
      SELECT DISTINCT ON (r.clinic_id, r.channel, ct.id) r.clinic_id, r.channel, ct.id
        FROM unnest(v_rows) AS r
       CROSS JOIN LATERAL (SELECT y.id FROM atendeai.contacts y
                            WHERE y.clinic_id = r.clinic_id AND y.channel = r.channel AND y.external_id = r.contact
                            LIMIT 1) ct
       WHERE r.conversation_id IS NULL
       ORDER BY r.clinic_id, r.channel, ct.id
      ON CONFLICT ON CONSTRAINT conversations_clinic_id_channel_contact_id_key DO NOTHING
      RETURNING c.id)
    SELECT coalesce(array_agg(ins.id), '{}') INTO v_created FROM ins;

    SELECT array_agg(ROW(e.ord, e.clinic_id, e.access_token, e.channel, e.account, e.contact, e.contact_name, e.id,
                         e.ext, e.type, e.body, e.payload, e.sent_at,
                         coalesce(e.conversation_id, cv.id))::atendeai.ingest_row ORDER BY e.n)
      INTO v_rows
      FROM unnest(v_rows) WITH ORDINALITY AS e (ord, clinic_id, access_token, channel, account, contact, contact_name,
                                                 id, ext, type, body, payload, sent_at, conversation_id, n)
      LEFT JOIN LATERAL (SELECT (SELECT z.id FROM atendeai.conversations z
                                  WHERE z.clinic_id = y.clinic_id AND z.channel = y.channel AND z.contact_id = y.id) AS id
                           FROM atendeai.contacts y
                          WHERE e.conversation_id IS NULL AND y.clinic_id = e.clinic_id AND y.channel = e.channel
                            AND y.external_id = e.contact) cv ON true;
  END IF;

  RETURN QUERY
  WITH r AS MATERIALIZED (
    SELECT * FROM unnest(v_rows) AS x WHERE x.conversation_id IS NOT NULL
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

CREATE OR REPLACE FUNCTION atendeai.record_outcomes(p_outcomes jsonb, p_deliveries jsonb)
RETURNS TABLE (ord int, clinic_id uuid, outbound_id uuid, conversation_id uuid, inserted boolean,
               account_id text, recipient text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
#variable_conflict use_column
DECLARE
  v_rows atendeai.outcome_row[];
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

  -- The tenant of each row: a reply's from the inbound row it answers, any other's from
  -- its conversation (rows that resolve to neither drop out).
  SELECT array_agg(ROW(r.ord, coalesce(i.clinic_id, cv.clinic_id), coalesce(i.conversation_id, cv.id), r.kind,
                       r.cause, r.id, coalesce(i.channel, cv.channel),
                       CASE WHEN r.kind = 'reply' THEN i.account_id ELSE r.account END,
                       coalesce(i.contact, cv.contact), r.body, r.payload, r.intent, r.confidence, r.staff_user_id,
                       r.state, r.handoff)::atendeai.outcome_row)
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
  IF v_rows IS NULL THEN
    RETURN;
  END IF;

  WITH ins AS (
    INSERT INTO atendeai.outbound_messages AS o (clinic_id, id, cause_id, kind, conversation_id, channel, account_id,
                                                 recipient, body, payload, intent, confidence, staff_user_id)
    SELECT r.clinic_id, r.id, CASE WHEN r.kind = 'reply' THEN r.cause ELSE coalesce(r.cause, r.id) END, r.kind,
           r.conversation_id, r.channel, r.account, r.recipient, r.body, r.payload, r.intent, r.confidence,
           r.staff_user_id
      FROM unnest(v_rows) AS r
     WHERE r.kind IS NOT NULL
    ON CONFLICT (clinic_id, cause_id) DO NOTHING
    RETURNING o.id)
  SELECT coalesce(array_agg(ins.id), '{}') INTO v_inserted FROM ins;

  -- The conversation's state goes with its outbound message: the last one per
  -- conversation in the batch whose message was written (or a state-only row).
  INSERT INTO atendeai.conversation_memory AS cm (clinic_id, conversation_id, state, updated_at)
  SELECT DISTINCT ON (r.clinic_id, r.conversation_id) r.clinic_id, r.conversation_id, r.state, now()
    FROM unnest(v_rows) AS r
   WHERE jsonb_typeof(r.state) = 'object' AND (r.kind IS NULL OR r.id = ANY (v_inserted))
   ORDER BY r.clinic_id, r.conversation_id, r.ord DESC
  ON CONFLICT (clinic_id, conversation_id) DO UPDATE SET state = excluded.state, updated_at = now();

  UPDATE atendeai.conversations c
     SET status = CASE WHEN x.handoff THEN 'handoff' ELSE 'open' END
    FROM (SELECT DISTINCT ON (r.clinic_id, r.conversation_id) r.clinic_id, r.conversation_id, r.handoff
            FROM unnest(v_rows) AS r
           WHERE r.handoff IS NOT NULL AND (r.kind IS NULL OR r.id = ANY (v_inserted))
           ORDER BY r.clinic_id, r.conversation_id, r.ord DESC) x
   WHERE c.clinic_id = x.clinic_id AND c.id = x.conversation_id
     AND c.status IS DISTINCT FROM (CASE WHEN x.handoff THEN 'handoff' ELSE 'open' END);

  RETURN QUERY
  SELECT r.ord, r.clinic_id, r.id, r.conversation_id, r.id = ANY (v_inserted), r.account, r.recipient
    FROM unnest(v_rows) AS r;
END $$;
