-- Scheduling: appointments, professionals' absences and clinic closures. Clinic-scoped
-- like every table: clinic_id leads every primary and unique key, FORCEd row-level
-- security keyed on app.clinic_id.
--
-- No double booking even past the clinic actor (two nodes, a direct admin write): the
-- exclusion constraint refuses two active appointments of one professional whose
-- [starts_at, ends_at) ranges overlap (SQLSTATE 23P01). Back-to-back slots do not
-- overlap: tstzrange is half-open.
CREATE TABLE atendeai.appointments (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  professional_id uuid NOT NULL,
  service_id uuid NOT NULL,
  contact_id uuid NOT NULL,
  conversation_id uuid,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'scheduled'
    CHECK (status IN ('scheduled', 'confirmed', 'attended', 'no_show', 'cancelled')),
  cancel_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  CHECK (ends_at > starts_at),
  FOREIGN KEY (clinic_id, professional_id) REFERENCES atendeai.professionals (clinic_id, id),
  FOREIGN KEY (clinic_id, service_id) REFERENCES atendeai.services (clinic_id, id),
  FOREIGN KEY (clinic_id, contact_id) REFERENCES atendeai.contacts (clinic_id, id),
  FOREIGN KEY (clinic_id, conversation_id) REFERENCES atendeai.conversations (clinic_id, id),
  CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
    clinic_id WITH =, professional_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
    WHERE (status IN ('scheduled', 'confirmed'))
);
CREATE INDEX appointments_starts_idx ON atendeai.appointments (clinic_id, starts_at);
CREATE INDEX appointments_contact_idx ON atendeai.appointments (clinic_id, contact_id, starts_at);

-- A professional away over [starts_at, ends_at) (vacation, congress, sick leave).
CREATE TABLE atendeai.professional_absences (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  professional_id uuid NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  reason text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  CHECK (ends_at > starts_at),
  FOREIGN KEY (clinic_id, professional_id) REFERENCES atendeai.professionals (clinic_id, id)
);
CREATE INDEX professional_absences_ends_idx ON atendeai.professional_absences (clinic_id, ends_at);

-- The whole clinic closed on local dates [starts_on, ends_on] (a holiday: one day).
CREATE TABLE atendeai.closures (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  starts_on date NOT NULL,
  ends_on date NOT NULL,
  reason text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  CHECK (ends_on >= starts_on)
);
CREATE INDEX closures_ends_idx ON atendeai.closures (clinic_id, ends_on);

SELECT atendeai.protect_tenant_table(t)
  FROM unnest(ARRAY['atendeai.appointments', 'atendeai.professional_absences', 'atendeai.closures']::regclass[]) AS t;

GRANT SELECT, INSERT, UPDATE, DELETE ON atendeai.appointments, atendeai.professional_absences,
  atendeai.closures TO atendeai_app;
GRANT SELECT, UPDATE ON atendeai.appointments, atendeai.professional_absences, atendeai.closures
  TO atendeai_system;
