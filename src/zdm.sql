-- zdm: zero-downtime schema changes. Install script; the Makefile installs it
-- as zdm--<version>.sql with the version taken from zdm.control.
\echo Use "CREATE EXTENSION zdm" to load this file. \quit

-- Catalog ---------------------------------------------------------------------

CREATE TABLE zdm.migrations (
    name        text NOT NULL,
    state       text NOT NULL DEFAULT 'active'
                CHECK (state IN ('active', 'finished', 'aborted')),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL DEFAULT CURRENT_USER,
    ended_at    timestamptz,
    backfill_pid    integer,  -- the background backfill's worker (backfill_start)
    backfill_worker text,     -- running, done, stopped or failed: <error>
    -- Names are scoped per owner: the role that owned the migration's table at
    -- begin. Another owner's migration of the same name is another migration.
    owner       regrole NOT NULL,
    CONSTRAINT migrations_pkey PRIMARY KEY (owner, name)
);
COMMENT ON TABLE zdm.migrations IS 'One row per zdm migration: its state and when it began and ended.';

CREATE TABLE zdm.operations (
    id                   bigserial PRIMARY KEY,
    migration            text NOT NULL,
    kind                 text NOT NULL,
    tbl                  regclass NOT NULL,
    column_name          name NOT NULL,  -- rename: old name; add/drop_column: the column
    new_column           name,           -- rename: the new name; alter_type: the shadow column
    new_type             text,           -- add_column, alter_type: the new column's type
    up_expr              text,           -- new side from old (normalized)
    down_expr            text,           -- old side from new (normalized)
    not_null             boolean NOT NULL DEFAULT false,
    default_expr         text,           -- add_column: set at finish (normalized)
    check_name           name,           -- add_column: the NOT VALID check begin added;
                                         -- join_to_column: the new column's NOT VALID foreign key;
                                         -- column_to_join: the join table's UNIQUE (join_key)
    join_table           regclass,       -- join_to_column, column_to_join: the join table
    join_key             name,           -- its column that holds the target's key
    join_value           name,           -- its column that mirrors column_name of tbl
    target_key           name,           -- tbl's key column that join_key refers to
    references_sql       text,           -- the value's foreign key, repeated on the other shape
    conflicts            bigint NOT NULL DEFAULT 0,  -- rows the backfill could not copy
    backfill_state       text NOT NULL DEFAULT 'pending'
                         CHECK (backfill_state IN ('pending', 'running', 'done')),
    backfill_key         name[],   -- NULL: the walk goes by ctid block ranges
    backfill_position    text[],   -- last key (or block) committed
    backfill_upper       text[],   -- where the walk stops
    rows_done            bigint NOT NULL DEFAULT 0,
    rows_updated         bigint NOT NULL DEFAULT 0,
    rows_estimate        bigint,
    backfill_started_at  timestamptz,
    backfill_updated_at  timestamptz,
    backfill_finished_at timestamptz,
    throttle             text,     -- why the backfill waits now (max_rate, max_lag), or NULL
    throttle_pid         integer,  -- the backend that waits (a stale reason is not shown)
    backfill_pid         integer,  -- the backend that runs the backfill; status() shows
                                   -- 'interrupted' when it no longer does
    keep_new_name        boolean NOT NULL DEFAULT false,  -- alter_type with new_name: finish
                                   -- keeps new_column's name (no swap)
    rows_inserted_base   bigint,   -- the walked table's inserts (pg_stat) at begin
    rate_since           timestamptz,  -- rows/s is measured from here: a minute ago,
    rate_since_rows      bigint,       -- or the walk's start (rows_done then)
    migration_owner      regrole NOT NULL,  -- with migration: its zdm.migrations row
    reads                name[],   -- index and constraint operations: the columns of tbl they
                                   -- read (no other migration may change them meanwhile)
    ref_table            regclass, -- add_foreign_key: the referenced table
    ref_reads            name[],   -- add_foreign_key: the referenced columns
    CONSTRAINT operations_migration_fkey FOREIGN KEY (migration_owner, migration)
      REFERENCES zdm.migrations (owner, name)
);
CREATE INDEX ON zdm.operations (migration);
CREATE INDEX ON zdm.operations (tbl);
COMMENT ON TABLE zdm.operations IS 'The operations of each migration and their backfill progress.';

