-- LGPD (issue 21): each clinic's legal basis and privacy notice, and the consent events of
-- its patients.
--
-- A clinic states the legal basis on which it processes its patients' health data:
-- health_protection (LGPD art. 11 II f: health services caring for a patient need no
-- consent; the assistant's first message to a new contact carries the short notice) or
-- consent (asked with Aceito / Não aceito before any health matter). NULL: the
-- deployment's privacy.default_legal_basis. The notice (the clinic's own text, or one
-- built from its name, DPO contact and policy URL), the retention of conversations and
-- what an erasure does are kept with it.
CREATE TABLE atendeai.clinic_privacy (
  clinic_id uuid PRIMARY KEY REFERENCES atendeai.clinics (id),
  legal_basis text CHECK (legal_basis IN ('health_protection', 'consent')),
  notice text NOT NULL DEFAULT '' CHECK (length(notice) <= 700),
  policy_url text NOT NULL DEFAULT '' CHECK (length(policy_url) <= 500),
  dpo_contact text NOT NULL DEFAULT '' CHECK (length(dpo_contact) <= 200),
  retention_days int NOT NULL DEFAULT 365 CHECK (retention_days BETWEEN 30 AND 3650),
  on_erasure text NOT NULL DEFAULT 'anonymise' CHECK (on_erasure IN ('anonymise', 'restrict')),
  updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT atendeai.protect_tenant_table('atendeai.clinic_privacy');
GRANT SELECT, INSERT, UPDATE ON atendeai.clinic_privacy TO atendeai_app;
GRANT SELECT ON atendeai.clinic_privacy TO atendeai_system;

-- Each consent given, refused or revoked, with the version of the text the patient
-- answered (the SHA-256 of the notice and question shown), the legal basis then, the
-- channel and the time. Append-only: the application role may insert and read, never
-- change or delete a row.
CREATE TABLE atendeai.consent_events (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  contact_id uuid NOT NULL,
  conversation_id uuid,
  event text NOT NULL CHECK (event IN ('given', 'refused', 'revoked')),
  legal_basis text NOT NULL CHECK (legal_basis IN ('health_protection', 'consent')),
  text_version text NOT NULL CHECK (length(text_version) <= 64),
  channel text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  FOREIGN KEY (clinic_id, contact_id) REFERENCES atendeai.contacts (clinic_id, id),
  FOREIGN KEY (clinic_id, conversation_id) REFERENCES atendeai.conversations (clinic_id, id)
);
CREATE INDEX consent_events_contact_idx ON atendeai.consent_events (clinic_id, contact_id, at);
SELECT atendeai.protect_tenant_table('atendeai.consent_events');
REVOKE ALL ON atendeai.consent_events FROM atendeai_app, atendeai_system;
GRANT SELECT, INSERT ON atendeai.consent_events TO atendeai_app;
GRANT SELECT ON atendeai.consent_events TO atendeai_system;
