-- zdm.backfill_start / backfill_stop: the backfill in a background worker.
CREATE EXTENSION IF NOT EXISTS zdm;
SET client_min_messages = warning;
-- Waits (up to 60 s) until the migration's worker is no longer running.
CREATE FUNCTION wait_worker(m text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOR i IN 1..600 LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT backfill_worker INTO s FROM zdm.migrations WHERE name = m;
    IF s IS DISTINCT FROM 'running' THEN RETURN s; END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN 'timeout';
END $$;

-- Waits (up to 60 s) until no backfill worker runs in this database.
CREATE FUNCTION wait_no_worker() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..600 LOOP
    PERFORM pg_stat_clear_snapshot();
    IF NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'zdm backfill'
                   AND datname = current_database()) THEN RETURN true; END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN false;
END $$;

CREATE TABLE bw (id int PRIMARY KEY, a int);
INSERT INTO bw SELECT g, g FROM generate_series(1, 3000) g;
SELECT zdm.begin_add_column('bw', 'b', 'int', up => 'a * 2', migration => 'bw1');

-- Bad arguments: the same checks as CALL zdm.backfill; nothing starts.
SELECT zdm.backfill_start('bw1', batch_size => NULL);
SELECT zdm.backfill_start('bw1', batch_size => 0);
SELECT zdm.backfill_start('bw1', pause => '-1 s');
SELECT zdm.backfill_start('bw1', max_rate => -5);
SELECT zdm.backfill_start('nope');
-- Nothing runs yet.
SELECT zdm.backfill_stop('bw1');

-- A slow worker (100 rows every 200 ms): a second start names its pid.
SELECT zdm.backfill_start('bw1', batch_size => 100, pause => '200ms') AS pid \gset
SELECT worker, worker_pid = :pid AS pid_shown FROM zdm.status() WHERE migration = 'bw1';
DO $$ BEGIN PERFORM zdm.backfill_start('bw1');
EXCEPTION WHEN object_in_use THEN
  RAISE WARNING 'second start refused: %', SQLERRM ~ 'already running \(pid [0-9]+\)'; END $$;

-- Only the owner may start or stop it.
CREATE ROLE bw_other;
SET ROLE bw_other;
SELECT zdm.backfill_start('bw1');
SELECT zdm.backfill_stop('bw1');
RESET ROLE;

-- Stopped at a batch boundary: the committed batches stay, the rest waits.
SELECT zdm.backfill_stop('bw1');
SELECT wait_worker('bw1');
SELECT worker, worker_pid, backfill, rows_done < 3000 AS partial FROM zdm.status()
 WHERE migration = 'bw1';
SELECT count(*) = (SELECT rows_done FROM zdm.status() WHERE migration = 'bw1') AS converted_match
  FROM bw WHERE b = a * 2;

-- Started again, it resumes and completes; finish then succeeds.
SELECT zdm.backfill_start('bw1', batch_size => 1000) > 0 AS started;
SELECT wait_worker('bw1');
SELECT worker, backfill, rows_done FROM zdm.status() WHERE migration = 'bw1';
SELECT count(*) FROM bw WHERE b IS DISTINCT FROM a * 2;
SELECT zdm.finish('bw1');

-- abort stops a running worker first.
SELECT zdm.begin_add_column('bw', 'c', 'int', up => 'a + 1', migration => 'bw2');
-- A start whose transaction rolls back leaves no worker walking behind.
BEGIN;
SELECT zdm.backfill_start('bw2', batch_size => 50, pause => '200ms') > 0 AS started;
ROLLBACK;
SELECT wait_no_worker();
SELECT worker, worker_pid, rows_done FROM zdm.status() WHERE migration = 'bw2';
SELECT zdm.backfill_start('bw2', batch_size => 50, pause => '200ms') > 0 AS started;
SELECT zdm.abort('bw2');
SELECT worker, state FROM zdm.status() WHERE migration = 'bw2';

-- A worker that fails records its error.
SELECT zdm.begin_add_column('bw', 'd', 'int', up => '100 / (a - 1500)', migration => 'bw3');
SELECT zdm.backfill_start('bw3', batch_size => 1000) > 0 AS started;
SELECT wait_worker('bw3') ~ '^failed: division by zero' AS failed;
SELECT zdm.abort('bw3');

DROP TABLE bw;
DROP ROLE bw_other;
DROP FUNCTION wait_worker(text);
DROP FUNCTION wait_no_worker();