CREATE TABLE zdm.ddl_log (
    id         bigserial PRIMARY KEY,
    migration  text,            -- NULL: zdm.run_ddl outside a migration
    phase      text NOT NULL,
    statement  text NOT NULL,
    attempts   integer NOT NULL,
    lock_wait  interval NOT NULL,
    ran_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    ran_by     name NOT NULL DEFAULT CURRENT_USER,
    migration_owner regrole     -- with migration: its zdm.migrations owner (NULL without one)
);
COMMENT ON TABLE zdm.ddl_log IS 'Every DDL statement zdm ran, with the attempts and lock wait of its step.';

-- pg_dump keeps the state of open migrations.
SELECT pg_catalog.pg_extension_config_dump('zdm.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('zdm.operations', '');
SELECT pg_catalog.pg_extension_config_dump('zdm.operations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zdm.ddl_log', '');
SELECT pg_catalog.pg_extension_config_dump('zdm.ddl_log_id_seq', '');

-- Anyone may read the catalog; only zdm's functions (as the extension owner,
-- after checking that the caller owns the table) write it.
GRANT USAGE ON SCHEMA zdm TO PUBLIC;
GRANT SELECT ON zdm.migrations, zdm.operations, zdm.ddl_log TO PUBLIC;

-- Operations ------------------------------------------------------------------
-- Not STRICT: a NULL argument gets an error that names it.

