-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- begin_add_unique on a column whose type has no btree equality (json, xml,
-- point): no UNIQUE index can exist on it, so its pending CREATE UNIQUE INDEX
-- CONCURRENTLY could only fail, and finish could not count duplicates. begin
-- refuses, naming the column, its type and the ways out; nothing changes.
\set VERBOSITY default
CREATE TABLE aut (id int PRIMARY KEY, j json, x xml, p point, jb jsonb, "Mixed Col" json);
INSERT INTO aut VALUES (1, '{}', '<a/>', '(1,1)', '{}', '{}'), (2, '{}', '<a/>', '(1,1)', '{"a":1}', '{}');
SELECT zdm.begin_add_unique('aut', ARRAY['j']);
SELECT zdm.begin_add_unique('aut', ARRAY['id', 'x', 'p']);
SELECT zdm.begin_add_unique('aut', ARRAY['Mixed Col']);
SELECT count(*) AS migrations FROM zdm.migrations WHERE name LIKE '%aut%';
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'aut'::regclass;
-- jsonb has one: fine.
SELECT zdm.begin_add_unique('aut', ARRAY['jb'], migration => 'aut_jb');
SELECT * FROM zdm.pending_statements('aut_jb') \gexec
SELECT zdm.finish('aut_jb');
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
  WHERE conrelid = 'aut'::regclass AND contype = 'u';
DROP TABLE aut;
