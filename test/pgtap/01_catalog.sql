-- The shape of the extension: its schema, catalog tables, pinned SQL
-- interface (DESIGN.md), pg_dump registration, and the absence of SECURITY
-- DEFINER.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(101);

-- Extension and schema ------------------------------------------------------
SELECT has_extension('zdm');
SELECT has_schema('zdm');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'zdm'),
          'zdm', 'zdm is installed in schema zdm');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'zdm'),
          false, 'zdm is not relocatable');
SELECT is_empty(
  $$SELECT c.oid::regclass::text FROM pg_class c
    WHERE c.relnamespace = 'zdm'::regnamespace AND c.relkind IN ('r', 'S', 'v', 'm')
    AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')$$,
  'every table and sequence in schema zdm belongs to the extension');
SELECT is_empty(
  $$SELECT p.oid::regprocedure::text FROM pg_proc p
    WHERE p.pronamespace = 'zdm'::regnamespace
    AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                    AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')$$,
  'every routine in schema zdm belongs to the extension');

-- Catalog tables ------------------------------------------------------------
SELECT has_table('zdm', 'migrations', 'zdm.migrations exists');
SELECT has_table('zdm', 'operations', 'zdm.operations exists');
SELECT has_table('zdm', 'ddl_log', 'zdm.ddl_log exists');

SELECT has_column('zdm', 'migrations', 'name', 'migrations.name');
SELECT col_type_is('zdm', 'migrations', 'name', 'text', 'migrations.name is text');
SELECT col_is_pk('zdm', 'migrations', ARRAY['owner', 'name'],
                 'migrations is keyed on (owner, name): names are scoped per owner');
SELECT col_type_is('zdm', 'migrations', 'owner', 'regrole', 'migrations.owner is regrole');
SELECT has_column('zdm', 'migrations', 'state', 'migrations.state');
SELECT col_not_null('zdm', 'migrations', 'state', 'migrations.state is NOT NULL');
SELECT has_column('zdm', 'migrations', 'created_at', 'migrations.created_at');
SELECT has_column('zdm', 'migrations', 'ended_at', 'migrations.ended_at');

SELECT has_column('zdm', 'operations', 'id', 'operations.id');
SELECT col_is_pk('zdm', 'operations', 'id', 'operations is keyed on id');
SELECT has_column('zdm', 'operations', 'migration', 'operations.migration');
SELECT fk_ok('zdm', 'operations', ARRAY['migration_owner', 'migration'],
             'zdm', 'migrations', ARRAY['owner', 'name']);
SELECT has_column('zdm', 'operations', 'kind', 'operations.kind');
SELECT has_column('zdm', 'operations', 'tbl', 'operations.tbl');
SELECT col_type_is('zdm', 'operations', 'tbl', 'regclass', 'operations.tbl is regclass');
SELECT has_column('zdm', 'operations', 'column_name', 'operations.column_name');
SELECT has_column('zdm', 'operations', 'new_column', 'operations.new_column');
SELECT has_column('zdm', 'operations', 'backfill_state', 'operations.backfill_state');
SELECT has_column('zdm', 'operations', 'rows_done', 'operations.rows_done');

SELECT has_column('zdm', 'ddl_log', 'migration', 'ddl_log.migration');
SELECT has_column('zdm', 'ddl_log', 'phase', 'ddl_log.phase');
SELECT has_column('zdm', 'ddl_log', 'statement', 'ddl_log.statement');
SELECT has_column('zdm', 'ddl_log', 'attempts', 'ddl_log.attempts');
SELECT col_type_is('zdm', 'ddl_log', 'attempts', 'integer', 'ddl_log.attempts is integer');
SELECT has_column('zdm', 'ddl_log', 'lock_wait', 'ddl_log.lock_wait');
SELECT col_type_is('zdm', 'ddl_log', 'lock_wait', 'interval', 'ddl_log.lock_wait is interval');
SELECT has_column('zdm', 'ddl_log', 'migration_owner', 'ddl_log.migration_owner');
SELECT col_type_is('zdm', 'ddl_log', 'migration_owner', 'regrole',
                   'ddl_log.migration_owner is regrole, as migrations.owner');

-- The catalog state check only lets through the three states.
SELECT throws_ok($$INSERT INTO zdm.migrations (name, state, owner)
                   VALUES ('x', 'paused', CURRENT_USER::regrole)$$,
                 '23514', NULL, 'migrations.state accepts only active, finished, aborted');

