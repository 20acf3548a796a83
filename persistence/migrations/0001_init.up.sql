-- Schema, roles, first tables. Clinic-scoped tables carry clinic_id in every primary
-- and unique key and are under FORCEd row-level security keyed on app.clinic_id.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE SCHEMA IF NOT EXISTS atendeai;

-- atendeai_app: the server's sessions (SET ROLE), no ownership, RLS applies.
-- atendeai_system: owns the narrow SECURITY DEFINER functions that cross tenants.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atendeai_app') THEN
    CREATE ROLE atendeai_app NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atendeai_system') THEN
    CREATE ROLE atendeai_system NOLOGIN;
  END IF;
  EXECUTE format('GRANT atendeai_app TO %I', current_user);
  EXECUTE format('GRANT atendeai_system TO %I', current_user);
END $$;

CREATE FUNCTION atendeai.current_clinic() RETURNS uuid
  LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.clinic_id', true), '')::uuid $$;

CREATE TABLE atendeai.clinics (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  timezone text NOT NULL DEFAULT 'America/Sao_Paulo',
  language text NOT NULL DEFAULT 'pt-BR' CHECK (language IN ('pt-BR', 'en')),
  address text NOT NULL DEFAULT '',
  phone text NOT NULL DEFAULT '',
  context jsonb NOT NULL DEFAULT '{}'::jsonb,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A channel account (a WhatsApp phone_number_id, a Twilio number, a Telegram bot)
-- belongs to exactly one clinic: (channel, account_id) is unique across clinics. This
-- small table is a reference table when the data is distributed.
CREATE TABLE atendeai.clinic_channels (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  channel text NOT NULL CHECK (channel IN ('whatsapp', 'twilio', 'telegram', 'web')),
  account_id text NOT NULL CHECK (length(account_id) BETWEEN 1 AND 200),
  access_token text,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (channel, account_id)
);

CREATE TABLE atendeai.services (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  duration_minutes int NOT NULL CHECK (duration_minutes BETWEEN 5 AND 720),
  price_cents bigint NOT NULL CHECK (price_cents >= 0),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, name)
);

CREATE TABLE atendeai.professionals (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  crm text NOT NULL DEFAULT '',
  specialties text[] NOT NULL DEFAULT '{}',
  service_ids uuid[] NOT NULL DEFAULT '{}',
  hours jsonb,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id)
);

CREATE TABLE atendeai.contacts (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  channel text NOT NULL,
  external_id text NOT NULL,
  name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, channel, external_id)
);

CREATE TABLE atendeai.conversations (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  channel text NOT NULL,
  contact_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'handoff', 'closed')),
  last_message_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, channel, contact_id),
  FOREIGN KEY (clinic_id, contact_id) REFERENCES atendeai.contacts (clinic_id, id)
);

CREATE TABLE atendeai.messages (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  conversation_id uuid NOT NULL,
  channel text NOT NULL,
  direction text NOT NULL CHECK (direction IN ('in', 'out')),
  external_id text, -- wamid: the patient's message id, or the one Meta gave our reply
  type text NOT NULL,
  body text,
  payload jsonb,
  intent text,
  confidence real,
  status text NOT NULL CHECK (status IN ('received', 'pending', 'sent', 'delivered', 'read', 'failed', 'sink')),
  error text,
  answered_at timestamptz,
  staff_user_id uuid,
  sent_at timestamptz, -- the channel's timestamp of the message
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, channel, external_id),
  FOREIGN KEY (clinic_id, conversation_id) REFERENCES atendeai.conversations (clinic_id, id)
);
CREATE INDEX messages_conversation_idx ON atendeai.messages (clinic_id, conversation_id, created_at DESC);
CREATE INDEX messages_unanswered_idx ON atendeai.messages (created_at)
  WHERE direction = 'in' AND answered_at IS NULL;

CREATE TABLE atendeai.conversation_memory (
  clinic_id uuid NOT NULL,
  conversation_id uuid NOT NULL,
  state jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, conversation_id),
  FOREIGN KEY (clinic_id, conversation_id) REFERENCES atendeai.conversations (clinic_id, id)
);

-- One row per reply to deliver. Unique on the inbound message it answers, so a message
-- is answered at most once whatever the number of nodes that processed it.
CREATE TABLE atendeai.outbox (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  message_id uuid NOT NULL,
  in_reply_to uuid,
  conversation_id uuid NOT NULL,
  channel text NOT NULL,
  account_id text NOT NULL,
  recipient text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'sink', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  external_id text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  sent_at timestamptz,
  PRIMARY KEY (clinic_id, id),
  UNIQUE (clinic_id, in_reply_to),
  FOREIGN KEY (clinic_id, message_id) REFERENCES atendeai.messages (clinic_id, id)
);
CREATE INDEX outbox_pending_idx ON atendeai.outbox (created_at) WHERE status = 'pending';

-- System-wide events use the nil clinic id.
CREATE TABLE atendeai.audit_log (
  clinic_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  at timestamptz NOT NULL DEFAULT now(),
  actor_user_id uuid,
  actor_role text,
  action text NOT NULL,
  target_type text,
  target_id text,
  before jsonb,
  after jsonb,
  request_id text,
  ip text,
  PRIMARY KEY (clinic_id, id)
);
CREATE INDEX audit_log_at_idx ON atendeai.audit_log (clinic_id, at DESC);

-- Row-level security: tenant policy for everyone (the owner too, as it is FORCEd),
-- an unrestricted policy only for the system role behind the SECURITY DEFINER functions.
-- Every clinic-scoped table of every migration goes through this one function.
CREATE FUNCTION atendeai.protect_tenant_table(p_table regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_table);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', p_table);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (clinic_id = atendeai.current_clinic()) '
                 'WITH CHECK (clinic_id = atendeai.current_clinic())', p_table);
  EXECUTE format('CREATE POLICY system_access ON %s TO atendeai_system USING (true) WITH CHECK (true)', p_table);
END $$;
REVOKE ALL ON FUNCTION atendeai.protect_tenant_table(regclass) FROM PUBLIC;

SELECT atendeai.protect_tenant_table(t)
  FROM unnest(ARRAY['atendeai.clinic_channels', 'atendeai.services', 'atendeai.professionals',
                    'atendeai.contacts', 'atendeai.conversations', 'atendeai.messages',
                    'atendeai.conversation_memory', 'atendeai.outbox', 'atendeai.audit_log']::regclass[]) AS t;
ALTER TABLE atendeai.clinics ENABLE ROW LEVEL SECURITY;
ALTER TABLE atendeai.clinics FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON atendeai.clinics USING (id = atendeai.current_clinic())
  WITH CHECK (id = atendeai.current_clinic());
CREATE POLICY system_access ON atendeai.clinics TO atendeai_system USING (true) WITH CHECK (true);

GRANT USAGE ON SCHEMA atendeai TO atendeai_app, atendeai_system;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA atendeai TO atendeai_app;
GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA atendeai TO atendeai_system;
GRANT EXECUTE ON FUNCTION atendeai.current_clinic() TO atendeai_app, atendeai_system;
