-- The booking-contention clinic (bench/run booking): few free slots for many patients.
-- One service (Cardiologia, 60 min) and two professionals who each see patients only
-- 10:00-12:00 every day, bookable from now (no minimum advance) until the end of the
-- day :days days from today: at most 2 × 2 × (:days + 1) slots, fewer once today's
-- have passed (bench/run asks the node's admin API for the exact free count).
-- psql variables: n (1: the chat race's clinic, 2: the admin API race's; ids
-- 00000000-0000-4000-910<n>-...), days (max_advance_days), phone (the clinic's WhatsApp
-- phone_number_id). Run as the database owner (RLS bypassed) before the node loads the
-- clinic; idempotent, and resets the clinic's agenda.
\set clinic '''00000000-0000-4000-910' :n '-000000000001'''
\set service '''00000000-0000-4000-910' :n '-00000000a001'''

INSERT INTO atendeai.clinics (id, name, timezone, language, address, phone, context)
SELECT :clinic, 'Clínica Bench Agenda ' || :n, c.timezone, c.language, c.address, c.phone, c.context
  FROM atendeai.clinics c
 WHERE c.id = '00000000-0000-4000-8000-00000000c001'
ON CONFLICT (id) DO NOTHING;

UPDATE atendeai.clinics
   SET context = context
       || jsonb_build_object('working_hours', (
            SELECT jsonb_object_agg(d, '[{"start": "07:00", "end": "20:00"}]'::jsonb)
              FROM unnest(ARRAY['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']) d))
       || jsonb_build_object('scheduling_policies', jsonb_build_object(
            'min_advance_hours', 0, 'max_advance_days', :days::int, 'slot_duration_minutes', 60,
            'max_daily_appointments', 500))
 WHERE id = :clinic;

INSERT INTO atendeai.services (clinic_id, id, name, duration_minutes, price_cents)
VALUES (:clinic, :service, 'Cardiologia', 60, 35000)
ON CONFLICT DO NOTHING;

INSERT INTO atendeai.professionals (clinic_id, id, name, crm, specialties, service_ids, hours)
SELECT :clinic, p.id::uuid, p.name, '', ARRAY['cardiologia'], ARRAY[:service]::uuid[],
       (SELECT jsonb_object_agg(d, '[{"start": "10:00", "end": "12:00"}]'::jsonb)
          FROM unnest(ARRAY['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']) d)
  FROM (VALUES ('00000000-0000-4000-910' || :n || '-00000000b001', 'Dra. Bench Um'),
               ('00000000-0000-4000-910' || :n || '-00000000b002', 'Dr. Bench Dois')) AS p (id, name)
ON CONFLICT DO NOTHING;

INSERT INTO atendeai.clinic_channels (clinic_id, channel, account_id)
VALUES (:clinic, 'whatsapp', :'phone')
ON CONFLICT (channel, account_id) DO NOTHING;

-- A fresh race each run: no appointments left from an earlier one.
DELETE FROM atendeai.appointments WHERE clinic_id = :clinic;