-- pg_dump keeps the state: every catalog table (and its sequence) is an
-- extension config table.
SELECT set_eq(
  $$SELECT c::regclass::text FROM pg_extension e, unnest(e.extconfig) c
    WHERE e.extname = 'zdm'$$,
  $$SELECT c.oid::regclass::text FROM pg_class c
    WHERE c.relnamespace = 'zdm'::regnamespace AND c.relkind IN ('r', 'S')$$,
  'every table and sequence of schema zdm is in pg_extension.extconfig');
SELECT ok('zdm.migrations'::regclass = ANY (extconfig), 'zdm.migrations is dumped')
FROM pg_extension WHERE extname = 'zdm';
SELECT ok('zdm.operations'::regclass = ANY (extconfig), 'zdm.operations is dumped')
FROM pg_extension WHERE extname = 'zdm';
SELECT ok('zdm.ddl_log'::regclass = ANY (extconfig), 'zdm.ddl_log is dumped')
FROM pg_extension WHERE extname = 'zdm';

-- The pinned interface --------------------------------------------------------
SELECT has_function('zdm', 'begin_rename', ARRAY['regclass', 'name', 'name', 'text'],
                    'zdm.begin_rename(regclass, name, name, text)');
SELECT function_returns('zdm', 'begin_rename', ARRAY['regclass', 'name', 'name', 'text'],
                        'text', 'begin_rename returns text');
SELECT is(pg_get_function_arguments('zdm.begin_rename(regclass, name, name, text)'::regprocedure),
          'tbl regclass, old_name name, new_name name, migration text DEFAULT NULL::text',
          'begin_rename argument names and defaults');

SELECT has_function('zdm', 'backfill', ARRAY['text', 'integer', 'interval', 'interval', 'integer'],
                    'zdm.backfill(text, integer, interval, interval, integer)');
SELECT hasnt_function('zdm', 'backfill', ARRAY['text', 'integer', 'interval'],
                      'the 3-argument zdm.backfill is gone (calls with 1-3 arguments take the defaults)');
SELECT is_procedure('zdm', 'backfill', ARRAY['text', 'integer', 'interval', 'interval', 'integer'],
                    'zdm.backfill is a procedure');
SELECT is(pg_get_function_arguments('zdm.backfill(text, integer, interval, interval, integer)'::regprocedure),
          $$IN migration text DEFAULT NULL::text, IN batch_size integer DEFAULT 5000, $$ ||
          $$IN pause interval DEFAULT '00:00:00'::interval, $$ ||
          $$IN max_lag interval DEFAULT NULL::interval, IN max_rate integer DEFAULT NULL::integer$$,
          'backfill argument names and defaults');

SELECT has_function('zdm', 'finish', ARRAY['text'], 'zdm.finish(text)');
SELECT function_returns('zdm', 'finish', ARRAY['text'], 'void', 'finish returns void');
SELECT isnt_procedure('zdm', 'finish', ARRAY['text'], 'finish is a function');
SELECT is(pg_get_function_arguments('zdm.finish(text)'::regprocedure),
          'migration text DEFAULT NULL::text', 'finish argument name and default');

SELECT has_function('zdm', 'abort', ARRAY['text'], 'zdm.abort(text)');
SELECT function_returns('zdm', 'abort', ARRAY['text'], 'void', 'abort returns void');
SELECT is(pg_get_function_arguments('zdm.abort(text)'::regprocedure),
          'migration text DEFAULT NULL::text', 'abort argument name and default');

SELECT has_function('zdm', 'status', ARRAY[]::text[], 'zdm.status()');
SELECT function_returns('zdm', 'status', ARRAY[]::text[], 'setof record',
                        'status returns a set of rows');
SELECT ok(proretset, 'status returns a table') FROM pg_proc
WHERE oid = 'zdm.status()'::regprocedure;
SELECT results_eq(
  $$SELECT n COLLATE "default", t FROM pg_proc p,
      unnest(p.proargnames, p.proallargtypes::regtype[]::text[], p.proargmodes)
        WITH ORDINALITY AS a(n, t, m, i)
    WHERE p.oid = 'zdm.status()'::regprocedure AND m = 't' AND i <= 2 ORDER BY i$$,
  $$VALUES ('migration', 'text'), ('state', 'text')$$,
  'status() starts with (migration text, state text)');
