-- zdm 0.1.0 -> 0.2.0. Every change to src/zdm.sql since 0.1.0 has its line
-- here: sql/upgrade.sql checks that an updated 0.1.0 equals a fresh install.
\echo Use "ALTER EXTENSION zdm UPDATE TO '0.2.0'" to load this file. \quit

-- DDL around an open migration (src/pg/event_trigger.cpp) ----------------------
-- Event triggers that refuse what would leave an open migration unable to
-- finish or abort: dropping the extension, a BEFORE trigger that would fire
-- after zdm's, a table under migration joining an inheritance tree.

CREATE FUNCTION zdm.guard_ddl_start()
RETURNS event_trigger LANGUAGE c AS 'MODULE_PATHNAME', 'zdm_guard_ddl_start';
COMMENT ON FUNCTION zdm.guard_ddl_start() IS
  'Event trigger: refuses DROP EXTENSION zdm, DROP SCHEMA zdm and DROP OWNED BY its owner while migrations are open.';

CREATE FUNCTION zdm.guard_ddl_end()
RETURNS event_trigger LANGUAGE c AS 'MODULE_PATHNAME', 'zdm_guard_ddl_end';
COMMENT ON FUNCTION zdm.guard_ddl_end() IS
  'Event trigger: refuses a BEFORE row trigger named after zzz_zdm_dual_write, and inheritance or partitioning, on a table under migration.';

CREATE EVENT TRIGGER zdm_guard_drop ON ddl_command_start
  WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
  EXECUTE FUNCTION zdm.guard_ddl_start();

CREATE EVENT TRIGGER zdm_guard_ddl ON ddl_command_end
  WHEN TAG IN ('CREATE TRIGGER', 'ALTER TRIGGER', 'CREATE TABLE', 'CREATE FOREIGN TABLE',
               'ALTER TABLE', 'ALTER FOREIGN TABLE')
  EXECUTE FUNCTION zdm.guard_ddl_end();

CREATE FUNCTION zdm.forget(tbl regclass)
RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_forget';
COMMENT ON FUNCTION zdm.forget(regclass) IS
  'Repair: removes zdm''s triggers, and the columns (with their NOT VALID checks) they show zdm added, from a table no open migration holds (restored by pg_dump -t or --schema-only without zdm''s catalog).';
-- zdm.run_ddl: any DDL, lock-safe, logged (a NULL migration outside one).
ALTER TABLE zdm.ddl_log ALTER COLUMN migration DROP NOT NULL;
CREATE FUNCTION zdm.run_ddl(statement text, force boolean DEFAULT false,
                            migration text DEFAULT NULL)
RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_run_ddl';
COMMENT ON FUNCTION zdm.run_ddl(text, boolean, text) IS
  'Runs one DDL statement under zdm.lock_timeout with jittered retries, logged in zdm.ddl_log; refuses (unless force) what takes long locks or rewrites the table, with the safe alternative.';

-- zdm.backfill throttles (src/pg/throttle.cpp): max_lag, max_rate, and the
-- reason it waits, shown by zdm.status().
ALTER TABLE zdm.operations ADD COLUMN throttle text, ADD COLUMN throttle_pid integer;
DROP PROCEDURE zdm.backfill(text, integer, interval);
CREATE PROCEDURE zdm.backfill(migration text DEFAULT NULL, batch_size integer DEFAULT 5000,
                              pause interval DEFAULT '0', max_lag interval DEFAULT NULL,
                              max_rate integer DEFAULT NULL)
LANGUAGE c AS 'MODULE_PATHNAME', 'zdm_backfill';
COMMENT ON PROCEDURE zdm.backfill(text, integer, interval, interval, integer) IS
  'Converts the rows that existed before begin, in batches committed one by one; resumable; waits between batches for pause, max_rate (rows/s) and standbys over max_lag.';

