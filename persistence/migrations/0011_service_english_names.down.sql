-- Services lose their English names (the Portuguese names stay).
ALTER TABLE atendeai.services DROP COLUMN name_en;
