-- errors: bad input gets a clear ERROR, changes nothing, and never takes the
-- backend down. Every group of failing calls is followed by a check that the
-- tables, their constraints and triggers, and zdm's own catalog are exactly as
-- they were (regress_errors.unchanged()), and the file ends with SELECT 1.
\set VERBOSITY default
-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;

-- Fixtures ---------------------------------------------------------------------
CREATE SCHEMA regress_errors;

-- Everything a failed call could touch, as one text: the columns, constraints,
-- indexes and triggers of the tables in schema public and in the weird schema
-- below, and the rows of zdm's catalog without their timestamps.
CREATE FUNCTION regress_errors.shape() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT concat_ws(E'\n',
    (SELECT string_agg(format('column %s.%I %s%s', c.oid::regclass, a.attname,
                              format_type(a.atttypid, a.atttypmod),
                              CASE WHEN a.attnotnull THEN ' not null' ELSE '' END),
                       E'\n' ORDER BY c.oid::regclass::text, a.attnum)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid
     WHERE n.nspname IN ('public', 'sch "x"; y') AND a.attnum > 0 AND NOT a.attisdropped),
    (SELECT string_agg(format('constraint %s %I %s', conrelid::regclass, conname,
                              pg_get_constraintdef(oid)),
                       E'\n' ORDER BY conrelid::regclass::text, conname)
     FROM pg_constraint WHERE connamespace IN
       (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'sch "x"; y'))),
    (SELECT string_agg(format('index %s', pg_get_indexdef(i.indexrelid)),
                       E'\n' ORDER BY i.indexrelid::regclass::text)
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relnamespace IN
       (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'sch "x"; y'))),
    (SELECT string_agg(format('trigger %s %I %s', tgrelid::regclass, tgname,
                              pg_get_triggerdef(oid)),
                       E'\n' ORDER BY tgrelid::regclass::text, tgname)
     FROM pg_trigger WHERE NOT tgisinternal),
    (SELECT string_agg(format('migration %L %s', name, state), E'\n' ORDER BY name)
     FROM zdm.migrations),
    (SELECT string_agg(format('operation %L %s %I %I %s %s', migration, kind, column_name,
                              new_column, backfill_state, rows_done),
                       E'\n' ORDER BY id)
     FROM zdm.operations),
    (SELECT format('ddl_log %s', count(*)) FROM zdm.ddl_log));
$$;

-- Remembers the shape; unchanged() then says whether it still holds, and
-- prints what differs when it does not.
CREATE TABLE regress_errors.saved (shape text);
CREATE FUNCTION regress_errors.save() RETURNS void
LANGUAGE sql AS $$
  DELETE FROM regress_errors.saved;
  INSERT INTO regress_errors.saved SELECT regress_errors.shape();
$$;
CREATE FUNCTION regress_errors.unchanged() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  before text := (SELECT shape FROM regress_errors.saved);
  now    text := regress_errors.shape();
  line   text;
BEGIN
  IF before IS NOT DISTINCT FROM now THEN
    RETURN true;
  END IF;
  FOR line IN SELECT unnest(string_to_array(now, E'\n'))
              EXCEPT SELECT unnest(string_to_array(before, E'\n')) LOOP
    RAISE NOTICE 'appeared: %', line;
  END LOOP;
  FOR line IN SELECT unnest(string_to_array(before, E'\n'))
              EXCEPT SELECT unnest(string_to_array(now, E'\n')) LOOP
    RAISE NOTICE 'vanished: %', line;
  END LOOP;
  RETURN false;
END
$$;

-- Runs a statement that must fail and reports its SQLSTATE and message with
-- every number masked: for the errors that name an OID.
CREATE FUNCTION regress_errors.fails(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9]+', 'N', 'g');
END
$$;

CREATE TABLE people (
  id        integer PRIMARY KEY,
  last_name text NOT NULL CHECK (last_name <> ''),
  nick      text,
  email     text UNIQUE,
  shout     text GENERATED ALWAYS AS (upper(last_name)) STORED
);
INSERT INTO people (id, last_name, nick, email)
VALUES (1, 'Lovelace', 'ada', 'ada@example.org'),
       (2, 'Hopper', 'grace', NULL),
       (3, 'Liskov', NULL, 'barbara@example.org');
