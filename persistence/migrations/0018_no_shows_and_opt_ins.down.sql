DROP FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int);
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

REVOKE ALL ON FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int) TO atendeai_app;
ALTER FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int) OWNER TO atendeai_system;
CREATE OR REPLACE FUNCTION atendeai.plan_reminders(p_clinic uuid, p_appointment uuid, p_now timestamptz) RETURNS int
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
-- The older code knows no no-show job: they go.
DELETE FROM atendeai.jobs WHERE kind = 'no_show';
ALTER TABLE atendeai.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE atendeai.jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('reminder', 'notify'));
ALTER TABLE atendeai.contacts DROP COLUMN opt_in_by, DROP COLUMN opt_in_at, DROP COLUMN opt_in_source;
ALTER TABLE atendeai.reminder_settings DROP COLUMN require_opt_in, DROP COLUMN no_show_after_minutes;
