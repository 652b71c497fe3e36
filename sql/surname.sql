-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- The surname case: a NOT NULL surname supersedes last_name, in one migration
-- and a single deploy. App v1 reads and writes last_name only; app v2 surname
-- only. Both succeed throughout the window and each reads back what it wrote.
CREATE TABLE person (id bigserial PRIMARY KEY, first_name text, last_name text NOT NULL);
INSERT INTO person (first_name, last_name)
SELECT 'first' || i, 'last' || i FROM generate_series(1, 20) i;

SELECT zdm.begin_add_column('person', 'surname', 'text', up => 'last_name', not_null => true,
                            migration => 'surname');
SELECT zdm.begin_drop_column('person', 'last_name', down => 'surname', migration => 'surname');
\d person
SELECT operation, backfill FROM zdm.status();

-- v1 and v2 write side by side, before any backfill.
INSERT INTO person (id, first_name, last_name) VALUES (101, 'v1', 'v1-insert');
INSERT INTO person (id, first_name, surname) VALUES (102, 'v2', 'v2-insert');
UPDATE person SET last_name = 'v1-update' WHERE id = 1;
UPDATE person SET surname = 'v2-update' WHERE id = 2;
UPDATE person SET first_name = 'v2-touch' WHERE id = 3;   -- a row backfill has not reached
UPDATE person SET last_name = 'v1-on-v2-row' WHERE id = 102;
UPDATE person SET surname = 'v2-on-v1-row' WHERE id = 101;
-- Each app reads back what it wrote.
SELECT id, last_name AS v1_reads FROM person WHERE id IN (1, 101, 102) ORDER BY id;
SELECT id, surname AS v2_reads FROM person WHERE id IN (2, 3, 101, 102) ORDER BY id;

-- NOT NULL binds the new app at once (the old app keeps its own NOT NULL).
INSERT INTO person (first_name, surname) VALUES ('v2', NULL);
INSERT INTO person (first_name, last_name) VALUES ('v1', NULL);
-- finish refuses before backfill.
SELECT zdm.finish('surname');

CALL zdm.backfill('surname', batch_size => 7);
SELECT count(*) AS divergent FROM person WHERE surname IS DISTINCT FROM last_name;
SELECT operation, backfill, rows_done, rows_converted FROM zdm.status();

SELECT zdm.finish('surname');
\d person
SELECT id, first_name, surname FROM person WHERE id IN (1, 2, 3, 101, 102) ORDER BY id;
SELECT count(*) AS rows, count(surname) AS with_surname FROM person;
SELECT phase, statement FROM zdm.ddl_log WHERE phase = 'finish' ORDER BY id;
DROP TABLE person;

-- The same migration, aborted: the table is as it was.
CREATE TABLE person (id bigserial PRIMARY KEY, first_name text, last_name text NOT NULL);
INSERT INTO person (first_name, last_name) VALUES ('a', 'b');
SELECT zdm.begin_add_column('person', 'surname', 'text', up => 'last_name', not_null => true,
                            migration => 'again');
SELECT zdm.begin_drop_column('person', 'last_name', down => 'surname', migration => 'again');
INSERT INTO person (first_name, surname) VALUES ('v2', 'kept');
SELECT zdm.abort('again');
\d person
SELECT first_name, last_name FROM person ORDER BY id;
DROP TABLE person;
