-- Privileges, seen from the owner: alice (not a superuser) runs whole
-- lifecycles on her own table, bob does it as a member of alice's role, carol
-- (a NOINHERIT member) is refused like PostgreSQL refuses her ALTER TABLE. The
-- DDL log records every statement zdm ran, who ran it and with how many
-- attempts.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(42);

CREATE ROLE alice;
CREATE ROLE bob IN ROLE alice;              -- inherits alice's privileges
CREATE ROLE carol NOINHERIT IN ROLE alice;  -- member, but must SET ROLE first
CREATE SCHEMA app AUTHORIZATION alice;
GRANT USAGE ON SCHEMA app TO carol;

SET ROLE alice;
CREATE TABLE app.people (
  id        integer PRIMARY KEY,
  last_name text NOT NULL CHECK (last_name <> ''),
  nick      text
);
INSERT INTO app.people VALUES (1, 'Lovelace', 'ada'), (2, 'Hopper', 'grace');
CREATE TABLE app.pets (id integer PRIMARY KEY, name text);
INSERT INTO app.pets VALUES (1, 'Rex'), (2, NULL);
RESET ROLE;

SELECT ok(NOT rolsuper, 'alice is not a superuser') FROM pg_roles WHERE rolname = 'alice';

-- alice: begin, both apps write, backfill, finish ------------------------------------
SET ROLE alice;
SELECT lives_ok($$SELECT zdm.begin_rename('app.people', 'last_name', 'surname', 'alice_rename')$$,
                'alice can begin a rename on her table');
SELECT is((SELECT state FROM zdm.migrations WHERE name = 'alice_rename'), 'active',
          'alice''s migration is open');
SELECT has_column('app', 'people', 'surname', 'the new column exists');
SELECT has_trigger('app', 'people', 'zzz_zdm_dual_write', 'the dual-write trigger exists');
SELECT lives_ok($$INSERT INTO app.people (id, last_name) VALUES (3, 'Liskov')$$,
                'the old app writes');
SELECT lives_ok($$INSERT INTO app.people (id, surname) VALUES (4, 'Hamilton')$$,
                'the new app writes');
SELECT lives_ok($$CALL zdm.backfill('alice_rename', 1)$$, 'alice can backfill');
SELECT is((SELECT backfill_state FROM zdm.operations WHERE migration = 'alice_rename'), 'done',
          'the backfill is done');
-- (Rows read through to_jsonb, so that a missing column fails a test, not the file.)
SELECT is_empty($$SELECT id FROM app.people p
                  WHERE to_jsonb(p)->'surname' IS DISTINCT FROM to_jsonb(p)->'last_name'$$,
                'both columns agree on every row');
SELECT lives_ok($$SELECT zdm.finish('alice_rename')$$, 'alice can finish');
SELECT hasnt_column('app', 'people', 'last_name', 'the old name is gone');
SELECT hasnt_trigger('app', 'people', 'zzz_zdm_dual_write', 'the trigger is gone');
SELECT results_eq($$SELECT id, to_jsonb(p)->>'surname' FROM app.people p ORDER BY id$$,
                  $$VALUES (1, 'Lovelace'), (2, 'Hopper'), (3, 'Liskov'), (4, 'Hamilton')$$,
                  'every row kept its value under the new name');
SELECT is((SELECT state FROM zdm.migrations WHERE name = 'alice_rename'), 'finished',
          'alice''s migration is finished');
SELECT is((SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'app.people'::regclass),
          'alice', 'the table still belongs to alice');

-- alice: begin and abort ---------------------------------------------------------------
SELECT lives_ok($$SELECT zdm.begin_rename('app.people', 'nick', 'handle', 'alice_abort')$$,
                'alice can begin a second rename');
SELECT lives_ok($$SELECT zdm.abort('alice_abort')$$, 'alice can abort it');
SELECT hasnt_column('app', 'people', 'handle', 'abort removed the new column');
SELECT is((SELECT state FROM zdm.migrations WHERE name = 'alice_abort'), 'aborted',
          'alice''s second migration is aborted');

-- The DDL log ------------------------------------------------------------------------------
SELECT bag_has(
  $$SELECT phase, statement FROM zdm.ddl_log WHERE migration = 'alice_rename'$$,
  $$VALUES ('begin', 'ALTER TABLE "app"."people" ADD COLUMN "surname" text'),
           ('begin', 'CREATE TRIGGER "zzz_zdm_dual_write" BEFORE INSERT OR UPDATE ON "app"."people" FOR EACH ROW EXECUTE FUNCTION "zdm"."dual_write_trigger"(''rename'', ''alice_rename'', ''last_name'', ''surname'', '''', '''')'),
           ('finish', 'DROP TRIGGER "zzz_zdm_dual_write" ON "app"."people"'),
           ('finish', 'ALTER TABLE "app"."people" DROP COLUMN "surname"'),
           ('finish', 'ALTER TABLE "app"."people" RENAME COLUMN "last_name" TO "surname"')$$,
  'the DDL log has the statements of alice''s begin and finish');
