-- LGPD retention (issue 21): each clinic's messages and conversation memory older than its
-- retention_days (clinic_privacy, default 365) are anonymised by a daily job of the durable
-- scheduler, run by the node that owns the clinic.
--
-- The job of a clinic's local day ('retention:<date>', due at 03:00 local time, or at once
-- for a clinic created later in the day) is planned where every node looks for due work
-- (clinics_with_due_jobs: a no-op probe of the unique key once it exists); the owner runs
-- it with run_retention right before it claims its other due jobs. Message texts and
-- payloads older than the limit become NULL (the rows, their times and counts stay); a
-- memory not written since then loses what the patient said in it (an open booking flow,
-- the reminder or offer just answered) and keeps the choices that must outlive it: the
-- opt-out, the consent state, the language, the notice shown. Ages are measured on
-- PostgreSQL's clock, the one that stamped the rows.
ALTER TABLE atendeai.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE atendeai.jobs ADD CONSTRAINT jobs_kind_check
  CHECK (kind IN ('reminder', 'notify', 'no_show', 'waitlist_offer', 'waitlist_hold', 'retention'));

DROP FUNCTION atendeai.clinics_with_due_jobs(timestamptz);
CREATE FUNCTION atendeai.clinics_with_due_jobs(p_now timestamptz) RETURNS SETOF uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
BEGIN
  INSERT INTO atendeai.jobs (clinic_id, kind, cause_key, due_at)
  SELECT c.id, 'retention', 'retention:' || d.day, (d.day + time '03:00') AT TIME ZONE c.timezone
    FROM atendeai.clinics c
   CROSS JOIN LATERAL (SELECT (p_now AT TIME ZONE c.timezone)::date AS day) d
   WHERE c.active
  ON CONFLICT (clinic_id, cause_key) DO NOTHING;
  RETURN QUERY SELECT DISTINCT j.clinic_id FROM atendeai.jobs j
                WHERE j.state IN ('pending', 'running') AND j.due_at <= p_now;
END $$;
REVOKE ALL ON FUNCTION atendeai.clinics_with_due_jobs(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.clinics_with_due_jobs(timestamptz) TO atendeai_app;
ALTER FUNCTION atendeai.clinics_with_due_jobs(timestamptz) OWNER TO atendeai_system;

CREATE FUNCTION atendeai.run_retention(p_clinics uuid[], p_now timestamptz, p_node text)
RETURNS TABLE (clinic_id uuid, job_id uuid, messages bigint, memories bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
#variable_conflict use_column
DECLARE
  j record;
  v_before timestamptz;
  v_in bigint;
  v_out bigint;
  v_mem bigint;
BEGIN
  FOR j IN SELECT x.clinic_id, x.id FROM atendeai.jobs x
            WHERE x.clinic_id = ANY (p_clinics) AND x.kind = 'retention' AND x.state IN ('pending', 'running')
              AND x.due_at <= p_now
            ORDER BY x.due_at FOR UPDATE SKIP LOCKED
  LOOP
    SELECT now() - make_interval(days => coalesce(p.retention_days, 365)) INTO v_before
      FROM atendeai.clinics c LEFT JOIN atendeai.clinic_privacy p ON p.clinic_id = c.id
     WHERE c.id = j.clinic_id;
    UPDATE atendeai.inbound_messages i SET body = NULL, payload = NULL
     WHERE i.clinic_id = j.clinic_id AND i.created_at < v_before AND (i.body IS NOT NULL OR i.payload IS NOT NULL);
    GET DIAGNOSTICS v_in = ROW_COUNT;
    UPDATE atendeai.outbound_messages o SET body = NULL, payload = NULL
     WHERE o.clinic_id = j.clinic_id AND o.created_at < v_before AND (o.body IS NOT NULL OR o.payload IS NOT NULL);
    GET DIAGNOSTICS v_out = ROW_COUNT;
    UPDATE atendeai.conversation_memory m
       SET state = m.state - 'flow' - 'reminded' - 'waitlist_offer' - 'human_offered' - 'consent_asked'
     WHERE m.clinic_id = j.clinic_id AND m.updated_at < v_before
       AND m.state ?| ARRAY['flow', 'reminded', 'waitlist_offer', 'human_offered', 'consent_asked'];
    GET DIAGNOSTICS v_mem = ROW_COUNT;
    UPDATE atendeai.jobs x
       SET state = 'done', finished_at = p_now, claimed_by = p_node, claimed_at = p_now, attempts = x.attempts + 1,
           outcome = format('anonymised %s messages and %s memories older than %s', v_in + v_out, v_mem, v_before)
     WHERE x.clinic_id = j.clinic_id AND x.id = j.id;
    clinic_id := j.clinic_id;
    job_id := j.id;
    messages := v_in + v_out;
    memories := v_mem;
    RETURN NEXT;
  END LOOP;
END $$;
REVOKE ALL ON FUNCTION atendeai.run_retention(uuid[], timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.run_retention(uuid[], timestamptz, text) TO atendeai_app;
ALTER FUNCTION atendeai.run_retention(uuid[], timestamptz, text) OWNER TO atendeai_system;
GRANT UPDATE (body, payload) ON atendeai.inbound_messages, atendeai.outbound_messages TO atendeai_system;
