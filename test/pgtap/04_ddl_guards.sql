-- The event triggers that guard an open migration against DDL around it
-- (src/pg/event_trigger.cpp), and the repair function zdm.forget: installed with the extension,
-- compiled, owned by it, never SECURITY DEFINER.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(16);

SELECT has_function('zdm', 'guard_ddl_start', ARRAY[]::text[], 'zdm.guard_ddl_start()');
SELECT function_returns('zdm', 'guard_ddl_start', ARRAY[]::text[], 'event_trigger',
                        'guard_ddl_start is an event-trigger function');
SELECT function_lang_is('zdm', 'guard_ddl_start', ARRAY[]::text[], 'c',
                        'guard_ddl_start is compiled (it reads the parse tree)');
SELECT isnt_definer('zdm', 'guard_ddl_start', ARRAY[]::text[],
                    'guard_ddl_start is SECURITY INVOKER');
SELECT has_function('zdm', 'guard_ddl_end', ARRAY[]::text[], 'zdm.guard_ddl_end()');
SELECT function_returns('zdm', 'guard_ddl_end', ARRAY[]::text[], 'event_trigger',
                        'guard_ddl_end is an event-trigger function');
SELECT isnt_definer('zdm', 'guard_ddl_end', ARRAY[]::text[], 'guard_ddl_end is SECURITY INVOKER');

SELECT is(
  (SELECT string_agg(format('%s %s %s %s %s', evtname, evtevent, evtfoid::regproc, evtenabled,
                            evttags), '; ' ORDER BY evtname)
   FROM pg_event_trigger WHERE evtname LIKE 'zdm\_%'),
  'zdm_guard_ddl ddl_command_end zdm.guard_ddl_end O {"CREATE TRIGGER","ALTER TRIGGER",'
  '"CREATE TABLE","CREATE FOREIGN TABLE","ALTER TABLE","ALTER FOREIGN TABLE"}; zdm_guard_drop ddl_command_start '
  'zdm.guard_ddl_start O {"DROP EXTENSION","DROP SCHEMA","DROP OWNED"}',
  'two event triggers, filtered by command tag');
SELECT is_empty(
  $$SELECT e.evtname::text FROM pg_event_trigger e WHERE e.evtname LIKE 'zdm\_%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_event_trigger'::regclass
                    AND d.objid = e.oid AND d.refclassid = 'pg_extension'::regclass
                    AND d.deptype = 'e')$$,
  'the event triggers belong to the extension (pg_dump recreates them with it)');
SELECT throws_ok('SELECT zdm.guard_ddl_start()', '55000', NULL,
                 'guard_ddl_start cannot be called directly');

SELECT has_function('zdm', 'forget', ARRAY['regclass'], 'zdm.forget(regclass)');
SELECT function_returns('zdm', 'forget', ARRAY['regclass'], 'void', 'forget returns void');
SELECT isnt_definer('zdm', 'forget', ARRAY['regclass'], 'forget is SECURITY INVOKER');
SELECT throws_ok('SELECT zdm.forget(NULL)', '22004', 'tbl must not be NULL',
                 'forget(NULL) names the argument');

-- The guard is live: an open migration keeps the extension.
CREATE TABLE pgtap_guarded (id int PRIMARY KEY, a int);
SELECT zdm.begin_rename('pgtap_guarded', 'a', 'b', migration => 'pgtap_guarded');
SELECT throws_ok('DROP EXTENSION zdm CASCADE', '55006',
                 'cannot run DROP EXTENSION zdm while migrations are open: "pgtap_guarded"',
                 'DROP EXTENSION is refused while a migration is open');
SELECT lives_ok($$SELECT zdm.abort('pgtap_guarded')$$, 'abort');

SELECT * FROM finish();
ROLLBACK;
