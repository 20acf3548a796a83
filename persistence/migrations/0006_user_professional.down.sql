DROP INDEX atendeai.users_professional_idx;
ALTER TABLE atendeai.users DROP CONSTRAINT users_professional_fk;
