-- Automatic no-shows, the opt-in a clinic collected (and may require), and reminders to
-- patients who never wrote (issue 18).
--
-- A clinic may have an appointment that was neither attended nor cancelled marked
-- no_show once a grace period past its end has gone by (reminder_settings.
-- no_show_after_minutes; NULL, the default: never). Each such appointment gets a job of
-- kind no_show, planned with its reminders (at booking, at a move, when the settings
-- change), due at its end + the grace; the clinic's owner node marks it through the
-- clinic actor like a staff marking (audited, by the system).
ALTER TABLE atendeai.reminder_settings
  ADD COLUMN no_show_after_minutes int CHECK (no_show_after_minutes BETWEEN 5 AND 10080);

ALTER TABLE atendeai.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE atendeai.jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('reminder', 'notify', 'no_show'));

-- The opt-in to WhatsApp messages from the clinic (Meta requires one before templates),
-- as the clinic collected it: where (a form at the reception, the website, a call...),
-- when and by which staff member; cleared when withdrawn.
ALTER TABLE atendeai.contacts
  ADD COLUMN opt_in_source text CHECK (length(opt_in_source) BETWEEN 1 AND 200),
  ADD COLUMN opt_in_at timestamptz,
  ADD COLUMN opt_in_by uuid;

-- Plans the reminders (one job per configured offset still ahead at p_now) and, when the
-- clinic has automatic no-shows, the no-show job of one appointment (p_appointment) or
-- of every active appointment of the clinic not yet past its grace (NULL: its settings
-- changed; pending no-show jobs planned with another grace are skipped then). A reminder
-- whose time passed before the appointment was booked or moved is not sent late.
-- Idempotent.
CREATE OR REPLACE FUNCTION atendeai.plan_reminders(p_clinic uuid, p_appointment uuid, p_now timestamptz) RETURNS int
LANGUAGE sql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  UPDATE atendeai.jobs j SET state = 'skipped', outcome = 'superseded', finished_at = p_now
    FROM (SELECT p_clinic AS clinic_id) c
    LEFT JOIN atendeai.reminder_settings s ON s.clinic_id = c.clinic_id
   WHERE p_appointment IS NULL AND j.clinic_id = p_clinic AND j.kind = 'no_show' AND j.state = 'pending'
     AND (j.payload ->> 'after_minutes')::int IS DISTINCT FROM s.no_show_after_minutes;
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
    UNION ALL
    SELECT a.clinic_id, 'no_show',
           'no_show:' || a.id || ':' || extract(epoch FROM a.ends_at)::bigint || ':' || s.no_show_after_minutes,
           a.ends_at + make_interval(mins => s.no_show_after_minutes),
           jsonb_build_object('appointment_id', a.id, 'after_minutes', s.no_show_after_minutes,
                              'starts_at_ms', (extract(epoch FROM a.starts_at) * 1000)::bigint,
                              'ends_at_ms', (extract(epoch FROM a.ends_at) * 1000)::bigint)
      FROM atendeai.appointments a
      JOIN atendeai.reminder_settings s ON s.clinic_id = a.clinic_id AND s.no_show_after_minutes IS NOT NULL
     WHERE a.clinic_id = p_clinic AND (p_appointment IS NULL OR a.id = p_appointment)
       AND a.status IN ('scheduled', 'confirmed')
       AND a.ends_at + make_interval(mins => s.no_show_after_minutes) > p_now
    ON CONFLICT (clinic_id, cause_key) DO NOTHING
    RETURNING 1)
  SELECT count(*)::int FROM ins
$$;

-- A patient booked by staff (a phone call, the front desk) who never wrote has no
-- conversation: the claim of a job about to send them something opens one (not at
-- booking: the staff inbox shows conversations where something was said) and gives it the
-- clinic's WhatsApp account to write from. A clinic may require the recorded opt-in before
-- any template goes to a patient: reminder_settings.require_opt_in (default false),
-- returned by the claim with the contact's opt-in.
ALTER TABLE atendeai.reminder_settings ADD COLUMN require_opt_in boolean NOT NULL DEFAULT false;

-- Its result gains the no-show grace and the opt-in: a new row type, so dropped and made again.
DROP FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int);
-- Claims the due jobs of the given clinics for p_node: first marks done the running jobs
-- whose message exists, then gives up those tried p_max_attempts times, then claims
-- (SKIP LOCKED: two nodes never claim one job at once) and returns each with what running
-- it needs: the appointment as it is now, its conversation, the patient's name, the
-- channel account and contact to write to, the end of the 24-hour window (the channel's
-- timestamp of the patient's last message + 24 h), whether the patient opted out, and the
-- clinic's reminder settings (with the grace of automatic no-shows and whether templates
-- need the recorded opt-in), and whether the clinic recorded the patient's opt-in. A
-- patient who never wrote gets a conversation first (above), and the clinic's WhatsApp
-- account as the one to write from.
CREATE FUNCTION atendeai.claim_jobs(p_clinics uuid[], p_now timestamptz, p_node text, p_lease interval,
                                    p_max_attempts int, p_limit int)
