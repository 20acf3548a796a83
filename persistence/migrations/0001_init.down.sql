-- The roles stay: they are shared by every database of the PostgreSQL cluster.
DROP SCHEMA atendeai CASCADE;