CREATE VIEW people_view AS SELECT id, last_name FROM people;
CREATE MATERIALIZED VIEW people_matview AS SELECT id, last_name FROM people;
CREATE SEQUENCE people_seq;
CREATE TABLE measurements (id integer, reading integer) PARTITION BY RANGE (id);
CREATE TABLE measurements_1 PARTITION OF measurements FOR VALUES FROM (0) TO (100);
CREATE TABLE doomed (id integer PRIMARY KEY, a integer);
SELECT oid AS doomed_oid FROM pg_class WHERE oid = 'doomed'::regclass \gset
DROP TABLE doomed;

SELECT regress_errors.save();
\d people

-- NULL arguments ---------------------------------------------------------------
-- None of the functions is STRICT: each NULL gets an error that names it.
SELECT zdm.begin_rename(NULL, 'last_name', 'surname');
SELECT zdm.begin_rename('people', NULL, 'surname');
SELECT zdm.begin_rename('people', 'last_name', NULL);
SELECT zdm.begin_rename(NULL, NULL, NULL, NULL);
CALL zdm.backfill(NULL, NULL);
CALL zdm.backfill(NULL, 100, NULL);
CALL zdm.backfill('x', NULL, NULL);
SELECT zdm.copy_check_constraint(NULL, 'people_last_name_check', 'last_name', 'nick', 'c');
SELECT zdm.copy_check_constraint('people', NULL, 'last_name', 'nick', 'c');
SELECT zdm.copy_check_constraint('people', 'people_last_name_check', NULL, 'nick', 'c');
SELECT zdm.copy_check_constraint('people', 'people_last_name_check', 'last_name', NULL, 'c');
SELECT zdm.copy_check_constraint('people', 'people_last_name_check', 'last_name', 'nick', NULL);
-- NULL migration means "the only open one": with none open, that is an error.
SELECT zdm.finish(NULL);
SELECT zdm.abort(NULL);
CALL zdm.backfill(NULL);
SELECT regress_errors.unchanged();

-- Bad batch_size and pause -----------------------------------------------------
CALL zdm.backfill(NULL, 0);
CALL zdm.backfill(NULL, -1);
CALL zdm.backfill(NULL, 100, '-1 second');
CALL zdm.backfill(NULL, 100, '1 second - 2 days');
SELECT regress_errors.unchanged();

-- Not a table ------------------------------------------------------------------
SELECT zdm.begin_rename('nope', 'last_name', 'surname');
SELECT zdm.begin_rename('public.nope', 'last_name', 'surname');
SELECT zdm.begin_rename('nope.people', 'last_name', 'surname');
-- An OID whose table was dropped (the OID is masked: it differs between runs).
SELECT regress_errors.fails(format('SELECT zdm.begin_rename(%s::regclass, %L, %L)',
                                   :'doomed_oid', 'a', 'b'));
SELECT regress_errors.fails('SELECT zdm.begin_rename(0::regclass, ''a'', ''b'')');
SELECT zdm.begin_rename('people_view', 'last_name', 'surname');
SELECT zdm.begin_rename('people_matview', 'last_name', 'surname');
SELECT zdm.begin_rename('people_seq', 'last_value', 'final_value');
SELECT zdm.begin_rename('measurements', 'reading', 'value');
-- A partition: zdm refuses it before touching anything.
SELECT zdm.begin_rename('measurements_1', 'reading', 'value');
-- A system catalog: zdm refuses it.
SELECT zdm.begin_rename('pg_catalog.pg_description', 'description', 'text');
SELECT regress_errors.unchanged();
SELECT count(*) AS migrations FROM zdm.migrations;