CREATE FUNCTION zdm.begin_rename(tbl regclass, old_name name, new_name name,
                                 migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_rename';
COMMENT ON FUNCTION zdm.begin_rename(regclass, name, name, text) IS
  'Opens a rename: adds new_name beside old_name and keeps both in sync until finish or abort.';

CREATE FUNCTION zdm.begin_add_column(tbl regclass, column_name name, type text,
                                     up text DEFAULT NULL, not_null boolean DEFAULT false,
                                     default_expr text DEFAULT NULL, migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_add_column';
COMMENT ON FUNCTION zdm.begin_add_column(regclass, name, text, text, boolean, text, text) IS
  'Opens an add_column: the column appears now; old-side writes fill it with up.';

CREATE FUNCTION zdm.begin_drop_column(tbl regclass, column_name name, down text DEFAULT NULL,
                                      migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_drop_column';
COMMENT ON FUNCTION zdm.begin_drop_column(regclass, name, text, text) IS
  'Opens a drop_column: the column stays until finish; new-side writes fill it with down.';

CREATE FUNCTION zdm.begin_alter_type(tbl regclass, column_name name, new_type text,
                                     up text DEFAULT NULL, down text DEFAULT NULL,
                                     migration text DEFAULT NULL, new_name name DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_alter_type';
COMMENT ON FUNCTION zdm.begin_alter_type(regclass, name, text, text, text, text, name) IS
  'Opens an alter_type: a column of the new type, kept in sync by up and down (casts by default); it takes the column''s name at finish, or keeps new_name for good.';

CREATE FUNCTION zdm.begin_join_to_column(join_table regclass, join_key name, target regclass,
                                         target_key name, value_column name,
                                         new_column name DEFAULT NULL,
                                         migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_join_to_column';
COMMENT ON FUNCTION zdm.begin_join_to_column(regclass, name, regclass, name, name, name, text) IS
  'Opens a join_to_column: join_table(join_key, value_column) becomes target.new_column, kept in sync both ways until finish drops the join table.';

CREATE FUNCTION zdm.begin_column_to_join(target regclass, target_key name, value_column name,
                                         join_table name, join_key name DEFAULT NULL,
                                         new_column name DEFAULT NULL,
                                         migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_column_to_join';
COMMENT ON FUNCTION zdm.begin_column_to_join(regclass, name, name, name, name, name, text) IS
  'Opens a column_to_join: target.value_column becomes a new table join_table(join_key, new_column), kept in sync both ways until finish drops the column.';

CREATE FUNCTION zdm.join_sync_trigger()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'zdm_join_sync_trigger';
COMMENT ON FUNCTION zdm.join_sync_trigger() IS
  'The compiled AFTER row trigger that keeps a join table and a column of its target in sync.';

CREATE FUNCTION zdm._pending_statements(migration text)
RETURNS text[] LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_pending_statements_array';

CREATE FUNCTION zdm.pending_statements(migration text DEFAULT NULL)
RETURNS SETOF text LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.unnest(zdm._pending_statements(migration)) $$;
COMMENT ON FUNCTION zdm.pending_statements(text) IS
  'Statements the migration tool must run top-level before finish (CREATE INDEX CONCURRENTLY); in psql: SELECT * FROM zdm.pending_statements() \gexec';

CREATE PROCEDURE zdm.backfill(migration text DEFAULT NULL, batch_size integer DEFAULT 5000,
                              pause interval DEFAULT '0', max_lag interval DEFAULT NULL,
                              max_rate integer DEFAULT NULL)
LANGUAGE c AS 'MODULE_PATHNAME', 'zdm_backfill';
COMMENT ON PROCEDURE zdm.backfill(text, integer, interval, interval, integer) IS
  'Converts the rows that existed before begin, in batches committed one by one; resumable; waits between batches for pause, max_rate (rows/s) and standbys over max_lag.';

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

CREATE FUNCTION zdm.finish(migration text DEFAULT NULL)
RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_finish';
COMMENT ON FUNCTION zdm.finish(text) IS
  'Contracts the schema to its final shape once the backfill is complete.';

CREATE FUNCTION zdm.abort(migration text DEFAULT NULL)
RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_abort';
COMMENT ON FUNCTION zdm.abort(text) IS 'Undoes a migration: the tables are left as before begin.';

CREATE FUNCTION zdm.dual_write_trigger()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'zdm_dual_write_trigger';
COMMENT ON FUNCTION zdm.dual_write_trigger() IS
  'The compiled BEFORE INSERT OR UPDATE trigger that keeps both shapes of a table in sync.';

CREATE FUNCTION zdm.copy_check_constraint(tbl regclass, constraint_name name, from_column name,
                                          to_column name, new_constraint_name name)
RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_copy_check_constraint';
COMMENT ON FUNCTION zdm.copy_check_constraint(regclass, name, name, name, name) IS
  'Internal to begin plans: repeats a CHECK constraint on another column, NOT VALID.';

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
-- Any DDL, lock-safe ----------------------------------------------------------

CREATE FUNCTION zdm.run_ddl(statement text, force boolean DEFAULT false,
                            migration text DEFAULT NULL)
RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_run_ddl';
COMMENT ON FUNCTION zdm.run_ddl(text, boolean, text) IS
  'Runs one DDL statement under zdm.lock_timeout with jittered retries, logged in zdm.ddl_log; refuses (unless force) what takes long locks or rewrites the table, with the safe alternative.';

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
CREATE FUNCTION zdm.begin_set_not_null(tbl regclass, column_name name, up text DEFAULT NULL,
                                       migration text DEFAULT NULL)
RETURNS text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'zdm_begin_set_not_null';
COMMENT ON FUNCTION zdm.begin_set_not_null(regclass, name, text, text) IS
  'Opens a set_not_null: CHECK (column IS NOT NULL) NOT VALID, VALIDATE and SET NOT NULL at finish; with up, a shadow column <column>_new holding up, swapped in at finish.';
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
