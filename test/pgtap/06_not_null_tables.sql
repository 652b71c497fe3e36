-- set_not_null, rename_table, drop_table (#11 items 3 and 4): their pinned
-- signatures (names, order, defaults), return type, never SECURITY DEFINER.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(10);

SELECT function_returns('zdm', 'begin_set_not_null', ARRAY['regclass', 'name', 'text', 'text'],
                        'text', 'begin_set_not_null returns the migration''s name');
SELECT isnt_definer('zdm', 'begin_set_not_null', ARRAY['regclass', 'name', 'text', 'text'],
                    'begin_set_not_null is SECURITY INVOKER');
SELECT is(pg_get_function_arguments('zdm.begin_set_not_null(regclass, name, text, text)'::regprocedure),
          'tbl regclass, column_name name, up text DEFAULT NULL::text, migration text DEFAULT NULL::text',
          'begin_set_not_null: argument names, order and defaults as DESIGN.md pins them');
SELECT throws_ok($$SELECT zdm.begin_set_not_null(NULL, 'c')$$, '22004',
                 'tbl must not be NULL', 'begin_set_not_null(NULL) names the argument');

SELECT is(pg_get_function_arguments('zdm.begin_rename_table(regclass, name, text)'::regprocedure),
          'tbl regclass, new_name name, migration text DEFAULT NULL::text',
          'begin_rename_table: argument names, order and defaults as DESIGN.md pins them');
SELECT function_returns('zdm', 'begin_rename_table', ARRAY['regclass', 'name', 'text'], 'text',
                        'begin_rename_table returns the migration''s name');
SELECT isnt_definer('zdm', 'begin_rename_table', ARRAY['regclass', 'name', 'text'],
                    'begin_rename_table is SECURITY INVOKER');
SELECT is(pg_get_function_arguments('zdm.begin_drop_table(regclass, text)'::regprocedure),
          'tbl regclass, migration text DEFAULT NULL::text',
          'begin_drop_table: argument names, order and defaults as DESIGN.md pins them');
SELECT function_returns('zdm', 'begin_drop_table', ARRAY['regclass', 'text'], 'text',
                        'begin_drop_table returns the migration''s name');
SELECT isnt_definer('zdm', 'begin_drop_table', ARRAY['regclass', 'text'],
                    'begin_drop_table is SECURITY INVOKER');

SELECT * FROM finish();
ROLLBACK;
