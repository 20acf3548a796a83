-- Services may carry an English name, used when the conversation is in English
-- (NULL: the name is the same in every language). The demo clinic's services get theirs
-- when they still have their demo names.
ALTER TABLE atendeai.services ADD COLUMN name_en text CHECK (name_en IS NULL OR length(name_en) BETWEEN 1 AND 100);

-- (services are row-protected by tenant: name the demo clinic for this transaction)
SELECT set_config('app.clinic_id', '00000000-0000-4000-8000-00000000c001', true);
UPDATE atendeai.services s SET name_en = d.name_en
  FROM (VALUES ('00000000-0000-4000-8000-00000000a001'::uuid, 'Clínico geral', 'General practice'),
               ('00000000-0000-4000-8000-00000000a002'::uuid, 'Cardiologia', 'Cardiology'),
               ('00000000-0000-4000-8000-00000000a003'::uuid, 'Dermatologia', 'Dermatology')) AS d (id, name, name_en)
 WHERE s.clinic_id = '00000000-0000-4000-8000-00000000c001' AND s.id = d.id AND s.name = d.name;
