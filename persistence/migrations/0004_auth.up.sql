-- Users, refresh-token families and password resets. Every table is clinic-scoped under
-- FORCEd row-level security like the others; super admins live in the nil clinic
-- (00000000-0000-0000-0000-000000000000), the same clinic id system-wide audit rows use.
-- The only cross-tenant reads (an e-mail at login, a reset token, a user id named by a
-- super admin) are narrow SECURITY DEFINER functions owned by atendeai_system.

CREATE TABLE atendeai.users (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  -- Unique across clinics (login names no clinic). Like clinic_channels, users is a small
  -- reference table when the data is distributed.
  email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
  name text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
  role text NOT NULL CHECK (role IN ('super_admin', 'clinic_admin', 'attendant', 'professional')),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
  password_hash text NOT NULL,
  -- Bumped when every token of the user must die at once (reset, disable, role change).
  token_version int NOT NULL DEFAULT 0,
  professional_id uuid,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE (email),
  CHECK ((role = 'super_admin') = (clinic_id = '00000000-0000-0000-0000-000000000000'))
);

-- One row per refresh token issued; a family is one login's chain of rotations.
CREATE TABLE atendeai.refresh_tokens (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL,          -- the token's jti
  family_id uuid NOT NULL,
  user_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,       -- rotated: presenting it again is reuse
  revoked_at timestamptz,    -- the family was revoked (logout, reuse, reset)
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  FOREIGN KEY (clinic_id, user_id) REFERENCES atendeai.users (clinic_id, id)
);
CREATE INDEX refresh_tokens_family_idx ON atendeai.refresh_tokens (clinic_id, family_id);

-- Single-use reset tokens; only their SHA-256 is stored.
CREATE TABLE atendeai.password_resets (
  clinic_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  token_sha256 text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  FOREIGN KEY (clinic_id, user_id) REFERENCES atendeai.users (clinic_id, id)
);

CREATE INDEX audit_log_actor_idx ON atendeai.audit_log (clinic_id, actor_user_id, at DESC);
CREATE INDEX audit_log_target_idx ON atendeai.audit_log (clinic_id, target_id, at DESC);

SELECT atendeai.protect_tenant_table(t)
  FROM unnest(ARRAY['atendeai.users', 'atendeai.refresh_tokens', 'atendeai.password_resets']::regclass[]) AS t;

GRANT SELECT, INSERT, UPDATE, DELETE ON atendeai.users, atendeai.refresh_tokens, atendeai.password_resets
  TO atendeai_app;
GRANT SELECT ON atendeai.users, atendeai.refresh_tokens, atendeai.password_resets TO atendeai_system;

-- Login: the user behind an e-mail, whatever its clinic.
CREATE FUNCTION atendeai.user_for_login(p_email text)
RETURNS TABLE (clinic_id uuid, id uuid, password_hash text, role text, status text, token_version int)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT u.clinic_id, u.id, u.password_hash, u.role, u.status, u.token_version
    FROM atendeai.users u WHERE u.email = lower(p_email) AND u.status <> 'deleted'
$$;

-- Reset: the pending reset behind a token hash.
CREATE FUNCTION atendeai.password_reset_for(p_token_sha256 text)
RETURNS TABLE (clinic_id uuid, id uuid, user_id uuid, expired boolean, used boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT r.clinic_id, r.id, r.user_id, r.expires_at <= now(), r.used_at IS NOT NULL
    FROM atendeai.password_resets r WHERE r.token_sha256 = p_token_sha256
$$;

-- A super admin names a user by id only: which clinic holds it.
CREATE FUNCTION atendeai.user_clinic(p_user_id uuid)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT u.clinic_id FROM atendeai.users u WHERE u.id = p_user_id AND u.status <> 'deleted'
$$;

-- Whether an e-mail is taken in any clinic (creating a user must not collide).
CREATE FUNCTION atendeai.email_taken(p_email text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM atendeai.users u WHERE u.email = lower(p_email))
$$;

ALTER FUNCTION atendeai.user_for_login(text) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.password_reset_for(text) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.user_clinic(uuid) OWNER TO atendeai_system;
ALTER FUNCTION atendeai.email_taken(text) OWNER TO atendeai_system;
REVOKE ALL ON FUNCTION atendeai.user_for_login(text), atendeai.password_reset_for(text),
  atendeai.user_clinic(uuid), atendeai.email_taken(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.user_for_login(text), atendeai.password_reset_for(text),
  atendeai.user_clinic(uuid), atendeai.email_taken(text) TO atendeai_app;