RETURNS TABLE (clinic_id uuid, job_id uuid, kind text, due_at timestamptz, attempts int, payload jsonb,
               appointment_status text, starts_at timestamptz, ends_at timestamptz, professional_id uuid,
               service_id uuid, conversation_id uuid, patient_name text, account_id text, contact text,
               window_until timestamptz, opted_out boolean, enabled boolean, offsets_minutes int[],
               template_name text, template_language text, quiet_start time, quiet_end time,
               notify_created boolean, notify_moved boolean, notify_cancelled boolean,
               notice_template_name text, notice_template_language text, no_show_after_minutes int,
               opt_in boolean, require_opt_in boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
#variable_conflict use_column
BEGIN
  UPDATE atendeai.jobs j SET state = 'done', finished_at = p_now, outcome = coalesce(j.outcome, 'sent')
   WHERE j.clinic_id = ANY (p_clinics) AND j.state = 'running'
     AND EXISTS (SELECT 1 FROM atendeai.outbound_messages o WHERE o.clinic_id = j.clinic_id AND o.cause_id = j.id);
  UPDATE atendeai.jobs j SET state = 'failed', finished_at = p_now, outcome = 'gave up after ' || j.attempts || ' attempts'
   WHERE j.clinic_id = ANY (p_clinics) AND j.state = 'running' AND j.attempts >= p_max_attempts
     AND j.claimed_at <= p_now - p_lease;
  -- The conversation of a patient who never wrote, for the due jobs that will send them
  -- something (core::plan_reminder decides for good; this only avoids opening
  -- conversations for jobs that are skipped anyway).
  INSERT INTO atendeai.conversations (clinic_id, channel, contact_id)
  SELECT DISTINCT a.clinic_id, ct.channel, a.contact_id
    FROM atendeai.jobs x
    JOIN atendeai.appointments a ON a.clinic_id = x.clinic_id AND a.id = (x.payload ->> 'appointment_id')::uuid
    JOIN atendeai.contacts ct ON ct.clinic_id = a.clinic_id AND ct.id = a.contact_id AND ct.channel = 'whatsapp'
    LEFT JOIN atendeai.reminder_settings s ON s.clinic_id = x.clinic_id
   WHERE x.clinic_id = ANY (p_clinics) AND x.state IN ('pending', 'running') AND x.due_at <= p_now
     AND a.conversation_id IS NULL
     AND (NOT coalesce(s.require_opt_in, false) OR ct.opt_in_source IS NOT NULL)
     AND (x.payload ->> 'starts_at_ms')::bigint > (extract(epoch FROM p_now) * 1000)::bigint
     AND CASE x.kind
           WHEN 'reminder' THEN coalesce(s.enabled, true) AND a.status IN ('scheduled', 'confirmed')
                                AND (x.payload ->> 'starts_at_ms')::bigint = (extract(epoch FROM a.starts_at) * 1000)::bigint
                                AND (x.payload ->> 'offset_minutes')::int = ANY (coalesce(s.offsets_minutes, '{1440,120}'))
           WHEN 'notify' THEN CASE x.payload ->> 'change'
                                WHEN 'created' THEN coalesce(s.notify_created, true)
                                WHEN 'moved' THEN coalesce(s.notify_moved, true)
                                WHEN 'cancelled' THEN coalesce(s.notify_cancelled, true)
                                ELSE false END
           ELSE false END
     AND EXISTS (SELECT 1 FROM atendeai.clinic_channels h
                  WHERE h.clinic_id = x.clinic_id AND h.channel = 'whatsapp' AND h.active)
     AND NOT EXISTS (SELECT 1 FROM atendeai.conversations z
                      WHERE z.clinic_id = a.clinic_id AND z.channel = ct.channel AND z.contact_id = a.contact_id)
  ON CONFLICT (clinic_id, channel, contact_id) DO NOTHING;
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
         coalesce(ct.name, ''), coalesce(ib.account_id, ch.account_id), coalesce(ib.contact, ct.external_id),
         ib.sent_at + interval '24 hours',
         coalesce((cm.state ->> 'opted_out')::boolean, false),
         coalesce(s.enabled, true), coalesce(s.offsets_minutes, '{1440,120}'),
         coalesce(s.template_name, 'lembrete_consulta'), coalesce(s.template_language, 'pt_BR'),
         coalesce(s.quiet_start, '21:00'), coalesce(s.quiet_end, '08:00'),
         coalesce(s.notify_created, true), coalesce(s.notify_moved, true), coalesce(s.notify_cancelled, true),
         coalesce(s.notice_template_name, 'aviso_consulta'), coalesce(s.notice_template_language, 'pt_BR'),
         s.no_show_after_minutes,
         ct.opt_in_source IS NOT NULL, coalesce(s.require_opt_in, false)
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
    -- A patient who never wrote is written to from the clinic's WhatsApp account.
    LEFT JOIN LATERAL (SELECT x.account_id FROM atendeai.clinic_channels x
                        WHERE x.clinic_id = c.clinic_id AND x.channel = 'whatsapp' AND x.active
                        ORDER BY x.created_at, x.account_id LIMIT 1) ch ON ib.account_id IS NULL
    LEFT JOIN atendeai.conversation_memory cm ON cm.clinic_id = c.clinic_id AND cm.conversation_id = cv.id
    LEFT JOIN atendeai.reminder_settings s ON s.clinic_id = c.clinic_id
   ORDER BY c.due_at;
END $$;

REVOKE ALL ON FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int) TO atendeai_app;
ALTER FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int) OWNER TO atendeai_system;
