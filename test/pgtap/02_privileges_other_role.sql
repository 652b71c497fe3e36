-- Privileges, seen from a role that does not own the table: mallory can read
-- zdm's catalog, but can neither migrate alice's table (begin, backfill,
-- finish, abort: SQLSTATE 42501) nor write zdm's catalog by hand, nor join
-- alice's migration from a table of her own. Every refusal changes nothing.
--
-- The open migration on alice's table is begun by the superuser, so that these
-- tests do not depend on the owner's own path (03_privileges_owner.sql).
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(47);

CREATE ROLE alice;
CREATE ROLE mallory;
CREATE SCHEMA app AUTHORIZATION alice;
GRANT USAGE ON SCHEMA app TO mallory;
CREATE SCHEMA mal AUTHORIZATION mallory;

SET ROLE alice;
CREATE TABLE app.people (
  id        integer PRIMARY KEY,
  last_name text NOT NULL CHECK (last_name <> ''),
  nick      text
);
INSERT INTO app.people VALUES (1, 'Lovelace', 'ada'), (2, 'Hopper', 'grace');
GRANT SELECT ON app.people TO mallory;
RESET ROLE;

-- What must not change: alice's table (columns, constraints, triggers) and
-- zdm's catalog.
CREATE TEMP VIEW shape AS
  SELECT 'column' AS what, attname::text AS name, format_type(atttypid, atttypmod) AS detail
  FROM pg_attribute WHERE attrelid = 'app.people'::regclass AND attnum > 0 AND NOT attisdropped
  UNION ALL
  SELECT 'constraint', conname::text, pg_get_constraintdef(oid)
  FROM pg_constraint WHERE conrelid = 'app.people'::regclass
  UNION ALL
  SELECT 'trigger', tgname::text, pg_get_triggerdef(oid)
  FROM pg_trigger WHERE tgrelid = 'app.people'::regclass
  UNION ALL
  SELECT 'migration', name, state FROM zdm.migrations
  UNION ALL
  SELECT 'operation', migration || ' ' || column_name || ' -> ' || new_column,
         backfill_state || ' ' || rows_done FROM zdm.operations
  UNION ALL
  SELECT 'ddl_log', 'statements', count(*)::text FROM zdm.ddl_log;
CREATE TEMP TABLE before AS SELECT * FROM shape;

-- No migration yet --------------------------------------------------------------
SET ROLE mallory;
SELECT throws_ok($$SELECT zdm.begin_rename('app.people', 'last_name', 'surname')$$,
                 '42501', 'must be owner of table "app"."people"',
                 'mallory cannot begin a rename on alice''s table');
SELECT throws_ok($$SELECT zdm.begin_rename('app.people', 'nick', 'handle', 'mallorys')$$,
                 '42501', 'must be owner of table "app"."people"',
                 'mallory cannot begin a named migration on alice''s table');
SELECT throws_ok(
  $$SELECT zdm.copy_check_constraint('app.people', 'people_last_name_check', 'last_name',
                                     'nick', 'sneaky')$$,
  '42501', NULL, 'mallory cannot add constraints to alice''s table through zdm');
-- The cross-table operations: mallory owns a join table of her own, which
-- must not let her add a column to (or hang triggers on) alice's table.
CREATE TABLE mal.picks (person_id integer NOT NULL UNIQUE, pick integer NOT NULL);
SELECT throws_ok(
  $$SELECT zdm.begin_join_to_column('mal.picks', 'person_id', 'app.people', 'id', 'pick')$$,
  '42501', 'must be owner of table "app"."people"',
  'mallory cannot join her table into alice''s');
SELECT throws_ok($$SELECT zdm.begin_column_to_join('app.people', 'id', 'nick', 'nicks')$$,
                 '42501', 'must be owner of table "app"."people"',
                 'mallory cannot move alice''s column into a join table');
