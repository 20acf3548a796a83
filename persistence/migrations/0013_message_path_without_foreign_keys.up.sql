-- The per-message path checks no foreign key (each check is a row lock on the parent and
-- an index probe): a new contact's contact, conversation and memory rows are created by
-- atendeai.ingest_batch and atendeai.record_outcomes, which take every key from the row
-- they just found or inserted in the same statement (the clinic from its channel account,
-- the contact from the contact row, the conversation from the conversation row). Clinics
-- are deactivated, never deleted; what deletes contacts deletes their conversations first.
ALTER TABLE atendeai.contacts DROP CONSTRAINT contacts_clinic_id_fkey;
ALTER TABLE atendeai.conversations DROP CONSTRAINT conversations_clinic_id_contact_id_fkey;
ALTER TABLE atendeai.conversation_memory DROP CONSTRAINT conversation_memory_clinic_id_conversation_id_fkey;
