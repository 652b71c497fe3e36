-- begin_alter_type's new_name (one deploy): added after the pinned arguments,
-- which keep their names, order and defaults; the 0.1.0 six-argument function
-- is replaced (no overload left to make a call ambiguous); the catalog records
-- whether finish keeps the new name.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(6);

SELECT has_function('zdm', 'begin_alter_type',
                    ARRAY['regclass', 'name', 'text', 'text', 'text', 'text', 'name'],
                    'zdm.begin_alter_type(regclass, name, text, text, text, text, name)');
SELECT hasnt_function('zdm', 'begin_alter_type',
                      ARRAY['regclass', 'name', 'text', 'text', 'text', 'text'],
                      'the six-argument begin_alter_type is gone');
SELECT function_returns('zdm', 'begin_alter_type',
                        ARRAY['regclass', 'name', 'text', 'text', 'text', 'text', 'name'],
                        'text', 'begin_alter_type returns the migration''s name');
SELECT is(pg_get_function_arguments(
            'zdm.begin_alter_type(regclass, name, text, text, text, text, name)'::regprocedure),
          'tbl regclass, column_name name, new_type text, up text DEFAULT NULL::text, '
          'down text DEFAULT NULL::text, migration text DEFAULT NULL::text, '
          'new_name name DEFAULT NULL::name',
          'begin_alter_type: the pinned arguments as DESIGN.md pins them, then new_name');
SELECT col_type_is('zdm', 'operations', 'keep_new_name', 'boolean',
                   'zdm.operations.keep_new_name is boolean');
SELECT col_default_is('zdm', 'operations', 'keep_new_name', 'false',
                      'zdm.operations.keep_new_name defaults to false');

SELECT * FROM finish();
ROLLBACK;
