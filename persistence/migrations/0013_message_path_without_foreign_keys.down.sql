-- The foreign keys come back (validated: a row without its parent stops the migration).
ALTER TABLE atendeai.contacts
  ADD CONSTRAINT contacts_clinic_id_fkey FOREIGN KEY (clinic_id) REFERENCES atendeai.clinics (id);
ALTER TABLE atendeai.conversations
  ADD CONSTRAINT conversations_clinic_id_contact_id_fkey
  FOREIGN KEY (clinic_id, contact_id) REFERENCES atendeai.contacts (clinic_id, id);
ALTER TABLE atendeai.conversation_memory
  ADD CONSTRAINT conversation_memory_clinic_id_conversation_id_fkey
  FOREIGN KEY (clinic_id, conversation_id) REFERENCES atendeai.conversations (clinic_id, id);