-- Bad column names -------------------------------------------------------------
SELECT zdm.begin_rename('people', 'lastname', 'surname');
SELECT zdm.begin_rename('people', 'Last_Name', 'surname');
SELECT zdm.begin_rename('people', 'ctid', 'row_address');
SELECT zdm.begin_rename('people', '', 'surname');
SELECT zdm.begin_rename('people', 'last_name', '');
-- The new name is taken: by a column, by the same column, by a system column.
SELECT zdm.begin_rename('people', 'last_name', 'nick');
SELECT zdm.begin_rename('people', 'last_name', 'last_name');
SELECT zdm.begin_rename('people', 'last_name', 'xmin');
-- A generated column cannot be written by the dual-write trigger.
SELECT zdm.begin_rename('people', 'shout', 'loud_last_name');
-- Bad migration names.
SELECT zdm.begin_rename('people', 'last_name', 'surname', '');
SELECT zdm.begin_rename('people', 'last_name', 'surname', repeat('m', 64));
SELECT regress_errors.unchanged();
SELECT count(*) AS migrations FROM zdm.migrations;

-- A new name longer than 63 bytes never reaches zdm whole: the argument's type
-- is name, which keeps the first 63 bytes, as PostgreSQL does with every
-- identifier. The column gets the 63-byte name.
SELECT zdm.begin_rename('people', 'nick', repeat('n', 70), 'too_long');
SELECT attname, octet_length(attname::text) FROM pg_attribute
WHERE attrelid = 'people'::regclass AND attname LIKE 'nnn%';
SELECT zdm.abort('too_long');
SELECT count(*) AS columns_left FROM pg_attribute
WHERE attrelid = 'people'::regclass AND attname LIKE 'nnn%' AND NOT attisdropped;

-- No migration, unknown migration ----------------------------------------------
SELECT regress_errors.save();
SELECT zdm.finish();
SELECT zdm.abort();
CALL zdm.backfill();
SELECT zdm.finish('nope');
SELECT zdm.abort('nope');
CALL zdm.backfill('nope');
SELECT regress_errors.unchanged();

-- One open migration -----------------------------------------------------------
SELECT zdm.begin_rename('people', 'last_name', 'surname', 'people_surname');
SELECT regress_errors.save();
-- A second migration on the same column, or on its new name, either way round.
SELECT zdm.begin_rename('people', 'last_name', 'family_name');
SELECT zdm.begin_rename('people', 'surname', 'family_name');
SELECT zdm.begin_rename('people', 'nick', 'surname');
SELECT zdm.begin_rename('people', 'nick', 'last_name');
-- The same, asking to join the open migration.
SELECT zdm.begin_rename('people', 'last_name', 'family_name', 'people_surname');
SELECT zdm.begin_rename('people', 'surname', 'family_name', 'people_surname');
-- finish refuses until the backfill is complete.
SELECT zdm.finish();
SELECT zdm.finish('people_surname');
SELECT regress_errors.unchanged();

-- Two open migrations: the NULL forms list the candidates ------------------------
SELECT zdm.begin_rename('people', 'nick', 'handle', 'people_handle');
SELECT regress_errors.save();
SELECT zdm.finish();
SELECT zdm.abort();
CALL zdm.backfill();
CALL zdm.backfill(NULL, 10);
SELECT zdm.finish('people_nope');
SELECT regress_errors.unchanged();
SELECT migration, state, operation, table_name, backfill, rows_done
FROM zdm.status() ORDER BY migration;

-- Finish one, abort the other ----------------------------------------------------
CALL zdm.backfill('people_surname', 2);
SELECT zdm.finish('people_surname');
SELECT zdm.abort('people_handle');
SELECT regress_errors.save();
\d people
SELECT id, surname, nick, shout FROM people ORDER BY id;

-- Finish after abort, abort after finish, and any other step of an ended one.
SELECT zdm.finish('people_handle');
CALL zdm.backfill('people_handle');
SELECT zdm.abort('people_handle');
SELECT zdm.abort('people_surname');
CALL zdm.backfill('people_surname');
SELECT zdm.finish('people_surname');
-- An ended migration's name cannot be reused for a new operation.
SELECT zdm.begin_rename('people', 'nick', 'handle', 'people_handle');
SELECT zdm.begin_rename('people', 'email', 'mail', 'people_surname');
-- Nothing is open now.
SELECT zdm.finish();
SELECT regress_errors.unchanged();
SELECT migration, state, operation, backfill, rows_done, rows_converted
FROM zdm.status() ORDER BY migration;

