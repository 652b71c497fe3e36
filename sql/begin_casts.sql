-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- alter_type converts as ALTER TABLE ... TYPE does: by assignment, never by an
-- explicit cast, so a value too long for varchar(n) is an error for the old
-- app's writes and for the backfill alike, never a silent truncation.
CREATE TABLE person (id int PRIMARY KEY, name text, zip text, doc json);
INSERT INTO person VALUES (1, 'abc', '12345', '{"a": 1}'), (2, 'abcdefghij', '54321', '[1, 2]');
-- What PostgreSQL itself does with the same data:
CREATE TABLE person_copy AS SELECT * FROM person;
ALTER TABLE person_copy ALTER COLUMN name TYPE varchar(5);
DROP TABLE person_copy;

SELECT zdm.begin_alter_type('person', 'name', 'varchar(5)', migration => 'short');
SELECT up_expr, down_expr FROM zdm.operations WHERE migration = 'short';
INSERT INTO person (id, name) VALUES (3, 'abcdefghij');    -- old app: refused
INSERT INTO person (id, name) VALUES (3, 'abcde');         -- old app: fits
INSERT INTO person (id, name_new) VALUES (4, 'vwxyz');     -- new app
\set VERBOSITY terse
SET client_min_messages = warning;
CALL zdm.backfill('short');                                -- row 2 is too long
RESET client_min_messages;
\set VERBOSITY default
SELECT id, name, name_new FROM person ORDER BY id;
UPDATE person SET name = 'abcde' WHERE id = 2;             -- fixed by hand
SET client_min_messages = warning;
CALL zdm.backfill('short');
SELECT zdm.finish('short');
RESET client_min_messages;
SELECT id, name, pg_typeof(name) FROM person ORDER BY id;

-- A user up is coerced by assignment too.
SELECT zdm.begin_alter_type('person', 'name', 'varchar(3)', up => 'lower(name)',
                            migration => 'shorter');
INSERT INTO person (id, name) VALUES (5, 'ABCD');
INSERT INTO person (id, name) VALUES (5, 'ABC');
SELECT id, name, name_new FROM person WHERE id = 5;
SELECT zdm.abort('shorter');

-- Without an assignment cast, where ALTER TABLE ... TYPE would need USING,
-- begin refuses and says what to pass; nothing changes.
SELECT zdm.begin_alter_type('person', 'zip', 'int');
SELECT zdm.begin_alter_type('person', 'doc', 'text');     -- no way back for the old app
SELECT zdm.begin_add_column('person', 'code', 'varchar(3)', default_expr => '''abcdef''');
\d person
SELECT count(*) AS migrations FROM zdm.migrations WHERE state = 'active';
SELECT zdm.begin_alter_type('person', 'zip', 'int', up => 'zip::int', migration => 'zip');
SELECT zdm.begin_alter_type('person', 'doc', 'text', down => 'doc_new::json', migration => 'zip');
SELECT column_name, up_expr, down_expr FROM zdm.operations WHERE migration = 'zip' ORDER BY id;
SELECT zdm.abort('zip');
DROP TABLE person;
