-- test/clients/psql/begin.sql: open the rename person.last_name -> surname.
-- Deploy the new app version (which writes surname) after this.
\set ON_ERROR_STOP on
SELECT zdm.begin_rename('person', 'last_name', 'surname') AS migration \gset
\echo zdm migration :migration is open
