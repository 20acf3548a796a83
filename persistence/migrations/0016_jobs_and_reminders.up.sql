-- The durable job scheduler, appointment reminders and notices of staff changes (issue 18).
--
-- Every timed task of the product (reminders now; automatic no-shows, waitlist holds,
-- calendar sync and retention as they come) is a row of atendeai.jobs: due at a time,
-- run by the node that owns its clinic, at most once in effect. A node claims a due job
-- with a lease (state running, claimed_by, claimed_at); a job whose node died is claimed
-- again once its lease ran out. A job that sends a message names itself as the message's
-- cause (outbound_messages is unique on (clinic_id, cause_id)), so running it twice writes
-- one message; the next claim marks it done when that message exists.
CREATE TABLE atendeai.jobs (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  -- reminder: before an appointment; notify: the patient told of a staff change.
  kind text NOT NULL CHECK (kind IN ('reminder', 'notify')),
  -- What the job is for, unique per clinic: a reminder's is its appointment, offset and
  -- start time, so a moved appointment gets new reminders and an unchanged one no second.
  cause_key text NOT NULL CHECK (length(cause_key) BETWEEN 1 AND 300),
  due_at timestamptz NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'skipped', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  claimed_by text,
  claimed_at timestamptz,
  outcome text, -- why it was skipped or failed, what it sent
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, cause_key)
);
CREATE INDEX jobs_open_idx ON atendeai.jobs (due_at) WHERE state IN ('pending', 'running');
SELECT atendeai.protect_tenant_table('atendeai.jobs');

