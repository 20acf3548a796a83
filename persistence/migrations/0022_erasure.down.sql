-- Erased data stays erased; restricted contacts get their key on the channel back.
DROP FUNCTION atendeai.erase_contact(uuid, uuid, text);
UPDATE atendeai.contacts SET external_id = restricted_external_id
 WHERE restricted_external_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM atendeai.contacts o WHERE o.clinic_id = contacts.clinic_id
                    AND o.channel = contacts.channel AND o.external_id = contacts.restricted_external_id);
ALTER TABLE atendeai.contacts DROP COLUMN erased_at, DROP COLUMN restricted_at, DROP COLUMN restricted_external_id;
