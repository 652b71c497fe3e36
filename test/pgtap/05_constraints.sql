-- The constraint operations on existing columns (#11 item 3): their pinned
-- signatures (names, order, defaults), return type, never SECURITY DEFINER.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(30);

SELECT has_function('zdm', 'begin_add_check', ARRAY['regclass', 'name', 'text', 'text'],
                    'zdm.begin_add_check(regclass, name, text, text)');
SELECT function_returns('zdm', 'begin_add_check', ARRAY['regclass', 'name', 'text', 'text'],
                        'text', 'begin_add_check returns the migration''s name');
SELECT isnt_definer('zdm', 'begin_add_check', ARRAY['regclass', 'name', 'text', 'text'],
                    'begin_add_check is SECURITY INVOKER');
SELECT is(pg_get_function_arguments('zdm.begin_add_check(regclass, name, text, text)'::regprocedure),
          'tbl regclass, name name, expression text, migration text DEFAULT NULL::text',
          'begin_add_check: argument names, order and defaults as DESIGN.md pins them');
SELECT throws_ok($$SELECT zdm.begin_add_check(NULL, 'c', 'true')$$, '22004',
                 'tbl must not be NULL', 'begin_add_check(NULL) names the argument');

SELECT has_function('zdm', 'begin_drop_index', ARRAY['regclass', 'text'],
                    'zdm.begin_drop_index(regclass, text)');
SELECT function_returns('zdm', 'begin_drop_index', ARRAY['regclass', 'text'],
                        'text', 'begin_drop_index returns text');
SELECT isnt_definer('zdm', 'begin_drop_index', ARRAY['regclass', 'text'],
                    'begin_drop_index is SECURITY INVOKER');
SELECT is(pg_get_function_arguments('zdm.begin_drop_index(regclass, text)'::regprocedure),
          $$index regclass, migration text DEFAULT NULL::text$$,
          'begin_drop_index: argument names, order and defaults as DESIGN.md pins them');
SELECT throws_ok($$SELECT zdm.begin_drop_index(NULL)$$, '22004',
                 'index must not be NULL', 'begin_drop_index(NULL) names the argument');

SELECT has_function('zdm', 'begin_add_foreign_key', ARRAY['regclass', 'name[]', 'regclass', 'name[]', 'text', 'name', 'text'],
                    'zdm.begin_add_foreign_key(regclass, name[], regclass, name[], text, name, text)');
SELECT function_returns('zdm', 'begin_add_foreign_key', ARRAY['regclass', 'name[]', 'regclass', 'name[]', 'text', 'name', 'text'],
                        'text', 'begin_add_foreign_key returns text');
SELECT isnt_definer('zdm', 'begin_add_foreign_key', ARRAY['regclass', 'name[]', 'regclass', 'name[]', 'text', 'name', 'text'],
                    'begin_add_foreign_key is SECURITY INVOKER');
SELECT is(pg_get_function_arguments('zdm.begin_add_foreign_key(regclass, name[], regclass, name[], text, name, text)'::regprocedure),
          $$tbl regclass, columns name[], ref_table regclass, ref_columns name[], on_delete text DEFAULT 'NO ACTION'::text, name name DEFAULT NULL::name, migration text DEFAULT NULL::text$$,
          'begin_add_foreign_key: argument names, order and defaults as DESIGN.md pins them');
SELECT throws_ok($$SELECT zdm.begin_add_foreign_key(NULL, ARRAY['a'], 'pg_class', ARRAY['b'])$$, '22004',
                 'tbl must not be NULL', 'begin_add_foreign_key(NULL) names the argument');

SELECT has_function('zdm', 'begin_add_unique', ARRAY['regclass', 'name[]', 'name', 'text'],
                    'zdm.begin_add_unique(regclass, name[], name, text)');
SELECT function_returns('zdm', 'begin_add_unique', ARRAY['regclass', 'name[]', 'name', 'text'],
                        'text', 'begin_add_unique returns text');
SELECT isnt_definer('zdm', 'begin_add_unique', ARRAY['regclass', 'name[]', 'name', 'text'],
                    'begin_add_unique is SECURITY INVOKER');
SELECT is(pg_get_function_arguments('zdm.begin_add_unique(regclass, name[], name, text)'::regprocedure),
          $$tbl regclass, columns name[], name name DEFAULT NULL::name, migration text DEFAULT NULL::text$$,
          'begin_add_unique: argument names, order and defaults as DESIGN.md pins them');
SELECT throws_ok($$SELECT zdm.begin_add_unique(NULL, ARRAY['a'])$$, '22004',
                 'tbl must not be NULL', 'begin_add_unique(NULL) names the argument');

SELECT has_function('zdm', 'begin_drop_constraint', ARRAY['regclass', 'name', 'text'],
                    'zdm.begin_drop_constraint(regclass, name, text)');
SELECT function_returns('zdm', 'begin_drop_constraint', ARRAY['regclass', 'name', 'text'],
                        'text', 'begin_drop_constraint returns text');
SELECT isnt_definer('zdm', 'begin_drop_constraint', ARRAY['regclass', 'name', 'text'],
                    'begin_drop_constraint is SECURITY INVOKER');
SELECT is(pg_get_function_arguments('zdm.begin_drop_constraint(regclass, name, text)'::regprocedure),
          $$tbl regclass, name name, migration text DEFAULT NULL::text$$,
          'begin_drop_constraint: argument names, order and defaults as DESIGN.md pins them');
SELECT throws_ok($$SELECT zdm.begin_drop_constraint(NULL, 'c')$$, '22004',
                 'tbl must not be NULL', 'begin_drop_constraint(NULL) names the argument');

SELECT has_function('zdm', 'rename_constraint', ARRAY['regclass', 'name', 'name', 'text'],
                    'zdm.rename_constraint(regclass, name, name, text)');
SELECT function_returns('zdm', 'rename_constraint', ARRAY['regclass', 'name', 'name', 'text'],
                        'void', 'rename_constraint returns void');
SELECT isnt_definer('zdm', 'rename_constraint', ARRAY['regclass', 'name', 'name', 'text'],
                    'rename_constraint is SECURITY INVOKER');
SELECT is(pg_get_function_arguments('zdm.rename_constraint(regclass, name, name, text)'::regprocedure),
          $$tbl regclass, name name, new_name name, migration text DEFAULT NULL::text$$,
          'rename_constraint: argument names, order and defaults as the README documents them');
SELECT throws_ok($$SELECT zdm.rename_constraint(NULL, 'a', 'b')$$, '22004',
                 'tbl must not be NULL', 'rename_constraint(NULL) names the argument');

SELECT * FROM finish();
ROLLBACK;