SELECT is(to_regclass('app.nicks'), NULL, 'no join table was created');
DROP TABLE mal.picks;
SELECT hasnt_column('app', 'people', 'surname', 'no column was added');
RESET ROLE;
SELECT set_eq('SELECT * FROM shape', 'SELECT * FROM before',
              'mallory''s refused begin changed nothing');

-- An open migration on alice's table ---------------------------------------------
SELECT is(zdm.begin_rename('app.people', 'last_name', 'surname', 'people_surname'),
          'people_surname', 'a superuser may migrate alice''s table');
DROP TABLE before;
CREATE TEMP TABLE before AS SELECT * FROM shape;

SET ROLE mallory;
SELECT lives_ok('SELECT * FROM zdm.status()', 'mallory may read zdm.status()');
SELECT is((SELECT count(*) FROM zdm.status() WHERE migration = 'people_surname'), 1::bigint,
          'mallory sees the open migration');
SELECT throws_ok($$CALL zdm.backfill('people_surname')$$, '42501',
                 'must be owner of table "app"."people"',
                 'mallory cannot backfill alice''s migration by name');
SELECT throws_ok('CALL zdm.backfill()', '42704', 'there is no active migration you can act on',
                 'mallory''s backfill() without a name does not consider alice''s migration');
SELECT throws_ok($$SELECT zdm.abort('people_surname')$$, '42501',
                 'must be owner of table "app"."people"',
                 'mallory cannot abort alice''s migration by name');
SELECT throws_ok('SELECT zdm.abort()', '42704', 'there is no active migration you can act on',
                 'mallory''s abort() without a name does not consider alice''s migration');
-- The privilege is checked before the state: mallory learns nothing about the
-- backfill of a table she cannot migrate.
SELECT throws_ok($$SELECT zdm.finish('people_surname')$$, '42501', NULL,
                 'mallory cannot finish alice''s migration (before its backfill)');
SELECT throws_ok($$SELECT zdm.begin_rename('app.people', 'nick', 'handle', 'people_surname')$$,
                 '42501', 'must be owner of table "app"."people"',
                 'mallory cannot add an operation on alice''s table to the migration');
RESET ROLE;
SELECT set_eq('SELECT * FROM shape', 'SELECT * FROM before',
              'mallory''s refused backfill, abort and finish changed nothing');
SELECT is((SELECT state FROM zdm.migrations WHERE name = 'people_surname'), 'active',
          'the migration is still active');

CALL zdm.backfill('people_surname');
DROP TABLE before;
CREATE TEMP TABLE before AS SELECT * FROM shape;
SET ROLE mallory;
SELECT throws_ok($$SELECT zdm.finish('people_surname')$$, '42501',
                 'must be owner of table "app"."people"',
                 'mallory cannot finish alice''s migration (after its backfill)');
SELECT throws_ok('SELECT zdm.finish()', '42704', 'there is no active migration you can act on',
                 'mallory''s finish() without a name does not consider alice''s migration');
SELECT throws_ok($$CALL zdm.backfill('people_surname')$$, '42501', NULL,
                 'mallory cannot call backfill on alice''s migration, even with nothing left to do');
RESET ROLE;
SELECT set_eq('SELECT * FROM shape', 'SELECT * FROM before',
              'mallory''s refused finish changed nothing');
SELECT has_column('app', 'people', 'last_name', 'alice''s old column is still there');
SELECT has_trigger('app', 'people', 'zzz_zdm_dual_write', 'the dual-write trigger is still there');

-- zdm's catalog cannot be written by hand ----------------------------------------
SET ROLE mallory;
SELECT throws_ok($$INSERT INTO zdm.migrations (name) VALUES ('forged')$$, '42501', NULL,
                 'mallory cannot INSERT into zdm.migrations');
SELECT throws_ok($$UPDATE zdm.migrations SET state = 'aborted'$$, '42501', NULL,
                 'mallory cannot UPDATE zdm.migrations');
SELECT throws_ok('DELETE FROM zdm.migrations', '42501', NULL,
                 'mallory cannot DELETE from zdm.migrations');
