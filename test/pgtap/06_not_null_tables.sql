-- set_not_null, rename_table, drop_table (#11 items 3 and 4): their pinned
-- signatures (names, order, defaults), return type, never SECURITY DEFINER.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(4);

SELECT function_returns('zdm', 'begin_set_not_null', ARRAY['regclass', 'name', 'text', 'text'],
                        'text', 'begin_set_not_null returns the migration''s name');
SELECT isnt_definer('zdm', 'begin_set_not_null', ARRAY['regclass', 'name', 'text', 'text'],
                    'begin_set_not_null is SECURITY INVOKER');
SELECT is(pg_get_function_arguments('zdm.begin_set_not_null(regclass, name, text, text)'::regprocedure),
          'tbl regclass, column_name name, up text DEFAULT NULL::text, migration text DEFAULT NULL::text',
          'begin_set_not_null: argument names, order and defaults as DESIGN.md pins them');
SELECT throws_ok($$SELECT zdm.begin_set_not_null(NULL, 'c')$$, '22004',
                 'tbl must not be NULL', 'begin_set_not_null(NULL) names the argument');

SELECT * FROM finish();
ROLLBACK;