-- Migration names are scoped per owner (#12 item 7): the key of zdm.migrations
-- becomes (owner, name), the owner being the role that owned the migration's
-- table at begin (for a migration from 0.1.0: its first table's owner now, else
-- the role that began it, else the extension's owner).
ALTER TABLE zdm.migrations ADD COLUMN owner regrole;
UPDATE zdm.migrations m SET owner = COALESCE(
  (SELECT c.relowner FROM zdm.operations o JOIN pg_catalog.pg_class c ON c.oid = o.tbl
   WHERE o.migration = m.name ORDER BY o.id LIMIT 1),
  (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = m.created_by),
  (SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname = 'zdm'))::regrole;
ALTER TABLE zdm.migrations ALTER COLUMN owner SET NOT NULL;
ALTER TABLE zdm.operations ADD COLUMN migration_owner regrole;
UPDATE zdm.operations o SET migration_owner = m.owner FROM zdm.migrations m
WHERE m.name = o.migration;
ALTER TABLE zdm.operations ALTER COLUMN migration_owner SET NOT NULL;
ALTER TABLE zdm.operations DROP CONSTRAINT operations_migration_fkey;
ALTER TABLE zdm.migrations DROP CONSTRAINT migrations_pkey;
ALTER TABLE zdm.migrations ADD CONSTRAINT migrations_pkey PRIMARY KEY (owner, name);
ALTER TABLE zdm.operations ADD CONSTRAINT operations_migration_fkey
  FOREIGN KEY (migration_owner, migration) REFERENCES zdm.migrations (owner, name);

-- status() tells an interrupted backfill from a running one by its backend.
ALTER TABLE zdm.operations ADD COLUMN backfill_pid integer;
-- Progress a person can read (#10 item 4): inserts at begin, the rate's anchor.
ALTER TABLE zdm.operations ADD COLUMN rows_inserted_base bigint,
  ADD COLUMN rate_since timestamptz, ADD COLUMN rate_since_rows bigint;
DROP FUNCTION zdm.status();
CREATE FUNCTION zdm.status()
RETURNS TABLE (migration text, state text, operation text, table_name regclass,
               backfill text, rows_done bigint, rows_estimate bigint, progress numeric,
               rows_converted bigint, created_at timestamptz, backfill_updated_at timestamptz,
               ended_at timestamptz, conflicts bigint,
               throttle text, worker_pid integer, worker text,
               rows_per_second numeric, eta interval, rows_note text, owner regrole)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.name, m.state,
           CASE WHEN o.kind = 'alter_type'
                THEN 'alter_type ' || o.column_name || ' -> ' || o.new_type || ' (as ' || o.new_column || ')'
                WHEN o.kind = 'join_to_column'
                THEN 'join_to_column ' || coalesce((SELECT c.oid::regclass::text FROM pg_class c
                                                     WHERE c.oid = o.join_table), '(dropped)')
                     || '(' || o.join_key
                     || ', ' || o.join_value || ') -> ' || o.column_name
                WHEN o.kind = 'column_to_join'
                THEN 'column_to_join ' || o.column_name || ' -> '
                     || coalesce((SELECT c.oid::regclass::text FROM pg_class c
                                  WHERE c.oid = o.join_table), '(dropped)')
                     || '(' || o.join_key || ', ' || o.join_value || ')'
                ELSE o.kind || ' ' || o.column_name || coalesce(' -> ' || o.new_column, '') END,
           o.tbl,
           b.state,
           o.rows_done, est.rows,
           CASE WHEN o.id IS NULL OR m.state = 'aborted'
                  OR (o.backfill_state = 'done' AND o.backfill_started_at IS NULL) THEN NULL
                WHEN o.backfill_state = 'done' OR m.state = 'finished' THEN 100.0
                WHEN est.rows > 0
                THEN least(99.9, round(100.0 * o.rows_done / est.rows, 1))
                ELSE 0.0 END,
           o.rows_updated, m.created_at, o.backfill_updated_at, m.ended_at, o.conflicts,
           -- why the backfill waits now; only while the backend that wrote it lives
           CASE WHEN o.throttle IS NOT NULL AND EXISTS (SELECT 1 FROM pg_stat_activity a
                                                        WHERE a.pid = o.throttle_pid)
                THEN 'throttled: ' || o.throttle END,
           -- the background backfill (backfill_start): its pid while it lives;
           -- running, done, stopped, failed: <error>, or interrupted when it
           -- vanished (terminated, server restart) while running
           w.pid,
           CASE WHEN m.backfill_worker = 'running' AND w.pid IS NULL THEN 'interrupted'
                ELSE m.backfill_worker END,
           rate.per_second,
           -- the rows left at the last minute's rate, while the backfill runs
           CASE WHEN b.state = 'running' AND rate.per_second > 0
                THEN make_interval(secs => round(greatest(est.rows - o.rows_done, 0)
                                                 / rate.per_second)) END,
           -- rows_done past the estimate: rows inserted since begin that the
           -- walk met (it visits every key up to the last one it saw at start)
           CASE WHEN b.state NOT IN ('finished', 'aborted', 'not needed')
                 AND o.rows_done > o.rows_estimate AND est.inserted > 0
                THEN 'rows visited includes ' || least(o.rows_done - o.rows_estimate, est.inserted)
                     || ' rows inserted since begin' END,
           m.owner
    FROM zdm.migrations m
    LEFT JOIN LATERAL (SELECT a.pid FROM pg_stat_activity a
                       WHERE a.pid = m.backfill_pid AND a.backend_type = 'zdm backfill'
                         AND a.datname = current_database()) w ON true
    LEFT JOIN zdm.operations o ON o.migration = m.name AND o.migration_owner = m.owner
    -- an ended migration's operations end with it; an operation begin
    -- recorded as done (drop_column) never needed a backfill; a running
    -- one whose backend is gone or idle was killed or timed out
    LEFT JOIN LATERAL (
      SELECT CASE WHEN o.id IS NULL THEN NULL
                  WHEN m.state <> 'active' THEN m.state
                  WHEN o.backfill_state = 'done' AND o.backfill_started_at IS NULL THEN 'not needed'
                  WHEN o.backfill_state = 'running' AND NOT EXISTS (
                    SELECT 1 FROM pg_stat_activity a WHERE a.pid = o.backfill_pid
                    AND a.pid <> pg_backend_pid() AND coalesce(a.state, 'active') NOT LIKE 'idle%')
                  -- the worker's walk that backfill_stop ended at a batch boundary
                  THEN CASE WHEN m.backfill_worker = 'stopped' AND o.backfill_pid = m.backfill_pid
                            THEN 'stopped' ELSE 'interrupted' END
                  ELSE o.backfill_state END AS state) b ON true
    -- The estimate: the planner's, scaled to the table's size when the walk
    -- started, but never below the rows visited less the rows inserted since
    -- begin (pg_stat), which the walk also meets.
    LEFT JOIN LATERAL (
      SELECT p.inserted,
             CASE WHEN o.rows_estimate IS NOT NULL
                  THEN greatest(o.rows_estimate, o.rows_done - p.inserted) END AS rows
      FROM (SELECT greatest(0, pg_stat_get_tuples_inserted(r.oid)
                               + pg_stat_get_xact_tuples_inserted(r.oid)
                               - o.rows_inserted_base) AS inserted
            FROM (SELECT CASE WHEN o.kind = 'join_to_column' THEN o.join_table
                              ELSE o.tbl END::oid AS oid) r) p) est ON true
    -- rows/s over the last minute (from the anchor each batch commits); up to
    -- now while the backfill runs, else up to its last batch
    LEFT JOIN LATERAL (
      SELECT round((o.rows_done - o.rate_since_rows)
                   / greatest(extract(epoch FROM CASE WHEN b.state = 'running'
                                                      THEN clock_timestamp()
                                                      ELSE o.backfill_updated_at END
                                                 - o.rate_since), 0.001), 1) AS per_second
      WHERE o.rate_since IS NOT NULL AND m.state = 'active'
        AND b.state IN ('running', 'interrupted', 'stopped', 'done')) rate ON true
    ORDER BY m.created_at, o.id
$$;
COMMENT ON FUNCTION zdm.status() IS 'Every migration with its operations and backfill progress (backfill: pending, running, interrupted, stopped, done, not needed, finished or aborted); throttle: why the backfill waits now (max_rate, max_lag), else NULL; worker_pid, worker: the background backfill of backfill_start; rows_per_second over the last minute, eta while it runs, rows_note: what rows_done counts beyond the estimate; owner: the role whose migration it is (names are scoped per owner).';

-- ---- index operations (issue 11 item 2) ----
CREATE FUNCTION zdm.begin_create_index(tbl regclass, columns text[], name name DEFAULT NULL,
                                       is_unique boolean DEFAULT false,
                                       method text DEFAULT 'btree',
                                       where_clause text DEFAULT NULL,
                                       migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_create_index';
COMMENT ON FUNCTION zdm.begin_create_index(regclass, text[], name, boolean, text, text, text) IS
  'Opens a create_index: zdm.pending_statements() lists its CREATE INDEX CONCURRENTLY; finish requires the index valid; abort drops it.';
-- Constraints on existing columns (#11 item 3) --------------------------------
CREATE FUNCTION zdm.begin_add_check(tbl regclass, name name, expression text,
                                    migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_add_check';
COMMENT ON FUNCTION zdm.begin_add_check(regclass, name, text, text) IS
  'Opens an add_check: CHECK (expression) NOT VALID at once (every new write, old app''s too, is bound), VALIDATE at finish.';
-- ---- drop_index, add_foreign_key, add_unique, drop_constraint (#11 items 2-3) ----
CREATE FUNCTION zdm.begin_drop_index(index regclass, migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_drop_index';
COMMENT ON FUNCTION zdm.begin_drop_index(regclass, text) IS
  'Opens a drop_index: nothing changes during the window; finish drops the index (a brief lock); abort does nothing.';
CREATE FUNCTION zdm.begin_add_foreign_key(tbl regclass, columns name[], ref_table regclass,
                                          ref_columns name[], on_delete text DEFAULT 'NO ACTION',
                                          name name DEFAULT NULL, migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_add_foreign_key';
COMMENT ON FUNCTION zdm.begin_add_foreign_key(regclass, name[], regclass, name[], text, name, text) IS
  'Opens an add_foreign_key: FOREIGN KEY ... NOT VALID at once (every new write is checked), VALIDATE at finish; abort drops it.';
CREATE FUNCTION zdm.begin_add_unique(tbl regclass, columns name[], name name DEFAULT NULL,
                                     migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_add_unique';
COMMENT ON FUNCTION zdm.begin_add_unique(regclass, name[], name, text) IS
  'Opens an add_unique: zdm.pending_statements() lists its CREATE UNIQUE INDEX CONCURRENTLY; finish names duplicates, then ADD CONSTRAINT ... UNIQUE USING INDEX; abort drops the index.';
CREATE FUNCTION zdm.begin_drop_constraint(tbl regclass, name name, migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_drop_constraint';
COMMENT ON FUNCTION zdm.begin_drop_constraint(regclass, name, text) IS
  'Opens a drop_constraint: nothing changes during the window; finish drops the constraint; abort does nothing.';
CREATE FUNCTION zdm.rename_constraint(tbl regclass, name name, new_name name,
                                      migration text DEFAULT NULL)
RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_rename_constraint';
COMMENT ON FUNCTION zdm.rename_constraint(regclass, name, name, text) IS
  'Renames a constraint now, lock-safe (zdm.lock_timeout with retries), logged in zdm.ddl_log (under migration when given).';
-- zdm.backfill_start / backfill_stop (src/pg/worker.cpp): the backfill in a
-- background worker; status() shows it (worker_pid, worker).
ALTER TABLE zdm.migrations ADD COLUMN backfill_pid integer, ADD COLUMN backfill_worker text;

CREATE FUNCTION zdm.backfill_start(migration text DEFAULT NULL, batch_size integer DEFAULT 5000,
                                   pause interval DEFAULT '0', max_lag interval DEFAULT NULL,
                                   max_rate integer DEFAULT NULL)
RETURNS integer LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_backfill_start';
COMMENT ON FUNCTION zdm.backfill_start(text, integer, interval, interval, integer) IS
  'Runs CALL zdm.backfill with these arguments in a background worker, which outlives the session; returns its pid.';

CREATE FUNCTION zdm.backfill_stop(migration text DEFAULT NULL)
RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_backfill_stop';
COMMENT ON FUNCTION zdm.backfill_stop(text) IS
  'Stops the background backfill of zdm.backfill_start at its next batch boundary and waits for it; backfill_start resumes it.';
CREATE FUNCTION zdm.begin_set_not_null(tbl regclass, column_name name, up text DEFAULT NULL,
                                       migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_set_not_null';
COMMENT ON FUNCTION zdm.begin_set_not_null(regclass, name, text, text) IS
  'Opens a set_not_null: CHECK (column IS NOT NULL) NOT VALID, VALIDATE and SET NOT NULL at finish; with up, a shadow column <column>_new holding up, swapped in at finish.';

-- begin_alter_type(..., new_name): the converted column keeps new_name for
-- good, so the new app uses one name before and after finish (one deploy).
ALTER TABLE zdm.operations ADD COLUMN keep_new_name boolean NOT NULL DEFAULT false;
DROP FUNCTION zdm.begin_alter_type(regclass, name, text, text, text, text);
CREATE FUNCTION zdm.begin_alter_type(tbl regclass, column_name name, new_type text,
                                     up text DEFAULT NULL, down text DEFAULT NULL,
                                     migration text DEFAULT NULL, new_name name DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_alter_type';
COMMENT ON FUNCTION zdm.begin_alter_type(regclass, name, text, text, text, text, name) IS
  'Opens an alter_type: a column of the new type, kept in sync by up and down (casts by default); it takes the column''s name at finish, or keeps new_name for good.';

-- zdm 0.1.0's begin left its triggers ENABLE (origin only): they did not fire
-- in a logical-replication subscriber's apply worker, nor under
-- session_replication_role = replica, and the subscriber kept stale values.
-- 0.2.0's begin makes them ALWAYS; the migrations open across the update get
-- the same (a trigger disabled by hand stays disabled).
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT tg.tgrelid::regclass AS tbl, tg.tgname
           FROM pg_catalog.pg_trigger tg JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
           WHERE p.pronamespace = 'zdm'::regnamespace AND NOT tg.tgisinternal
             AND tg.tgenabled = 'O'
  LOOP
    BEGIN
      EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', t.tbl, t.tgname);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'zdm: trigger % on table % still fires on origin only', t.tgname, t.tbl
        USING HINT = pg_catalog.format('As its owner: ALTER TABLE %s ENABLE ALWAYS TRIGGER %I;',
                                       t.tbl, t.tgname);
    END;
  END LOOP;
END
$$;
-- Tables (#11 item 4) ---------------------------------------------------------
CREATE FUNCTION zdm.begin_rename_table(tbl regclass, new_name name, migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_rename_table';
COMMENT ON FUNCTION zdm.begin_rename_table(regclass, name, text) IS
  'Opens a rename_table: renames the table now, the old name a security_invoker view over it with the same grants; finish drops the view, abort renames back.';
CREATE FUNCTION zdm.begin_drop_table(tbl regclass, migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_drop_table';
COMMENT ON FUNCTION zdm.begin_drop_table(regclass, text) IS
  'Opens a drop_table: nothing changes during the window; finish drops the table (refused while views or foreign keys need it); abort does nothing.';

-- Diagnostics ---------------------------------------------------------------
CREATE FUNCTION zdm.trigger_cache_size(OUT dual_write integer, OUT join_sync integer)
RETURNS record LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_trigger_cache_size';
COMMENT ON FUNCTION zdm.trigger_cache_size() IS
  'How many entries this backend''s trigger caches hold: dual_write (tables), join_sync (triggers).';

-- Overlapping migrations on one column: what index and constraint operations
-- read (src/core/plan.cpp, check_overlaps).
ALTER TABLE zdm.operations ADD COLUMN reads name[], ADD COLUMN ref_table regclass,
  ADD COLUMN ref_reads name[];

-- zdm.ddl_log names a migration by (owner, name), as zdm.migrations keys it;
-- rows logged before the update name a 0.1.0 migration, whose name was its key.
ALTER TABLE zdm.ddl_log ADD COLUMN migration_owner regrole;
UPDATE zdm.ddl_log l SET migration_owner = m.owner FROM zdm.migrations m
WHERE m.name = l.migration;