SELECT bag_has(
  $$SELECT n COLLATE "default" FROM pg_proc p, unnest(p.proargnames, p.proargmodes) AS a(n, m)
    WHERE p.oid = 'zdm.status()'::regprocedure AND m = 't'$$,
  $$VALUES ('operation'), ('table_name'), ('backfill'), ('rows_done'), ('progress')$$,
  'status() reports the operation, its table and backfill progress');
SELECT lives_ok('SELECT * FROM zdm.status()', 'status() runs with no migration');

SELECT has_function('zdm', 'begin_join_to_column',
                    ARRAY['regclass', 'name', 'regclass', 'name', 'name', 'name', 'text'],
                    'zdm.begin_join_to_column(regclass, name, regclass, name, name, name, text)');
SELECT function_returns('zdm', 'begin_join_to_column',
                        ARRAY['regclass', 'name', 'regclass', 'name', 'name', 'name', 'text'],
                        'text', 'begin_join_to_column returns text');
SELECT is(pg_get_function_arguments(
            'zdm.begin_join_to_column(regclass, name, regclass, name, name, name, text)'::regprocedure),
          'join_table regclass, join_key name, target regclass, target_key name, '
          'value_column name, new_column name DEFAULT NULL::name, migration text DEFAULT NULL::text',
          'begin_join_to_column argument names and defaults (pinned)');
SELECT has_function('zdm', 'begin_column_to_join',
                    ARRAY['regclass', 'name', 'name', 'name', 'name', 'name', 'text'],
                    'zdm.begin_column_to_join(regclass, name, name, name, name, name, text)');
SELECT function_returns('zdm', 'begin_column_to_join',
                        ARRAY['regclass', 'name', 'name', 'name', 'name', 'name', 'text'],
                        'text', 'begin_column_to_join returns text');
SELECT is(pg_get_function_arguments(
            'zdm.begin_column_to_join(regclass, name, name, name, name, name, text)'::regprocedure),
          'target regclass, target_key name, value_column name, join_table name, '
          'join_key name DEFAULT NULL::name, new_column name DEFAULT NULL::name, '
          'migration text DEFAULT NULL::text',
          'begin_column_to_join argument names and defaults');
SELECT has_function('zdm', 'begin_create_index',
                    ARRAY['regclass', 'text[]', 'name', 'boolean', 'text', 'text', 'text'],
                    'zdm.begin_create_index(regclass, text[], name, boolean, text, text, text)');
SELECT function_returns('zdm', 'begin_create_index',
                        ARRAY['regclass', 'text[]', 'name', 'boolean', 'text', 'text', 'text'],
                        'text', 'begin_create_index returns text');
SELECT is(pg_get_function_arguments(
            'zdm.begin_create_index(regclass, text[], name, boolean, text, text, text)'::regprocedure),
          'tbl regclass, columns text[], name name DEFAULT NULL::name, '
          'is_unique boolean DEFAULT false, method text DEFAULT ''btree''::text, '
          'where_clause text DEFAULT NULL::text, migration text DEFAULT NULL::text',
          'begin_create_index argument names and defaults');
SELECT has_function('zdm', 'join_sync_trigger', ARRAY[]::text[], 'zdm.join_sync_trigger()');
SELECT function_returns('zdm', 'join_sync_trigger', ARRAY[]::text[], 'trigger',
                        'join_sync_trigger is a trigger function');
SELECT function_lang_is('zdm', 'join_sync_trigger', ARRAY[]::text[], 'c',
                        'the join-sync trigger is compiled, not PL/pgSQL');
SELECT isnt_strict('zdm', 'begin_join_to_column',
                   ARRAY['regclass', 'name', 'regclass', 'name', 'name', 'name', 'text'],
                   'begin_join_to_column is not STRICT');
SELECT throws_ok('SELECT zdm.begin_join_to_column(''pg_class'', ''oid'', NULL, ''oid'', ''relname'')',
                 '22004', 'target must not be NULL', 'begin_join_to_column(target => NULL) names it');
SELECT throws_ok('SELECT zdm.begin_column_to_join(''pg_class'', ''oid'', ''relname'', NULL)',
                 '22004', 'join_table must not be NULL',
                 'begin_column_to_join(join_table => NULL) names it');
