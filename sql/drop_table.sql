-- zdm.begin_drop_table: nothing changes during the window (the old app keeps
-- the table); finish drops it, refusing while views, foreign keys or other
-- objects need it, naming them; abort does nothing.
\set VERBOSITY default
DROP TABLE IF EXISTS dt_log, dt_ref CASCADE;
CREATE TABLE dt_log (id bigserial PRIMARY KEY, msg text);
INSERT INTO dt_log (msg) VALUES ('a'), ('b');
SELECT relname FROM pg_class WHERE relname LIKE 'dt\_log%' ORDER BY 1;

SELECT zdm.begin_drop_table('dt_log', migration => 'dt_m');
-- Nothing changed: the old app reads and writes as before.
INSERT INTO dt_log (msg) VALUES ('c');
SELECT count(*) FROM dt_log;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'dt_log'::regclass AND NOT tgisinternal;
SELECT migration, state, operation, backfill FROM zdm.status() WHERE migration = 'dt_m';
-- Other operations on the table cannot join it (nor begin beside it).
SELECT zdm.begin_create_index('dt_log', ARRAY['msg'], migration => 'dt_m');
SELECT zdm.begin_rename('dt_log', 'msg', 'message');
SELECT zdm.begin_drop_table('dt_log');

-- finish refuses while a view, a foreign key or a column of its row type
-- needs it, naming each; nothing changes.
CREATE VIEW dt_log_v AS SELECT msg FROM dt_log;
CREATE TABLE dt_ref (id int PRIMARY KEY, log_id bigint REFERENCES dt_log, entry dt_log);
SELECT zdm.finish('dt_m');
SELECT count(*) FROM dt_log;
DROP VIEW dt_log_v;
ALTER TABLE dt_ref DROP COLUMN entry;
SELECT zdm.finish('dt_m');
ALTER TABLE dt_ref DROP CONSTRAINT dt_ref_log_id_fkey;
SELECT zdm.finish('dt_m');
SELECT relname FROM pg_class WHERE relname LIKE 'dt\_log%' ORDER BY 1;
SELECT migration, state, backfill FROM zdm.status() WHERE migration = 'dt_m';
SELECT phase, statement FROM zdm.ddl_log WHERE migration = 'dt_m' ORDER BY id;

-- abort does nothing to the table.
CREATE TABLE dt_keep (id int PRIMARY KEY);
INSERT INTO dt_keep VALUES (1);
SELECT zdm.begin_drop_table('dt_keep', migration => 'dt_a');
SELECT zdm.abort('dt_a');
SELECT * FROM dt_keep;
SELECT count(*) FROM zdm.ddl_log WHERE migration = 'dt_a';

-- Errors.
SELECT zdm.begin_drop_table(NULL);
SELECT zdm.begin_add_column('dt_keep', 'x', 'int', migration => 'dt_b');
SELECT zdm.begin_drop_table('dt_keep', migration => 'dt_b');   -- another operation is open on it
SELECT zdm.abort('dt_b');
CREATE VIEW dt_view AS SELECT 1 AS a;
SELECT zdm.begin_drop_table('dt_view');
-- A table dropped by hand during the window: abort ends the migration.
SELECT zdm.begin_drop_table('dt_keep', migration => 'dt_c');
DROP TABLE dt_keep;
SELECT zdm.abort('dt_c');
SELECT state FROM zdm.migrations WHERE name = 'dt_c';
DROP VIEW dt_view;
DROP TABLE dt_ref;