-- A table dropped during its migration -------------------------------------------
CREATE TABLE short_lived (id integer PRIMARY KEY, a integer);
SELECT zdm.begin_rename('short_lived', 'a', 'b', 'short_lived_b');
CALL zdm.backfill('short_lived_b');
DROP TABLE short_lived;
SELECT regress_errors.fails('SELECT zdm.finish(''short_lived_b'')');
SELECT state FROM zdm.migrations WHERE name = 'short_lived_b';
-- abort has nothing left to undo and ends the migration.
SELECT zdm.abort('short_lived_b');
SELECT state FROM zdm.migrations WHERE name = 'short_lived_b';

-- Identifiers with quotes, semicolons, spaces and unicode work, and are inert ---
CREATE SCHEMA "sch ""x""; y";
CREATE TABLE canary (id integer);
CREATE TABLE "sch ""x""; y"."we;ird ""tbl""" (
  "id; DROP TABLE canary; --" integer PRIMARY KEY,
  "co;l""1" text NOT NULL CHECK ("co;l""1" <> 'x'';--'),
  "prénom ☃" text
);
INSERT INTO "sch ""x""; y"."we;ird ""tbl""" VALUES (1, 'one', 'Zoë'), (2, 'two', NULL);
SELECT zdm.begin_rename('"sch ""x""; y"."we;ird ""tbl"""', 'co;l"1',
                        'new"; DROP TABLE canary; --', 'weird "mig"; --');
SELECT zdm.begin_rename('"sch ""x""; y"."we;ird ""tbl"""', 'prénom ☃', '名前 ✓',
                        'weird "mig"; --');
-- A generated migration name keeps only [a-z0-9_].
SELECT zdm.begin_rename('"sch ""x""; y"."we;ird ""tbl"""', 'id; DROP TABLE canary; --',
                        'key ''quoted''');
SELECT zdm.abort('rename_we_ird_tbl_id_drop_table_canary_to_key_quoted');
\d "sch ""x""; y"."we;ird ""tbl"""
-- Both apps write during the window.
INSERT INTO "sch ""x""; y"."we;ird ""tbl""" ("id; DROP TABLE canary; --", "co;l""1", "prénom ☃")
VALUES (3, 'three (old app)', 'Åsa');
INSERT INTO "sch ""x""; y"."we;ird ""tbl"""
  ("id; DROP TABLE canary; --", "new""; DROP TABLE canary; --", "名前 ✓")
VALUES (4, 'four (new app)', 'Jürgen');
-- A value the CHECK forbids is refused from the new side too.
INSERT INTO "sch ""x""; y"."we;ird ""tbl"""
  ("id; DROP TABLE canary; --", "new""; DROP TABLE canary; --")
VALUES (5, 'x'';--');
CALL zdm.backfill('weird "mig"; --', 3);
SELECT * FROM "sch ""x""; y"."we;ird ""tbl""" ORDER BY 1;
SELECT zdm.finish('weird "mig"; --');
\d "sch ""x""; y"."we;ird ""tbl"""
SELECT * FROM "sch ""x""; y"."we;ird ""tbl""" ORDER BY 1;
SELECT to_regclass('canary') IS NOT NULL AS canary_alive;
SELECT phase, statement FROM zdm.ddl_log WHERE migration = 'weird "mig"; --' ORDER BY id;

-- The trigger function outside a zdm migration -----------------------------------
SELECT zdm.dual_write_trigger();
CREATE TABLE misuse (a integer, b integer);
CREATE TRIGGER misuse_after AFTER INSERT ON misuse
  FOR EACH ROW EXECUTE FUNCTION zdm.dual_write_trigger('rename', 'a', 'b');
