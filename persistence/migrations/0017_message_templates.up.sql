-- WhatsApp message templates (issue 18): the messages a clinic has registered with Meta
-- (lembrete_consulta in pt_BR, en_US ...), the only ones Meta delivers outside the
-- 24-hour customer-service window; reminders are sent as them. Managed through
-- /api/v1/clinics/{id}/templates; one per name and language, as Meta keys them.
-- Clinic-scoped like the knowledge base: clinic_id in every key, FORCEd row-level
-- security through atendeai.protect_tenant_table.
CREATE TABLE atendeai.message_templates (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL,
  language text NOT NULL,
  category text NOT NULL CHECK (category IN ('utility', 'marketing')),
  body text NOT NULL,
  buttons jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(buttons) = 'array'), -- array of strings
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, name, language)
);

SELECT atendeai.protect_tenant_table('atendeai.message_templates');

GRANT SELECT, INSERT, UPDATE, DELETE ON atendeai.message_templates TO atendeai_app;
GRANT SELECT, UPDATE ON atendeai.message_templates TO atendeai_system;
