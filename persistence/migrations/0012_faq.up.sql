-- The clinic's knowledge base (issue 17): questions patients ask that the built-in answers
-- (hours, services, address) do not cover — insurance, parking, preparation for an exam —
-- with the clinic's own answers, managed through /api/v1/clinics/{id}/faq and matched by
-- the conversation. Clinic-scoped like the catalogue: clinic_id in the key, FORCEd
-- row-level security through atendeai.protect_tenant_table.
CREATE TABLE atendeai.faq_entries (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  question text NOT NULL CHECK (length(question) BETWEEN 1 AND 500),
  answer text NOT NULL CHECK (length(answer) BETWEEN 1 AND 2000),
  tags jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
  lang text CHECK (lang IS NULL OR lang IN ('pt-BR', 'en')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id)
);

SELECT atendeai.protect_tenant_table('atendeai.faq_entries');

GRANT SELECT, INSERT, UPDATE, DELETE ON atendeai.faq_entries TO atendeai_app;
GRANT SELECT, UPDATE ON atendeai.faq_entries TO atendeai_system;