SELECT bag_has(
  $$SELECT phase, statement FROM zdm.ddl_log WHERE migration = 'alice_abort'$$,
  $$VALUES ('abort', 'ALTER TABLE "app"."people" DROP COLUMN "handle"')$$,
  'the DDL log has the statements of alice''s abort');
SELECT results_eq(
  $$SELECT DISTINCT phase FROM zdm.ddl_log WHERE migration LIKE 'alice%' ORDER BY phase$$,
  $$VALUES ('abort'), ('begin'), ('finish')$$, 'every phase is logged');
SELECT is_empty(
  $$SELECT id, statement FROM zdm.ddl_log WHERE attempts IS NULL OR attempts < 1$$,
  'every logged statement took at least one attempt');
SELECT is_empty(
  $$SELECT id, statement FROM zdm.ddl_log WHERE lock_wait IS NULL OR lock_wait < '0'$$,
  'every logged lock wait is a duration');
SELECT is_empty(
  $$SELECT id FROM zdm.ddl_log WHERE ran_at IS NULL OR ran_at > clock_timestamp()$$,
  'every logged statement has its time');
-- Who did it: the role that called zdm, not the extension's owner.
SELECT results_eq(
  $$SELECT DISTINCT ran_by::text COLLATE "default" FROM zdm.ddl_log WHERE migration LIKE 'alice%'$$,
  $$VALUES ('alice')$$, 'the DDL log names alice as the role that ran her statements');
SELECT results_eq(
  $$SELECT DISTINCT created_by::text COLLATE "default" FROM zdm.migrations WHERE name LIKE 'alice%'$$,
  $$VALUES ('alice')$$, 'zdm.migrations names alice as the creator of her migrations');
SELECT throws_ok('DELETE FROM zdm.ddl_log', '42501', NULL,
                 'alice cannot erase the DDL log either');

-- bob, a member of alice's role ---------------------------------------------------------
SET ROLE bob;
SELECT lives_ok($$SELECT zdm.begin_rename('app.pets', 'name', 'pet_name', 'bob_rename')$$,
                'bob can begin a rename on a table of a role he belongs to');
SELECT lives_ok($$CALL zdm.backfill('bob_rename')$$, 'bob can backfill');
SELECT lives_ok($$SELECT zdm.finish('bob_rename')$$, 'bob can finish');
SELECT results_eq($$SELECT id, to_jsonb(p)->>'pet_name' FROM app.pets p ORDER BY id$$,
                  $$VALUES (1, 'Rex'), (2, NULL)$$, 'bob''s rename kept every row');
SELECT lives_ok($$SELECT zdm.begin_rename('app.pets', 'pet_name', 'label', 'bob_abort')$$,
                'bob can begin another rename');
SELECT lives_ok($$SELECT zdm.abort('bob_abort')$$, 'bob can abort it');
SELECT hasnt_column('app', 'pets', 'label', 'bob''s abort removed the new column');

-- carol, a NOINHERIT member: refused until she takes alice's role -------------------------
SET ROLE carol;
SELECT throws_ok($$SELECT zdm.begin_rename('app.pets', 'pet_name', 'label')$$,
                 '42501', 'must be owner of table "app"."pets"',
                 'carol (NOINHERIT) cannot migrate alice''s table as herself');
SELECT hasnt_column('app', 'pets', 'label', 'carol''s refused begin added nothing');
SET ROLE alice;  -- what carol would do: SET ROLE to the owner
SELECT lives_ok($$SELECT zdm.begin_rename('app.pets', 'pet_name', 'label', 'carol_as_alice')$$,
                'carol can migrate after SET ROLE alice');
SET ROLE carol;
SELECT throws_ok($$SELECT zdm.abort('carol_as_alice')$$, '42501',
                 'must be owner of table "app"."pets"',
                 'carol (NOINHERIT) cannot abort it as herself');
SET ROLE alice;
SELECT lives_ok($$SELECT zdm.abort('carol_as_alice')$$, 'alice can abort it');
SELECT hasnt_column('app', 'pets', 'label', 'the table is back as it was');

RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
