-- Catalogue admin API: a professional's own booking rules, and the one cross-tenant read
-- it needs (a super admin's list of every clinic).

-- Overrides of the clinic's scheduling_policies for one professional, e.g.
-- {"max_daily_appointments": 4}; NULL: the clinic's rules apply.
ALTER TABLE atendeai.professionals ADD COLUMN policy jsonb
  CHECK (policy IS NULL OR jsonb_typeof(policy) = 'object');
ALTER TABLE atendeai.services ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE atendeai.professionals ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Every clinic, one page at a time, for super admins (the API checks the role; the
-- function only reads the clinics table). total is the count of all rows matching.
CREATE FUNCTION atendeai.list_clinics(p_active boolean, p_limit int, p_offset bigint)
RETURNS TABLE (id uuid, name text, timezone text, language text, address text, phone text,
               context jsonb, active boolean, created_at timestamptz, updated_at timestamptz, total bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT c.id, c.name, c.timezone, c.language, c.address, c.phone, c.context, c.active, c.created_at,
         c.updated_at, count(*) OVER ()
    FROM atendeai.clinics c
   WHERE p_active IS NULL OR c.active = p_active
   ORDER BY c.created_at, c.id
   LIMIT p_limit OFFSET p_offset
$$;
ALTER FUNCTION atendeai.list_clinics(boolean, int, bigint) OWNER TO atendeai_system;
REVOKE ALL ON FUNCTION atendeai.list_clinics(boolean, int, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.list_clinics(boolean, int, bigint) TO atendeai_app;
