-- test/clients/psql/abort.sql: undo the open rename; person is left exactly as before.
\set ON_ERROR_STOP on
SELECT migration FROM zdm.status() WHERE state = 'active' GROUP BY migration \gset
SELECT zdm.abort(:'migration');
\echo zdm migration :migration is aborted
