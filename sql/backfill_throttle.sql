-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- zdm.backfill(migration, batch_size, pause, max_lag, max_rate): the throttle
-- arguments and their errors; calls with 1-3 arguments keep working.
CREATE TABLE thr (id int PRIMARY KEY, v text);
INSERT INTO thr SELECT i, 'v' || i FROM generate_series(1, 200) i;
SELECT zdm.begin_rename('thr', 'v', 'w', migration => 't1');
-- Bad values: clear errors, nothing done.
CALL zdm.backfill('t1', 10, '0', max_rate => -5);
CALL zdm.backfill('t1', 10, '0', max_rate => 0);
CALL zdm.backfill('t1', 10, '0', max_lag => '-1s');
CALL zdm.backfill('t1', 10, '0', max_lag => '0');
CALL zdm.backfill('t1', 10, NULL);
SELECT backfill, rows_done FROM zdm.status();
-- NULL max_lag and max_rate: the defaults (no standby here: no lag wait).
CALL zdm.backfill('t1', 1000, '0', NULL, NULL);
SELECT backfill, rows_done, throttle FROM zdm.status();
SELECT zdm.abort('t1');

-- Old calls, positional and named, with 1, 2 and 3 arguments.
SELECT zdm.begin_rename('thr', 'v', 'w', migration => 't2');
SET client_min_messages = warning;
CALL zdm.backfill('t2');
RESET client_min_messages;
SELECT zdm.abort('t2');
SELECT zdm.begin_rename('thr', 'v', 'w', migration => 't3');
SET client_min_messages = warning;
CALL zdm.backfill('t3', 50);
RESET client_min_messages;
SELECT zdm.abort('t3');
SELECT zdm.begin_rename('thr', 'v', 'w', migration => 't4');
SET client_min_messages = warning;
CALL zdm.backfill(pause => '1ms', batch_size => 100, migration => 't4');
RESET client_min_messages;
SELECT backfill, rows_done FROM zdm.status() WHERE migration = 't4';
SELECT zdm.abort('t4');

-- max_rate bounds the rate: 200 rows at 100 rows/s in batches of 50 cannot
-- take less than 1.5 s (the bound says 2 s; the check is generous).
SELECT zdm.begin_rename('thr', 'v', 'w', migration => 't5');
CREATE TEMP TABLE clock AS SELECT clock_timestamp() AS t0;
-- The reason of the wait is committed before the next batch: a trigger that
-- fires in that batch (row 60) reads it through zdm.status().
CREATE FUNCTION show_throttle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE WARNING 'status: %', (SELECT s.throttle FROM zdm.status() s WHERE s.migration = 't5');
  RETURN NEW;
END $$;
CREATE TRIGGER show_throttle BEFORE UPDATE ON thr FOR EACH ROW WHEN (OLD.id = 60)
  EXECUTE FUNCTION show_throttle();
SET client_min_messages = warning;
CALL zdm.backfill('t5', 50, max_rate => 100);
RESET client_min_messages;
DROP TRIGGER show_throttle ON thr;
SELECT clock_timestamp() - t0 >= interval '1.5 s' AS rate_bounded FROM clock;
-- Done: no throttle left behind.
SELECT backfill, rows_done, throttle FROM zdm.status() WHERE migration = 't5';
SELECT count(*) AS left_over FROM thr WHERE w IS DISTINCT FROM v;
SELECT zdm.finish('t5');
-- Inside a transaction block max_rate still holds (nothing is shown: no commit).
SELECT zdm.begin_rename('thr', 'w', 'x', migration => 't6');
DELETE FROM clock;
INSERT INTO clock SELECT clock_timestamp();
BEGIN;
SET LOCAL client_min_messages = warning;
CALL zdm.backfill('t6', 100, max_rate => 200);
COMMIT;
SELECT clock_timestamp() - t0 >= interval '0.4 s' AS rate_bounded_in_block FROM clock;
SELECT zdm.finish('t6');
-- A reason left by a backend that is gone (cancelled while it waited, crashed)
-- is not shown: only while its pid is alive.
SELECT zdm.begin_rename('thr', 'x', 'y', migration => 't7');
UPDATE zdm.operations SET throttle = 'max_rate 1 rows/s', throttle_pid = pg_backend_pid()
WHERE migration = 't7';
SELECT throttle FROM zdm.status() WHERE migration = 't7';
UPDATE zdm.operations SET throttle_pid = 0 WHERE migration = 't7';
SELECT throttle FROM zdm.status() WHERE migration = 't7';
SELECT zdm.abort('t7');
DROP TABLE thr;
