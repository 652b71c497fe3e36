-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- Backfill: keyset over a composite primary key, over a unique NOT NULL key,
-- ctid ranges on a table with no key, resumption after a failure, and the
-- all-in-one-transaction mode.
CREATE TABLE composite (region int, seq int, name text, PRIMARY KEY (region, seq));
INSERT INTO composite SELECT r, s, 'n' || r || '-' || s FROM generate_series(1, 3) r, generate_series(1, 7) s;
CREATE TABLE uniq (code text NOT NULL UNIQUE, name text);
INSERT INTO uniq SELECT 'c' || i, 'n' || i FROM generate_series(1, 30) i;
CREATE TABLE heap (name text);
INSERT INTO heap SELECT 'n' || i FROM generate_series(1, 1000) i;
ANALYZE composite, uniq, heap;

SELECT zdm.begin_rename('composite', 'name', 'label', migration => 'm1');
SELECT zdm.begin_rename('uniq', 'name', 'label', migration => 'm1');
SELECT zdm.begin_rename('heap', 'name', 'label', migration => 'm1');
CALL zdm.backfill('m1', batch_size => 4);
SELECT operation, table_name, backfill, rows_done, rows_converted FROM zdm.status() ORDER BY table_name::text;
SELECT tbl, backfill_key, backfill_state FROM zdm.operations ORDER BY tbl::text;
SELECT (SELECT count(*) FROM composite WHERE label IS DISTINCT FROM name) AS composite_left,
       (SELECT count(*) FROM uniq WHERE label IS DISTINCT FROM name) AS uniq_left,
       (SELECT count(*) FROM heap WHERE label IS DISTINCT FROM name) AS heap_left;
SELECT zdm.finish('m1');
SELECT count(*) AS heap_rows, count(DISTINCT label) AS distinct_labels FROM heap;
DROP TABLE composite, uniq, heap;

-- Resumption: a batch fails half way (a user trigger raises on one row); the
-- batches before it stay committed, and the next CALL continues after them.
CREATE TABLE ledger (id int PRIMARY KEY, memo text);
INSERT INTO ledger SELECT i, 'memo' || i FROM generate_series(1, 100) i;
SELECT zdm.begin_rename('ledger', 'memo', 'note');
CREATE TABLE bomb (armed boolean);
INSERT INTO bomb VALUES (true);
CREATE FUNCTION bomb() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id = 55 AND (SELECT armed FROM bomb) THEN RAISE EXCEPTION 'boom at row %', NEW.id; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER bomb BEFORE UPDATE ON ledger FOR EACH ROW EXECUTE FUNCTION bomb();
CALL zdm.backfill(batch_size => 10);
SELECT backfill, rows_done, rows_converted FROM zdm.status() WHERE table_name = 'ledger'::regclass;
SELECT backfill_position FROM zdm.operations WHERE tbl = 'ledger'::regclass;
SELECT count(*) AS converted_so_far FROM ledger WHERE note IS NOT DISTINCT FROM memo;
UPDATE bomb SET armed = false;
CALL zdm.backfill(batch_size => 10);
SELECT backfill, rows_done, rows_converted FROM zdm.status() WHERE table_name = 'ledger'::regclass;
SELECT count(*) AS unconverted FROM ledger WHERE note IS DISTINCT FROM memo;
SELECT zdm.abort();
DROP TABLE ledger, bomb;
DROP FUNCTION bomb();

-- Inside a transaction block backfill does everything in that transaction and
-- says so; a pause between batches is accepted.
CREATE TABLE tx (id int PRIMARY KEY, v text);
INSERT INTO tx SELECT i, 'v' || i FROM generate_series(1, 12) i;
SELECT zdm.begin_rename('tx', 'v', 'w');
BEGIN;
CALL zdm.backfill(batch_size => 5, pause => '1 millisecond');
SELECT backfill, rows_done FROM zdm.status() WHERE table_name = 'tx'::regclass;
COMMIT;
SELECT count(*) AS unconverted FROM tx WHERE w IS DISTINCT FROM v;
SELECT zdm.finish();
-- An empty table backfills at once.
CREATE TABLE empty (id int PRIMARY KEY, v text);
SELECT zdm.begin_rename('empty', 'v', 'w');
CALL zdm.backfill();
SELECT zdm.finish();
DROP TABLE tx, empty;
