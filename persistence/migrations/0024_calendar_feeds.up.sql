-- ICS feeds (issue 22, its first part): every professional, and every clinic as a whole,
-- has a secret feed URL (/ics/{token}.ics) that calendar applications subscribe to. The
-- token is shown to the clinic's staff (GET .../professionals/{pid}: ics_url) and can be
-- rotated; the public route finds its feed by the token's SHA-256 through a narrow
-- SECURITY DEFINER function (the pattern of resolve_channel): the caller names no clinic.
-- Feeds are made by triggers for every professional and clinic, and here for those that
-- exist. Appointments carry the SEQUENCE their events need (RFC 5545: bumped by every
-- change of time, professional, service or status), so a moved or cancelled appointment
-- replaces its event in the subscribers' calendars.
CREATE FUNCTION atendeai.new_feed_token() RETURNS text
LANGUAGE sql VOLATILE AS $$
  -- Two version-4 UUIDs: 244 bits from PostgreSQL's strong random source.
  SELECT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
$$;

CREATE TABLE atendeai.calendar_feeds (
  clinic_id uuid NOT NULL REFERENCES atendeai.clinics (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  professional_id uuid, -- NULL: the clinic-wide feed
  token text NOT NULL DEFAULT atendeai.new_feed_token(),
  token_hash text NOT NULL, -- set by the trigger below from the token
  rotated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, id),
  UNIQUE NULLS NOT DISTINCT (clinic_id, professional_id),
  FOREIGN KEY (clinic_id, professional_id) REFERENCES atendeai.professionals (clinic_id, id)
);
CREATE UNIQUE INDEX calendar_feeds_token_hash_idx ON atendeai.calendar_feeds (token_hash);
CREATE FUNCTION atendeai.hash_feed_token() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.token_hash := encode(sha256(convert_to(NEW.token, 'UTF8')), 'hex');
  RETURN NEW;
END $$;
CREATE TRIGGER calendar_feeds_token_hash BEFORE INSERT OR UPDATE OF token ON atendeai.calendar_feeds
  FOR EACH ROW EXECUTE FUNCTION atendeai.hash_feed_token();
SELECT atendeai.protect_tenant_table('atendeai.calendar_feeds');
GRANT SELECT, INSERT, UPDATE, DELETE ON atendeai.calendar_feeds TO atendeai_app;
GRANT SELECT ON atendeai.calendar_feeds TO atendeai_system;

INSERT INTO atendeai.calendar_feeds (clinic_id, professional_id) SELECT id, NULL FROM atendeai.clinics;
INSERT INTO atendeai.calendar_feeds (clinic_id, professional_id) SELECT clinic_id, id FROM atendeai.professionals;

CREATE FUNCTION atendeai.add_calendar_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'clinics' THEN
    INSERT INTO atendeai.calendar_feeds (clinic_id, professional_id) VALUES (NEW.id, NULL);
  ELSE
    INSERT INTO atendeai.calendar_feeds (clinic_id, professional_id) VALUES (NEW.clinic_id, NEW.id);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER clinics_calendar_feed AFTER INSERT ON atendeai.clinics
  FOR EACH ROW EXECUTE FUNCTION atendeai.add_calendar_feed();
CREATE TRIGGER professionals_calendar_feed AFTER INSERT ON atendeai.professionals
  FOR EACH ROW EXECUTE FUNCTION atendeai.add_calendar_feed();

-- The feed of a token (its clinic, and its professional or NULL), or no row.
CREATE FUNCTION atendeai.calendar_feed_of(p_token text)
RETURNS TABLE (clinic_id uuid, professional_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT f.clinic_id, f.professional_id FROM atendeai.calendar_feeds f
    JOIN atendeai.clinics c ON c.id = f.clinic_id AND c.active
   WHERE f.token_hash = encode(sha256(convert_to(p_token, 'UTF8')), 'hex')
$$;
REVOKE ALL ON FUNCTION atendeai.calendar_feed_of(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.calendar_feed_of(text) TO atendeai_app;
ALTER FUNCTION atendeai.calendar_feed_of(text) OWNER TO atendeai_system;

ALTER TABLE atendeai.appointments ADD COLUMN ics_sequence integer NOT NULL DEFAULT 0;
CREATE FUNCTION atendeai.bump_ics_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.starts_at, NEW.ends_at, NEW.status, NEW.professional_id, NEW.service_id)
     IS DISTINCT FROM (OLD.starts_at, OLD.ends_at, OLD.status, OLD.professional_id, OLD.service_id) THEN
    NEW.ics_sequence := OLD.ics_sequence + 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER appointments_ics_sequence BEFORE UPDATE ON atendeai.appointments
  FOR EACH ROW EXECUTE FUNCTION atendeai.bump_ics_sequence();
