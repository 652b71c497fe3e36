-- Deploy zdm_client:rename_finish to pg
-- requires: rename_begin
-- Run once no instance of the old app version is left.
-- Not inside BEGIN/COMMIT: the backfill then commits batch by batch and can be
-- resumed after a crash by deploying again.
CALL zdm.backfill(batch_size => 1000, pause => '20 milliseconds');
-- Drops the new copy and renames last_name (the original column, with its
-- constraints, indexes and statistics) to surname.
SELECT zdm.finish();
-- Any other DDL through zdm's lock-safe runner: lock_timeout with retries,
-- refused if it would block traffic, logged in zdm.ddl_log.
SELECT zdm.run_ddl('ALTER TABLE person ALTER COLUMN surname SET STATISTICS 500');
