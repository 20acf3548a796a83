DROP FUNCTION atendeai.run_retention(uuid[], timestamptz, text);
DROP FUNCTION atendeai.clinics_with_due_jobs(timestamptz);
CREATE FUNCTION atendeai.clinics_with_due_jobs(p_now timestamptz) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT DISTINCT j.clinic_id FROM atendeai.jobs j
   WHERE j.state IN ('pending', 'running') AND j.due_at <= p_now
$$;
REVOKE ALL ON FUNCTION atendeai.clinics_with_due_jobs(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.clinics_with_due_jobs(timestamptz) TO atendeai_app;
ALTER FUNCTION atendeai.clinics_with_due_jobs(timestamptz) OWNER TO atendeai_system;
REVOKE UPDATE (body, payload) ON atendeai.inbound_messages, atendeai.outbound_messages FROM atendeai_system;
DELETE FROM atendeai.jobs WHERE kind = 'retention';
ALTER TABLE atendeai.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE atendeai.jobs ADD CONSTRAINT jobs_kind_check
  CHECK (kind IN ('reminder', 'notify', 'no_show', 'waitlist_offer', 'waitlist_hold'));
