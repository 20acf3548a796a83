DROP FUNCTION atendeai.list_clinics(boolean, int, bigint);
ALTER TABLE atendeai.professionals DROP COLUMN updated_at;
ALTER TABLE atendeai.services DROP COLUMN updated_at;
ALTER TABLE atendeai.professionals DROP COLUMN policy;
