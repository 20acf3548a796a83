-- A professional user sees only their own agenda: users.professional_id (0004) names a
-- professional of the user's own clinic. Unlinked (NULL) when that professional goes.
ALTER TABLE atendeai.users ADD CONSTRAINT users_professional_fk
  FOREIGN KEY (clinic_id, professional_id) REFERENCES atendeai.professionals (clinic_id, id)
  ON DELETE SET NULL (professional_id);
CREATE INDEX users_professional_idx ON atendeai.users (clinic_id, professional_id)
  WHERE professional_id IS NOT NULL;