SELECT throws_ok('TRUNCATE zdm.migrations CASCADE', '42501', NULL,
                 'mallory cannot TRUNCATE zdm.migrations');
SELECT throws_ok($$UPDATE zdm.operations SET backfill_state = 'done'$$, '42501', NULL,
                 'mallory cannot UPDATE zdm.operations');
SELECT throws_ok(
  $$INSERT INTO zdm.operations (migration, kind, tbl, column_name, new_column)
    VALUES ('people_surname', 'rename', 'app.people', 'nick', 'handle')$$,
  '42501', NULL, 'mallory cannot INSERT into zdm.operations');
SELECT throws_ok('DELETE FROM zdm.operations', '42501', NULL,
                 'mallory cannot DELETE from zdm.operations');
SELECT throws_ok($$INSERT INTO zdm.ddl_log (migration, phase, statement, attempts, lock_wait)
                   VALUES ('x', 'begin', 'forged', 1, '0')$$, '42501', NULL,
                 'mallory cannot INSERT into zdm.ddl_log');
SELECT throws_ok('DELETE FROM zdm.ddl_log', '42501', NULL,
                 'mallory cannot DELETE from zdm.ddl_log (to hide a statement)');
SELECT throws_ok('UPDATE zdm.ddl_log SET attempts = 0', '42501', NULL,
                 'mallory cannot UPDATE zdm.ddl_log');

-- Nor go around zdm ----------------------------------------------------------------
SELECT throws_ok('DROP TRIGGER zzz_zdm_dual_write ON app.people', '42501', NULL,
                 'mallory cannot drop the dual-write trigger');
SELECT throws_ok('ALTER TABLE app.people DROP COLUMN surname', '42501', NULL,
                 'mallory cannot drop the new column');
SELECT throws_ok('ALTER TABLE app.people DISABLE TRIGGER zzz_zdm_dual_write', '42501', NULL,
                 'mallory cannot disable the dual-write trigger');
RESET ROLE;
SELECT set_eq('SELECT * FROM shape', 'SELECT * FROM before',
              'mallory''s catalog writes and DDL changed nothing');

-- mallory's own table: she may migrate it, but not inside alice's migration ---------
SET ROLE mallory;
CREATE TABLE mal.notes (id integer PRIMARY KEY, body text);
INSERT INTO mal.notes VALUES (1, 'hello');
SELECT lives_ok($$SELECT zdm.begin_rename('mal.notes', 'body', 'text_body', 'mallory_own')$$,
                'mallory can migrate her own table');
SELECT lives_ok($$SELECT zdm.abort('mallory_own')$$, 'mallory can abort her own migration');
-- Migration names are scoped per owner (#12 item 7): the same name opens
-- mallory's own migration, never attaches to alice's.
SELECT lives_ok(
  $$SELECT zdm.begin_rename('mal.notes', 'body', 'content', 'people_surname')$$,
  'the name of alice''s migration opens one of mallory''s own, on her table');
RESET ROLE;
SELECT is((SELECT count(*) FROM zdm.operations WHERE migration = 'people_surname'
           AND migration_owner = 'alice'::regrole), 1::bigint,
          'alice''s migration still has only her operation');
SELECT has_column('mal', 'notes', 'content', 'mallory''s table has the column of her own migration');
-- A superuser acts for both owners: told, not guessing.
SELECT throws_ok($$SELECT zdm.finish('people_surname')$$, '22023',
                 'migration name "people_surname" is ambiguous: 2 roles you act for have a migration of that name',
                 'a superuser is told the name is ambiguous');

-- The owner path still works after all that.
SET ROLE alice;
SELECT lives_ok($$SELECT zdm.finish('people_surname')$$,
                'the migration can still be finished by a role allowed to');
RESET ROLE;
SELECT hasnt_column('app', 'people', 'last_name', 'finish renamed the old column');

SELECT * FROM finish();
ROLLBACK;
