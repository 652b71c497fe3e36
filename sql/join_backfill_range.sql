-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
-- join_to_column's batches are key ranges when both keys sort alike (same
-- type and collation), else lists of keys. Either way every batch is an
-- index scan, every row is copied, and what the copy could not settle is
-- reported as a conflict.
SET client_min_messages = notice;
-- A join table far sparser than the target: one join row per 20 target rows.
-- A batch also ends at its batch_size-th target key, so it locks at most
-- that many target rows; 2000 join rows in batches of 100 walk 400 ranges.
CREATE TABLE sparse_item (id int PRIMARY KEY, name text);
INSERT INTO sparse_item SELECT i, 'i' || i FROM generate_series(1, 40000) i;
CREATE TABLE sparse_used (user_id int NOT NULL, item_id int NOT NULL UNIQUE);
INSERT INTO sparse_used SELECT i % 7, i FROM generate_series(20, 40000, 20) i;
-- Keys of two types (integer against bigint): a list of keys per batch.
CREATE TABLE wide_item (id bigint PRIMARY KEY, name text);
INSERT INTO wide_item SELECT i, 'i' || i FROM generate_series(1, 2000) i;
CREATE TABLE wide_used (user_id int NOT NULL, item_id int NOT NULL UNIQUE);
INSERT INTO wide_used SELECT i % 7, i FROM generate_series(1, 2000) i;
ANALYZE sparse_item, sparse_used, wide_item, wide_used;
SELECT zdm.begin_join_to_column('sparse_used', 'item_id', 'sparse_item', 'id', 'user_id', migration => 'sparse') IS NOT NULL;
SELECT zdm.begin_join_to_column('wide_used', 'item_id', 'wide_item', 'id', 'user_id', migration => 'wide') IS NOT NULL;
SELECT pg_stat_force_next_flush();
CREATE TEMP TABLE before_scans AS
SELECT relname, seq_scan, idx_scan FROM pg_stat_user_tables WHERE relname LIKE '%\_item' OR relname LIKE '%\_used';
SET client_min_messages = warning;
CALL zdm.backfill('sparse', batch_size => 100);
CALL zdm.backfill('wide', batch_size => 200);
SELECT pg_stat_force_next_flush();
SELECT s.relname, s.seq_scan - b.seq_scan AS seq_scans, s.idx_scan - b.idx_scan >= 10 AS index_scans
FROM pg_stat_user_tables s JOIN before_scans b USING (relname) ORDER BY s.relname;
SELECT migration, backfill, rows_done, rows_converted, conflicts FROM zdm.status() ORDER BY migration;
SELECT (SELECT count(*) FROM sparse_item i JOIN sparse_used u ON u.item_id = i.id WHERE i.user_id IS DISTINCT FROM u.user_id) AS sparse_left,
       (SELECT count(*) FROM sparse_item WHERE user_id IS NOT NULL) AS sparse_copied,
       (SELECT count(*) FROM wide_item i JOIN wide_used u ON u.item_id = i.id WHERE i.user_id IS DISTINCT FROM u.user_id) AS wide_left;
SELECT zdm.finish('sparse');
SELECT zdm.finish('wide');
-- A user trigger that changes the value the copy writes leaves a row the two
-- shapes disagree on: the batch reports it, though every join row found its
-- target row, and finish refuses.
CREATE TABLE t_item (id int PRIMARY KEY);
INSERT INTO t_item SELECT generate_series(1, 30);
CREATE TABLE t_used (user_id int NOT NULL, item_id int NOT NULL UNIQUE);
INSERT INTO t_used SELECT i, i FROM generate_series(1, 30) i;
SELECT zdm.begin_join_to_column('t_used', 'item_id', 't_item', 'id', 'user_id', migration => 'meddle') IS NOT NULL;
CREATE FUNCTION meddle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id = 17 THEN NEW.user_id := -1; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER meddle BEFORE UPDATE ON t_item FOR EACH ROW EXECUTE FUNCTION meddle();
SET client_min_messages = warning;
CALL zdm.backfill('meddle', batch_size => 10);
SELECT backfill, rows_done, conflicts FROM zdm.status() WHERE migration = 'meddle';
SELECT zdm.finish('meddle');
SELECT zdm.abort('meddle');
DROP TABLE sparse_item, wide_item, t_item, t_used;
DROP FUNCTION meddle();
