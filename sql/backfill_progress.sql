-- Progress a person can read (#10 item 4): zdm.status() carries rows/s over
-- the last minute and an ETA, and rows_done never exceeds the estimate by more
-- than the rows inserted since begin, which rows_note names. No timing is
-- asserted: only that the columns are there and sane.
CREATE EXTENSION IF NOT EXISTS zdm;
SELECT string_agg(a, ', ' ORDER BY o) FILTER (WHERE o > 16) AS new_status_columns
FROM unnest((SELECT proargnames FROM pg_proc WHERE oid = 'zdm.status()'::regprocedure))
     WITH ORDINALITY AS n(a, o);

-- 3100 rows; 100 deleted in the middle and vacuumed, so that the 50 rows
-- inserted after begin fill that space: the table does not grow, and the
-- planner's estimate (3000) stays what it was at begin.
CREATE TABLE bp (id int PRIMARY KEY, a int);
INSERT INTO bp SELECT g, g FROM generate_series(1, 3100) g;
DELETE FROM bp WHERE id BETWEEN 1001 AND 1100;
VACUUM ANALYZE bp;
SELECT zdm.begin_add_column('bp', 'b', 'int', up => 'a * 2', migration => 'bp');
SELECT zdm.begin_drop_column('bp', 'a', down => 'b / 2', migration => 'bp');
INSERT INTO bp (id, a) SELECT g, g FROM generate_series(1001, 1050) g;

-- Nothing has run: no rate, no ETA.
SELECT operation, backfill, rows_per_second, eta, rows_note FROM zdm.status() WHERE migration = 'bp' ORDER BY operation;

-- A background backfill that sits in an hour's pause after its first batch:
-- it runs, so it has a rate and an ETA.
CREATE FUNCTION wait_rows(n int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..600 LOOP
    IF (SELECT rows_done >= n FROM zdm.operations WHERE migration = 'bp' AND kind = 'add_column') THEN RETURN true; END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN false;
END $$;
SELECT zdm.backfill_start('bp', batch_size => 1000, pause => '1h') > 0 AS started;
SELECT wait_rows(1000);
SELECT backfill, rows_done, rows_estimate, rows_per_second > 0 AS rate_positive,
       eta IS NOT NULL AND eta >= interval '0' AS eta_sane, rows_note
FROM zdm.status() WHERE migration = 'bp' AND operation LIKE 'add_column%';
-- Stopped, it has no ETA; its rate is the one of its last minute.
SELECT zdm.backfill_stop('bp');
SELECT backfill, rows_per_second > 0 AS rate_positive, eta FROM zdm.status()
WHERE migration = 'bp' AND operation LIKE 'add_column%';

-- Completed in this session: the 50 rows inserted after begin were visited
-- too; the estimate stays the planner's, rows_note says what the 50 extra are.
SET client_min_messages = warning;
CALL zdm.backfill('bp', batch_size => 500);
RESET client_min_messages;
SELECT operation, backfill, rows_done, rows_estimate, progress, rows_per_second > 0 AS rate_positive,
       eta, rows_note
FROM zdm.status() WHERE migration = 'bp' ORDER BY operation;
SELECT rows_done - rows_estimate <= 50 AS within_inserted FROM zdm.status()
WHERE migration = 'bp' AND operation LIKE 'add_column%';

-- Ended: no rate, no ETA, no note.
SELECT zdm.finish('bp');
SELECT operation, backfill, rows_per_second, eta, rows_note FROM zdm.status() WHERE migration = 'bp' ORDER BY operation;

-- A table grown since its last ANALYZE: the estimate is scaled to its size
-- when the walk starts (not the 100 rows analyzed), and rows_done stays within it.
CREATE TABLE bq (id int PRIMARY KEY, a int);
INSERT INTO bq SELECT g, g FROM generate_series(1, 100) g;
ANALYZE bq;
INSERT INTO bq SELECT g, g FROM generate_series(101, 5000) g;
SELECT zdm.begin_rename('bq', 'a', 'a2', migration => 'bq');
SET client_min_messages = warning;
CALL zdm.backfill('bq', batch_size => 1000);
RESET client_min_messages;
SELECT rows_done, rows_estimate BETWEEN 4000 AND 6000 AS estimate_scaled, rows_note
FROM zdm.status() WHERE migration = 'bq';
SELECT zdm.abort('bq');

DROP TABLE bp, bq;
DROP FUNCTION wait_rows(int);
