-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
-- Every batch is an index range scan (or, without a key, a TID range scan):
-- no batch reads the whole table, so a batch costs the same whatever the
-- table's size. Checked from the tables' scan counters (a TID range scan
-- counts as no sequential scan). Once per walk, at its end, an add_column or
-- an alter_type whose new column no constraint reads counts the rows an update
-- may have moved behind it, in one sequential scan (README Backfill): wide has
-- two such operations, pairs one; heap's rename and the join need none.
CREATE TABLE wide (id int PRIMARY KEY, qty int, note text);
INSERT INTO wide SELECT i, i, 'n' || i FROM generate_series(1, 20000) i;
CREATE TABLE pairs (a int, b int, qty int, PRIMARY KEY (a, b));
INSERT INTO pairs SELECT i / 100, i % 100, i FROM generate_series(1, 20000) i;
CREATE TABLE used (user_id int NOT NULL, item_id int NOT NULL UNIQUE);
CREATE TABLE item (id int PRIMARY KEY, name text);
INSERT INTO item SELECT i, 'i' || i FROM generate_series(1, 20000) i;
INSERT INTO used SELECT i % 97, i FROM generate_series(1, 20000, 2) i;
CREATE TABLE heap (v int, note text);
INSERT INTO heap SELECT i, 'n' || i FROM generate_series(1, 20000) i;
ANALYZE wide, pairs, used, item, heap;
SELECT zdm.begin_alter_type('wide', 'qty', 'bigint', migration => 'plan') IS NOT NULL;
SELECT zdm.begin_add_column('wide', 'label', 'text', up => 'upper(note)', migration => 'plan') IS NOT NULL;
SELECT zdm.begin_add_column('pairs', 'total', 'bigint', up => 'qty * 2', migration => 'plan') IS NOT NULL;
SELECT zdm.begin_join_to_column('used', 'item_id', 'item', 'id', 'user_id', migration => 'plan') IS NOT NULL;
SELECT zdm.begin_rename('heap', 'note', 'memo', migration => 'plan') IS NOT NULL;
SELECT pg_stat_force_next_flush();
CREATE TEMP TABLE before_scans AS
SELECT relname, seq_scan, idx_scan FROM pg_stat_user_tables WHERE relname IN ('wide', 'pairs', 'used', 'item', 'heap');
CALL zdm.backfill('plan', batch_size => 500);
SELECT pg_stat_force_next_flush();
SELECT s.relname, s.seq_scan - b.seq_scan AS seq_scans, coalesce(s.idx_scan - b.idx_scan >= 40, s.relname = 'heap') AS index_scans
FROM pg_stat_user_tables s JOIN before_scans b USING (relname) ORDER BY s.relname;
SELECT (SELECT count(*) FROM wide WHERE qty_new IS DISTINCT FROM qty OR label IS DISTINCT FROM upper(note)) AS wide_left,
       (SELECT count(*) FROM pairs WHERE total IS DISTINCT FROM qty * 2) AS pairs_left,
       (SELECT count(*) FROM item WHERE user_id IS NOT NULL) AS items_copied,
       (SELECT count(*) FROM heap WHERE memo IS DISTINCT FROM note) AS heap_left;
SELECT zdm.finish('plan');
DROP TABLE wide, pairs, item, heap;
