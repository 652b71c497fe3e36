-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- begin_create_index: the build is a pending statement the migration tool runs
-- top-level; finish refuses until the index is valid; a failed build is
-- replaced; abort drops the index.
CREATE TABLE person (id int PRIMARY KEY, name text, email text, last_name text NOT NULL DEFAULT 'l');
INSERT INTO person (id, name, email) VALUES (1, 'a', 'x'), (2, 'b', 'x'), (3, 'c', 'z');

SELECT zdm.begin_create_index('person', ARRAY['email'], is_unique => true);
SELECT * FROM zdm.pending_statements();
SELECT operation, backfill FROM zdm.status();
-- Nothing changes for the old app: no trigger, no index yet.
SELECT tgname FROM pg_trigger WHERE tgrelid = 'person'::regclass;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'person'::regclass ORDER BY 1;
SELECT zdm.finish();
-- A duplicate makes the concurrent build fail and leaves an invalid index.
SELECT * FROM zdm.pending_statements() \gexec
SELECT indexrelid::regclass, indisvalid FROM pg_index
WHERE indexrelid = 'person_email_idx'::regclass;
SELECT zdm.finish();
-- Fixed; pending_statements drops the invalid index first, then builds again.
UPDATE person SET email = 'y' WHERE id = 2;
SELECT * FROM zdm.pending_statements();
SELECT * FROM zdm.pending_statements() \gexec
SELECT * FROM zdm.pending_statements();
SELECT zdm.finish();
SELECT indexrelid::regclass, indisunique, indisvalid FROM pg_index
WHERE indexrelid = 'person_email_idx'::regclass;
SELECT migration, state, operation, backfill, progress FROM zdm.status();

-- Expressions, a predicate, another method; abort drops the built index.
SELECT zdm.begin_create_index('person', ARRAY['lower(name)', 'id'], name => 'person_lower',
                              where_clause => 'email <> ''q''', migration => 'expr');
SELECT * FROM zdm.pending_statements('expr') \gexec
SELECT pg_get_indexdef('person_lower'::regclass);
SELECT zdm.abort('expr');
SELECT to_regclass('person_lower');
SELECT zdm.begin_create_index('person', ARRAY['name'], method => 'hash', migration => 'hash');
SELECT * FROM zdm.pending_statements('hash');
SELECT zdm.abort('hash');  -- never built: nothing to drop
-- abort after a failed build drops the invalid index.
INSERT INTO person (id, name) VALUES (20, 'a');
SELECT zdm.begin_create_index('person', ARRAY['name'], is_unique => true, migration => 'dup');
SELECT * FROM zdm.pending_statements('dup') \gexec
SELECT indisvalid FROM pg_index WHERE indexrelid = 'person_name_idx'::regclass;
SELECT zdm.abort('dup');
SELECT to_regclass('person_name_idx');

-- Composition: the surname case and an index on surname, one migration, one finish.
SELECT zdm.begin_add_column('person', 'surname', 'text', up => 'last_name', not_null => true,
                            migration => 'surname');
SELECT zdm.begin_drop_column('person', 'last_name', down => 'surname', migration => 'surname');
SELECT zdm.begin_create_index('person', ARRAY['surname'], migration => 'surname');
SELECT operation, backfill FROM zdm.status() ORDER BY operation;
INSERT INTO person (id, name, last_name) VALUES (10, 'v1', 'old-app');
INSERT INTO person (id, name, surname) VALUES (11, 'v2', 'new-app');
CALL zdm.backfill('surname');
SELECT zdm.finish('surname');
SELECT * FROM zdm.pending_statements('surname') \gexec
SELECT zdm.finish('surname');
SELECT pg_get_indexdef('person_surname_idx'::regclass);
SET enable_seqscan = off;
SELECT id, surname FROM person WHERE surname = 'new-app';
RESET enable_seqscan;

-- Generated names do not collide.
CREATE INDEX person_name_idx ON person (name);
SELECT zdm.begin_create_index('person', ARRAY['name'], migration => 'gen');
SELECT * FROM zdm.pending_statements('gen');
SELECT zdm.abort('gen');

-- Errors: each leaves nothing behind.
SELECT zdm.begin_drop_column('person', 'email', migration => 'drop_email');
SELECT zdm.begin_create_index('person', ARRAY['email']);
SELECT zdm.abort('drop_email');
SELECT zdm.begin_create_index(NULL, ARRAY['name']);
SELECT zdm.begin_create_index('person', NULL);
SELECT zdm.begin_create_index('person', ARRAY[]::text[]);
SELECT zdm.begin_create_index('person', ARRAY['name', NULL]);
SELECT zdm.begin_create_index('person', ARRAY['nme']);
SELECT zdm.begin_create_index('person', ARRAY['random()']);
SELECT zdm.begin_create_index('person', ARRAY['name'], method => 'nope');
SELECT zdm.begin_create_index('person', ARRAY['name'], method => NULL);
SELECT zdm.begin_create_index('person', ARRAY['name'], is_unique => NULL);
SELECT zdm.begin_create_index('person', ARRAY['name'], method => 'hash', is_unique => true);
SELECT zdm.begin_create_index('person', ARRAY['name'], name => 'person_pkey');
SELECT zdm.begin_create_index('person', ARRAY['name'], where_clause => 'now() > ''2020-01-01''');
SELECT zdm.begin_create_index('person', ARRAY['name'], where_clause => 'name');
SELECT zdm.begin_create_index('person', ARRAY['name'], name => 'twice', migration => 'one');
SELECT zdm.begin_create_index('person', ARRAY['email'], name => 'twice', migration => 'two');
SELECT zdm.abort('one');
SELECT count(*) FROM zdm.migrations WHERE state = 'active';
DROP TABLE person;
