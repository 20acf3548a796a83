-- The waitlist (issue 18): a patient told by the assistant that nothing is free for a
-- service joins that service's waitlist (and the professional, part of the day and days
-- they named). When a matching time frees up (a cancellation, a move, a staff change),
-- the first patient in order is offered it, held for them (scheduling.
-- waitlist_hold_minutes) with buttons to take or decline it; on a decline or when the
-- hold runs out the next one is offered; the booking goes through the clinic actor like
-- any other.
--
-- Both steps are jobs of the durable scheduler, so a node that dies between a
-- cancellation and its offer, or during a hold, loses nothing: waitlist_offer (a freed
-- time to offer, planned only while the clinic has someone waiting) and waitlist_hold
-- (the end of one offer's hold).
CREATE TABLE atendeai.waitlist (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  contact_id uuid NOT NULL,
  conversation_id uuid NOT NULL,
  service_id uuid NOT NULL,
  professional_id uuid,
  period text CHECK (period IN ('morning', 'afternoon', 'evening')),
  date_from date,
  date_to date CHECK (date_to >= date_from),
  lang text NOT NULL DEFAULT 'pt-BR',
  -- waiting: in the queue; offered: a time is held for them now; booked: they took one;
  -- removed: by staff (DELETE .../waitlist/{wid}) or by the patient.
  status text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'booked', 'removed')),
  appointment_id uuid,
  offers int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  removed_by text,
  PRIMARY KEY (clinic_id, id),
  FOREIGN KEY (clinic_id, contact_id) REFERENCES atendeai.contacts (clinic_id, id),
  FOREIGN KEY (clinic_id, conversation_id) REFERENCES atendeai.conversations (clinic_id, id),
  FOREIGN KEY (clinic_id, service_id) REFERENCES atendeai.services (clinic_id, id),
  FOREIGN KEY (clinic_id, professional_id) REFERENCES atendeai.professionals (clinic_id, id)
);
-- One open place per patient and service: joining again keeps the first place.
CREATE UNIQUE INDEX waitlist_open_idx ON atendeai.waitlist (clinic_id, contact_id, service_id)
  WHERE status IN ('waiting', 'offered');
-- The queue, in order.
CREATE INDEX waitlist_queue_idx ON atendeai.waitlist (clinic_id, created_at) WHERE status = 'waiting';

-- Each time offered to a patient on the waitlist, and how it ended. A time is offered
-- once per entry: declined or let run out, it goes to the next one.
CREATE TABLE atendeai.waitlist_offers (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  waitlist_id uuid NOT NULL,
  professional_id uuid NOT NULL,
  service_id uuid NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
  state text NOT NULL DEFAULT 'offered' CHECK (state IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn')),
  hold_until timestamptz NOT NULL,
  appointment_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  answered_at timestamptz,
  PRIMARY KEY (clinic_id, id),
  FOREIGN KEY (clinic_id, waitlist_id) REFERENCES atendeai.waitlist (clinic_id, id)
);
CREATE INDEX waitlist_offers_entry_idx ON atendeai.waitlist_offers (clinic_id, waitlist_id);
-- A time is held for one patient at a time.
CREATE UNIQUE INDEX waitlist_offers_open_idx ON atendeai.waitlist_offers (clinic_id, professional_id, starts_at)
  WHERE state = 'offered';

SELECT atendeai.protect_tenant_table('atendeai.waitlist');
SELECT atendeai.protect_tenant_table('atendeai.waitlist_offers');
GRANT SELECT, INSERT, UPDATE, DELETE ON atendeai.waitlist, atendeai.waitlist_offers TO atendeai_app;
GRANT SELECT, UPDATE ON atendeai.waitlist, atendeai.waitlist_offers TO atendeai_system;

ALTER TABLE atendeai.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE atendeai.jobs ADD CONSTRAINT jobs_kind_check
  CHECK (kind IN ('reminder', 'notify', 'no_show', 'waitlist_offer', 'waitlist_hold'));
