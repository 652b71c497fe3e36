-- test/clients/psql/bad_begin.sql: a mistake in a script. ON_ERROR_STOP stops psql
-- at the failing call, so the statement after it never runs.
\set ON_ERROR_STOP on
SELECT zdm.begin_rename('person', 'lastname', 'surname');
CREATE TABLE must_not_exist ();
