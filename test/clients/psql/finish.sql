-- test/clients/psql/finish.sql: once the old app version is gone, backfill and finish.
-- Run it with plain `psql -f` (not -1/--single-transaction): outside a transaction
-- block the backfill commits batch by batch and can be resumed after a crash.
\set ON_ERROR_STOP on
-- The open migration (\gset stops the script when there is none).
SELECT migration FROM zdm.status() WHERE state = 'active' GROUP BY migration \gset
CALL zdm.backfill(:'migration', batch_size => 1000, pause => '20 milliseconds');
SELECT zdm.finish(:'migration');
\echo zdm migration :migration is finished