INSERT INTO misuse VALUES (1, 1);
DROP TRIGGER misuse_after ON misuse;
CREATE TRIGGER misuse_statement BEFORE INSERT ON misuse
  FOR EACH STATEMENT EXECUTE FUNCTION zdm.dual_write_trigger('rename', 'a', 'b');
INSERT INTO misuse VALUES (1, 1);
DROP TRIGGER misuse_statement ON misuse;
CREATE TRIGGER misuse_args BEFORE INSERT ON misuse
  FOR EACH ROW EXECUTE FUNCTION zdm.dual_write_trigger('rename', 'a');
INSERT INTO misuse VALUES (1, 1);
DROP TRIGGER misuse_args ON misuse;
CREATE TRIGGER misuse_kind BEFORE INSERT ON misuse
  FOR EACH ROW EXECUTE FUNCTION zdm.dual_write_trigger('explode', 'm', 'a', 'b', '', '');
INSERT INTO misuse VALUES (1, 1);
DROP TRIGGER misuse_kind ON misuse;
CREATE TRIGGER misuse_column BEFORE INSERT ON misuse
  FOR EACH ROW EXECUTE FUNCTION zdm.dual_write_trigger('rename', 'm', 'a', 'nope', '', '');
INSERT INTO misuse VALUES (1, 1);
DROP TRIGGER misuse_column ON misuse;
SELECT count(*) AS misuse_rows FROM misuse;

-- Columns whose types no longer match (changed by hand during a migration) are
-- refused by the trigger instead of copying a datum of the wrong type.
CREATE TABLE mismatch (id int PRIMARY KEY, a int);
SELECT zdm.begin_rename('mismatch', 'a', 'b', 'mismatch');
ALTER TABLE mismatch ALTER COLUMN b TYPE text;
INSERT INTO mismatch (id, a) VALUES (5, 5);
SELECT zdm.abort('mismatch');
CREATE TABLE tt (a int, b text);
CREATE TRIGGER by_hand BEFORE INSERT ON tt FOR EACH ROW
EXECUTE FUNCTION zdm.dual_write_trigger('rename', 'm', 'a', 'b', '', '');
INSERT INTO tt VALUES (1, 'x');
INSERT INTO tt VALUES (1, NULL);
SELECT count(*) AS rows_written FROM tt;
DROP TABLE tt, mismatch;

-- Inheritance trees and zdm's own catalog are refused before anything changes.
SELECT regress_errors.save();
CREATE TABLE parent_t (id int PRIMARY KEY, a int);
CREATE TABLE child_t () INHERITS (parent_t);
SELECT zdm.begin_rename('parent_t', 'a', 'b');
SELECT zdm.begin_rename('child_t', 'a', 'b');
SELECT zdm.begin_rename('zdm.migrations', 'state', 'status');
SELECT count(*) AS migrations FROM zdm.migrations WHERE name LIKE '%parent%' OR name LIKE '%child%';
DROP TABLE child_t, parent_t;
SELECT regress_errors.unchanged();

-- copy_check_constraint, internal to begin plans, checks its input too ------------
SELECT zdm.copy_check_constraint('people', 'nope', 'surname', 'nick', 'c');
SELECT zdm.copy_check_constraint('people', 'people_pkey', 'id', 'nick', 'c');
SELECT zdm.copy_check_constraint('people', 'people_last_name_check', 'nope', 'nick', 'c');

-- Bad settings --------------------------------------------------------------------
SET zdm.writer = 'both';
SET zdm.writer = '';
SET zdm.lock_timeout = 0;
SET zdm.lock_timeout = '-5s';
SET zdm.lock_retries = -1;
SET zdm.no_such_setting = 1;
SHOW zdm.writer;
SHOW zdm.lock_timeout;

-- The backend is still alive.
SELECT 1 AS alive;

-- Leave nothing behind for the next file.
SET client_min_messages = warning;
DROP SCHEMA regress_errors, "sch ""x""; y" CASCADE;
DROP MATERIALIZED VIEW people_matview;
DROP TABLE people, measurements, canary, misuse CASCADE;
DROP SEQUENCE people_seq;
RESET client_min_messages;