SELECT throws_ok('SELECT zdm.join_sync_trigger()', '39P01', NULL,
                 'join_sync_trigger cannot be called directly');
SELECT isnt_definer('zdm', 'begin_join_to_column',
                    ARRAY['regclass', 'name', 'regclass', 'name', 'name', 'name', 'text'],
                    'begin_join_to_column is SECURITY INVOKER');

SELECT has_function('zdm', 'dual_write_trigger', ARRAY[]::text[], 'zdm.dual_write_trigger()');
SELECT function_returns('zdm', 'dual_write_trigger', ARRAY[]::text[], 'trigger',
                        'dual_write_trigger is a trigger function');
SELECT function_lang_is('zdm', 'dual_write_trigger', ARRAY[]::text[], 'c',
                        'the trigger is compiled, not PL/pgSQL');

-- Not STRICT: a NULL argument gets an error that names it, never a silent NULL.
SELECT isnt_strict('zdm', 'begin_rename', ARRAY['regclass', 'name', 'name', 'text'],
                   'begin_rename is not STRICT');
SELECT isnt_strict('zdm', 'finish', ARRAY['text'], 'finish is not STRICT');
SELECT isnt_strict('zdm', 'abort', ARRAY['text'], 'abort is not STRICT');
SELECT throws_ok('SELECT zdm.begin_rename(NULL, ''a'', ''b'')', '22004',
                 'tbl must not be NULL', 'begin_rename(NULL, ...) names the argument');
SELECT throws_ok('CALL zdm.backfill(NULL, NULL)', '22004',
                 'batch_size must not be NULL', 'backfill(batch_size => NULL) names it');

-- No SECURITY DEFINER, and nothing that trusts the caller's search_path ----------
SELECT is_empty(
  $$SELECT oid::regprocedure::text FROM pg_proc
    WHERE pronamespace = 'zdm'::regnamespace AND prosecdef$$,
  'no routine in schema zdm is SECURITY DEFINER');
SELECT isnt_definer('zdm', 'begin_rename', ARRAY['regclass', 'name', 'name', 'text'],
                    'begin_rename is SECURITY INVOKER');
SELECT isnt_definer('zdm', 'backfill', ARRAY['text', 'integer', 'interval', 'interval', 'integer'],
                    'backfill is SECURITY INVOKER');
SELECT isnt_definer('zdm', 'finish', ARRAY['text'], 'finish is SECURITY INVOKER');
SELECT isnt_definer('zdm', 'abort', ARRAY['text'], 'abort is SECURITY INVOKER');
SELECT is_empty(
  $$SELECT oid::regprocedure::text FROM pg_proc
    WHERE pronamespace = 'zdm'::regnamespace
    AND prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
    AND NOT EXISTS (SELECT 1 FROM unnest(proconfig) c WHERE c LIKE 'search\_path=%')$$,
  'every SQL or PL/pgSQL routine of zdm pins its search_path');

-- Catalog privileges: everyone reads, nobody but the owner writes.
SELECT ok(has_table_privilege('public', 'zdm.migrations', 'SELECT'),
          'PUBLIC can read zdm.migrations');
SELECT ok(NOT has_table_privilege('public', 'zdm.migrations', 'INSERT, UPDATE, DELETE, TRUNCATE'),
          'PUBLIC cannot write zdm.migrations');
SELECT ok(NOT has_table_privilege('public', 'zdm.operations', 'INSERT, UPDATE, DELETE, TRUNCATE'),
          'PUBLIC cannot write zdm.operations');
SELECT ok(NOT has_table_privilege('public', 'zdm.ddl_log', 'INSERT, UPDATE, DELETE, TRUNCATE'),
          'PUBLIC cannot write zdm.ddl_log');

-- Settings (the library is loaded by the calls above) ---------------------------
SELECT is(current_setting('zdm.writer'), 'auto', 'zdm.writer defaults to auto');
SELECT is(current_setting('zdm.lock_timeout'), '100ms', 'zdm.lock_timeout defaults to 100 ms');
SELECT ok(current_setting('zdm.lock_retries')::int > 0, 'zdm.lock_retries is positive');
SELECT throws_ok($$SET LOCAL zdm.writer = 'both'$$, '22023', NULL,
                 'zdm.writer refuses values other than auto, old, new');

SELECT * FROM finish();
ROLLBACK;
