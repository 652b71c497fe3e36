-- The constraint operations on existing columns (#11 item 3): their pinned
-- signatures (names, order, defaults), return type, never SECURITY DEFINER.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(5);

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

SELECT * FROM finish();
ROLLBACK;
