-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- The compiled up expression inlines the SQL functions it calls. When one is
-- replaced during the window, the same backend computes with the new body at
-- once (a pg_proc invalidation rebuilds the trigger's plan).
CREATE FUNCTION norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;
CREATE TABLE c (id int PRIMARY KEY, email text);
SELECT zdm.begin_add_column('c', 'email_norm', 'text', up => 'norm(email)', migration => 'c');
INSERT INTO c (id, email) VALUES (1, 'Ada@X');
CREATE OR REPLACE FUNCTION norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper($1) $$;
INSERT INTO c (id, email) VALUES (2, 'Ada@X');
UPDATE c SET email = 'Bob@X' WHERE id = 1;
SELECT * FROM c ORDER BY id;
SELECT zdm.abort('c');
DROP TABLE c;
DROP FUNCTION norm(text);
