-- LGPD erasure (issue 21): a patient's data erased on request (by staff through the admin
-- API, or by the patient in the chat), or restricted where the clinic must keep records.
--
-- anonymise: message texts and payloads, the conversation's memory, the patient's name,
-- phone number and opt-in, free-text reasons and the audit rows' before/after images of
-- the patient's records are erased; the rows themselves stay (times, counts, the agenda's
-- appointments, consent events: none of it names the patient), and the contact's key on the
-- channel becomes 'erased:<id>', so the same phone writing again starts a fresh contact.
-- restrict: nothing is erased, but the contact's key on the channel moves aside
-- (restricted_external_id) and the contact and its conversations disappear from every
-- view and use; only an export for the authorities reads them.
-- Either way the patient's pending jobs are skipped and waitlist entries removed.
-- Idempotent; run in a transaction scoped to the clinic (row-level security).
ALTER TABLE atendeai.contacts
  ADD COLUMN erased_at timestamptz,
  ADD COLUMN restricted_at timestamptz,
  ADD COLUMN restricted_external_id text;

CREATE FUNCTION atendeai.erase_contact(p_contact uuid, p_conversation uuid, p_mode text)
RETURNS TABLE (contact_id uuid, conversation_id uuid)
LANGUAGE plpgsql SET search_path = atendeai, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_clinic uuid := atendeai.current_clinic();
  v_contact uuid := p_contact;
  v_convs uuid[];
  v_appts uuid[];
BEGIN
  IF p_mode NOT IN ('anonymise', 'restrict') THEN
    RAISE EXCEPTION 'erase_contact: unknown mode %', p_mode USING ERRCODE = '22023';
  END IF;
  IF v_contact IS NULL THEN
    SELECT z.contact_id INTO v_contact FROM atendeai.conversations z WHERE z.clinic_id = v_clinic AND z.id = p_conversation;
  END IF;
  IF v_contact IS NULL OR NOT EXISTS (SELECT 1 FROM atendeai.contacts c WHERE c.clinic_id = v_clinic AND c.id = v_contact) THEN
    RETURN;
  END IF;
  SELECT coalesce(array_agg(z.id), '{}') INTO v_convs
    FROM atendeai.conversations z WHERE z.clinic_id = v_clinic AND z.contact_id = v_contact;
  SELECT coalesce(array_agg(a.id), '{}') INTO v_appts
    FROM atendeai.appointments a WHERE a.clinic_id = v_clinic AND a.contact_id = v_contact;

  UPDATE atendeai.jobs j SET state = 'skipped', outcome = 'the patient''s data was erased', finished_at = now()
   WHERE j.clinic_id = v_clinic AND j.state IN ('pending', 'running')
     AND (j.payload ->> 'appointment_id') = ANY (v_appts::text[]);
  UPDATE atendeai.waitlist w SET status = 'removed', removed_by = 'erasure', updated_at = now()
   WHERE w.clinic_id = v_clinic AND w.contact_id = v_contact AND w.status IN ('waiting', 'offered');

  IF p_mode = 'restrict' THEN
    UPDATE atendeai.contacts c
       SET restricted_at = now(), restricted_external_id = c.external_id, external_id = 'restricted:' || c.id
     WHERE c.clinic_id = v_clinic AND c.id = v_contact AND c.restricted_at IS NULL AND c.erased_at IS NULL;
  ELSE
    UPDATE atendeai.inbound_messages i SET body = NULL, payload = NULL, contact = 'erased'
     WHERE i.clinic_id = v_clinic AND i.conversation_id = ANY (v_convs) AND i.contact <> 'erased';
    UPDATE atendeai.outbound_messages o SET body = NULL, payload = NULL, recipient = NULL
     WHERE o.clinic_id = v_clinic AND o.conversation_id = ANY (v_convs)
       AND (o.body IS NOT NULL OR o.payload IS NOT NULL OR o.recipient IS NOT NULL);
    UPDATE atendeai.delivery_events e SET error = NULL
     WHERE e.clinic_id = v_clinic AND e.error IS NOT NULL
       AND e.outbound_id IN (SELECT o.id FROM atendeai.outbound_messages o
                              WHERE o.clinic_id = v_clinic AND o.conversation_id = ANY (v_convs));
    DELETE FROM atendeai.conversation_memory m WHERE m.clinic_id = v_clinic AND m.conversation_id = ANY (v_convs);
    UPDATE atendeai.appointments a SET cancel_reason = NULL
     WHERE a.clinic_id = v_clinic AND a.id = ANY (v_appts) AND a.cancel_reason IS NOT NULL;
    UPDATE atendeai.audit_log l SET before = NULL, after = NULL
     WHERE l.clinic_id = v_clinic AND (l.before IS NOT NULL OR l.after IS NOT NULL)
       AND l.target_id = ANY (v_contact::text || v_convs::text[] || v_appts::text[]);
    UPDATE atendeai.contacts c
       SET external_id = 'erased:' || c.id, name = NULL, opt_in_source = NULL, opt_in_at = NULL, opt_in_by = NULL,
           restricted_external_id = NULL, erased_at = coalesce(c.erased_at, now())
     WHERE c.clinic_id = v_clinic AND c.id = v_contact;
  END IF;
  RETURN QUERY SELECT v_contact, unnest(v_convs);
END $$;
REVOKE ALL ON FUNCTION atendeai.erase_contact(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.erase_contact(uuid, uuid, text) TO atendeai_app;