-- A clinic's reminder choices; no row: the defaults (on, 24 h and 2 h before, the demo's
-- template names, quiet from 21:00 to 08:00 local time, patients told of every staff
-- change).
CREATE TABLE atendeai.reminder_settings (
  clinic_id uuid PRIMARY KEY REFERENCES atendeai.clinics (id),
  enabled boolean NOT NULL DEFAULT true,
  offsets_minutes int[] NOT NULL DEFAULT '{1440,120}'
    CHECK (cardinality(offsets_minutes) BETWEEN 1 AND 5 AND 5 <= ALL (offsets_minutes)
           AND 20160 >= ALL (offsets_minutes)),
  template_name text NOT NULL DEFAULT 'lembrete_consulta',
  template_language text NOT NULL DEFAULT 'pt_BR',
  quiet_start time NOT NULL DEFAULT '21:00',
  quiet_end time NOT NULL DEFAULT '08:00',
  notify_created boolean NOT NULL DEFAULT true,
  notify_moved boolean NOT NULL DEFAULT true,
  notify_cancelled boolean NOT NULL DEFAULT true,
  notice_template_name text NOT NULL DEFAULT 'aviso_consulta',
  notice_template_language text NOT NULL DEFAULT 'pt_BR',
  updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT atendeai.protect_tenant_table('atendeai.reminder_settings');

GRANT SELECT, INSERT, UPDATE, DELETE ON atendeai.jobs, atendeai.reminder_settings TO atendeai_app;
GRANT SELECT, INSERT, UPDATE ON atendeai.jobs, atendeai.reminder_settings TO atendeai_system;

-- Plans the reminders of one appointment (p_appointment) or of every active future
-- appointment of the clinic (NULL: its settings changed): one job per configured offset
-- whose time is still ahead at p_now (the node's clock); a reminder whose time passed
-- before the appointment was booked or moved is not sent late. Idempotent.
CREATE FUNCTION atendeai.plan_reminders(p_clinic uuid, p_appointment uuid, p_now timestamptz) RETURNS int
LANGUAGE sql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  WITH ins AS (
    INSERT INTO atendeai.jobs (clinic_id, kind, cause_key, due_at, payload)
    SELECT a.clinic_id, 'reminder',
           'reminder:' || a.id || ':' || o.m || ':' || extract(epoch FROM a.starts_at)::bigint,
           a.starts_at - make_interval(mins => o.m),
           jsonb_build_object('appointment_id', a.id, 'offset_minutes', o.m,
                              'starts_at_ms', (extract(epoch FROM a.starts_at) * 1000)::bigint)
      FROM atendeai.appointments a
      LEFT JOIN atendeai.reminder_settings s ON s.clinic_id = a.clinic_id
     CROSS JOIN LATERAL unnest(coalesce(s.offsets_minutes, '{1440,120}')) AS o (m)
     WHERE a.clinic_id = p_clinic AND (p_appointment IS NULL OR a.id = p_appointment)
       AND coalesce(s.enabled, true)
       AND a.status IN ('scheduled', 'confirmed')
       AND a.starts_at - make_interval(mins => o.m) > p_now
    ON CONFLICT (clinic_id, cause_key) DO NOTHING
    RETURNING 1)
  SELECT count(*)::int FROM ins
$$;

-- A notice of a staff change (created, moved, cancelled) of an appointment, due at once;
-- one per change and start time. Idempotent.
CREATE FUNCTION atendeai.plan_notice(p_clinic uuid, p_appointment uuid, p_change text, p_now timestamptz)
RETURNS int
LANGUAGE sql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  WITH ins AS (
    INSERT INTO atendeai.jobs (clinic_id, kind, cause_key, due_at, payload)
    SELECT a.clinic_id, 'notify', 'notify:' || a.id || ':' || p_change || ':' || extract(epoch FROM a.starts_at)::bigint,
           p_now,
           jsonb_build_object('appointment_id', a.id, 'change', p_change,
                              'starts_at_ms', (extract(epoch FROM a.starts_at) * 1000)::bigint)
      FROM atendeai.appointments a
     WHERE a.clinic_id = p_clinic AND a.id = p_appointment AND p_change IN ('created', 'moved', 'cancelled')
    ON CONFLICT (clinic_id, cause_key) DO NOTHING
    RETURNING 1)
  SELECT count(*)::int FROM ins
$$;

-- The clinics with a job to look at at p_now: due and pending, or running (done once its
-- message exists, claimed again once its lease ran out).
CREATE FUNCTION atendeai.clinics_with_due_jobs(p_now timestamptz) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT DISTINCT j.clinic_id FROM atendeai.jobs j
   WHERE j.state IN ('pending', 'running') AND j.due_at <= p_now
$$;

-- When the next open job falls due after p_now (NULL: none): the scheduler sleeps until
-- then (at most 30 s), so that an idle database stays idle.
CREATE FUNCTION atendeai.next_job_due(p_now timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT min(j.due_at) FROM atendeai.jobs j WHERE j.state IN ('pending', 'running') AND j.due_at > p_now
$$;

-- Claims the due jobs of the given clinics for p_node: first marks done the running jobs
-- whose message exists, then gives up those tried p_max_attempts times, then claims
-- (SKIP LOCKED: two nodes never claim one job at once) and returns each with what running
-- it needs: the appointment as it is now, its conversation, the patient's name, the
-- channel account and contact to write to, the end of the 24-hour window (the channel's
-- timestamp of the patient's last message + 24 h), whether the patient opted out, and the
-- clinic's reminder settings.
CREATE FUNCTION atendeai.claim_jobs(p_clinics uuid[], p_now timestamptz, p_node text, p_lease interval,
                                    p_max_attempts int, p_limit int)
RETURNS TABLE (clinic_id uuid, job_id uuid, kind text, due_at timestamptz, attempts int, payload jsonb,
               appointment_status text, starts_at timestamptz, ends_at timestamptz, professional_id uuid,
               service_id uuid, conversation_id uuid, patient_name text, account_id text, contact text,
               window_until timestamptz, opted_out boolean, enabled boolean, offsets_minutes int[],
               template_name text, template_language text, quiet_start time, quiet_end time,
               notify_created boolean, notify_moved boolean, notify_cancelled boolean,
               notice_template_name text, notice_template_language text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
#variable_conflict use_column
BEGIN
  UPDATE atendeai.jobs j SET state = 'done', finished_at = p_now, outcome = coalesce(j.outcome, 'sent')
   WHERE j.clinic_id = ANY (p_clinics) AND j.state = 'running'
     AND EXISTS (SELECT 1 FROM atendeai.outbound_messages o WHERE o.clinic_id = j.clinic_id AND o.cause_id = j.id);
  UPDATE atendeai.jobs j SET state = 'failed', finished_at = p_now, outcome = 'gave up after ' || j.attempts || ' attempts'
   WHERE j.clinic_id = ANY (p_clinics) AND j.state = 'running' AND j.attempts >= p_max_attempts
     AND j.claimed_at <= p_now - p_lease;
  RETURN QUERY
  WITH claimed AS (
    UPDATE atendeai.jobs j SET state = 'running', claimed_by = p_node, claimed_at = p_now, attempts = j.attempts + 1
     WHERE (j.clinic_id, j.id) IN (
             SELECT x.clinic_id, x.id FROM atendeai.jobs x
              WHERE x.clinic_id = ANY (p_clinics) AND x.state IN ('pending', 'running') AND x.due_at <= p_now
                AND (x.state = 'pending' OR x.claimed_at <= p_now - p_lease)
              ORDER BY x.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED)
    RETURNING j.*)
  SELECT c.clinic_id, c.id, c.kind, c.due_at, c.attempts, c.payload,
         a.status, a.starts_at, a.ends_at, a.professional_id, a.service_id, cv.id,
         coalesce(ct.name, ''), ib.account_id, coalesce(ib.contact, ct.external_id),
         ib.sent_at + interval '24 hours',
         coalesce((cm.state ->> 'opted_out')::boolean, false),
         coalesce(s.enabled, true), coalesce(s.offsets_minutes, '{1440,120}'),
         coalesce(s.template_name, 'lembrete_consulta'), coalesce(s.template_language, 'pt_BR'),
         coalesce(s.quiet_start, '21:00'), coalesce(s.quiet_end, '08:00'),
         coalesce(s.notify_created, true), coalesce(s.notify_moved, true), coalesce(s.notify_cancelled, true),
         coalesce(s.notice_template_name, 'aviso_consulta'), coalesce(s.notice_template_language, 'pt_BR')
    FROM claimed c
    LEFT JOIN atendeai.appointments a
      ON a.clinic_id = c.clinic_id AND a.id = (c.payload ->> 'appointment_id')::uuid
    LEFT JOIN atendeai.contacts ct ON ct.clinic_id = a.clinic_id AND ct.id = a.contact_id
    -- The appointment's conversation, else the patient's most recent one.
    LEFT JOIN LATERAL (SELECT z.id FROM atendeai.conversations z
                        WHERE z.clinic_id = a.clinic_id
                          AND (z.id = a.conversation_id OR (a.conversation_id IS NULL AND z.contact_id = a.contact_id))
                        ORDER BY z.last_message_at DESC LIMIT 1) cv ON true
    LEFT JOIN LATERAL (SELECT i.account_id, i.contact, coalesce(i.sent_at, i.created_at) AS sent_at
                         FROM atendeai.inbound_messages i
                        WHERE i.clinic_id = c.clinic_id AND i.conversation_id = cv.id
                        ORDER BY i.created_at DESC LIMIT 1) ib ON true
    LEFT JOIN atendeai.conversation_memory cm ON cm.clinic_id = c.clinic_id AND cm.conversation_id = cv.id
    LEFT JOIN atendeai.reminder_settings s ON s.clinic_id = c.clinic_id
   ORDER BY c.due_at;
END $$;

-- Ends a job (skipped or failed, with why), or puts it back to wait until p_due (held by
-- quiet hours; state pending).
CREATE FUNCTION atendeai.finish_job(p_clinic uuid, p_job uuid, p_state text, p_outcome text, p_due timestamptz,
                                    p_now timestamptz) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  UPDATE atendeai.jobs j
     SET state = p_state, outcome = p_outcome,
         due_at = CASE WHEN p_state = 'pending' THEN p_due ELSE j.due_at END,
         finished_at = CASE WHEN p_state = 'pending' THEN NULL ELSE p_now END,
         claimed_by = NULL, claimed_at = NULL
   WHERE j.clinic_id = p_clinic AND j.id = p_job AND j.state IN ('pending', 'running')
  RETURNING true
$$;

REVOKE ALL ON FUNCTION atendeai.plan_reminders(uuid, uuid, timestamptz),
  atendeai.next_job_due(timestamptz),
  atendeai.plan_notice(uuid, uuid, text, timestamptz),
  atendeai.clinics_with_due_jobs(timestamptz),
  atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int),
  atendeai.finish_job(uuid, uuid, text, text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.plan_reminders(uuid, uuid, timestamptz),
  atendeai.next_job_due(timestamptz),
  atendeai.plan_notice(uuid, uuid, text, timestamptz),
  atendeai.clinics_with_due_jobs(timestamptz),
  atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int),
  atendeai.finish_job(uuid, uuid, text, text, timestamptz, timestamptz) TO atendeai_app;
ALTER FUNCTION atendeai.plan_reminders(uuid, uuid, timestamptz) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.next_job_due(timestamptz) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.plan_notice(uuid, uuid, text, timestamptz) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.clinics_with_due_jobs(timestamptz) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.finish_job(uuid, uuid, text, text, timestamptz, timestamptz) OWNER TO atendeai_system;
