-- zdm.status() tells the truth about each operation's backfill (#12 item 8):
-- 'not needed' for an operation with nothing to convert (drop_column), not
-- 'done 100%'; 'interrupted' for a backfill whose backend was stopped
-- (statement_timeout, pg_terminate_backend), not 'running' forever; the
-- migration's end ('finished', 'aborted') once it ended, not 'pending 0.0'.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
CREATE TABLE st (id int PRIMARY KEY, a text, b text);
INSERT INTO st SELECT i, 'a' || i, 'b' || i FROM generate_series(1, 10) i;

SELECT zdm.begin_rename('st', 'a', 'a2', migration => 'st');
SELECT zdm.begin_drop_column('st', 'b', migration => 'st');
SELECT operation, backfill, progress FROM zdm.status();

-- A backfill stopped by statement_timeout after five committed batches: a
-- user trigger makes the sixth row slow.
CREATE FUNCTION st_slow() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN IF NEW.id = 6 THEN PERFORM pg_sleep(5); END IF; RETURN NEW; END $$;
CREATE TRIGGER st_slow BEFORE UPDATE ON st FOR EACH ROW EXECUTE FUNCTION st_slow();
SET client_min_messages = warning;
\set VERBOSITY terse
SET statement_timeout = '500ms';
CALL zdm.backfill('st', batch_size => 1);
RESET statement_timeout;
\set VERBOSITY default
RESET client_min_messages;
SELECT operation, backfill, rows_done FROM zdm.status();
SELECT backfill_state FROM zdm.operations WHERE kind = 'rename';
DROP TRIGGER st_slow ON st;
SET client_min_messages = warning;
CALL zdm.backfill('st');
RESET client_min_messages;
SELECT operation, backfill, progress FROM zdm.status();
SELECT zdm.finish('st');
SELECT operation, backfill, progress FROM zdm.status();

CREATE TABLE st2 (id int PRIMARY KEY, c text);
SELECT zdm.begin_rename('st2', 'c', 'c2', migration => 'st2');
SELECT zdm.abort('st2');
SELECT migration, state, backfill, progress FROM zdm.status() WHERE migration = 'st2';
DROP TABLE st, st2;
DROP FUNCTION st_slow();

-- Progress against an estimate scaled to the table's size when the walk
-- starts: 1000 rows analyzed, 9000 added since. reltuples (1000) would read
-- 99.9% after 4999 rows; rows per page times the size at the start (before the
-- batches' new row versions grow it) says well under that.
CREATE TABLE grown (id int PRIMARY KEY, a text);
INSERT INTO grown SELECT i, 'a' FROM generate_series(1, 1000) i;
ANALYZE grown;
INSERT INTO grown SELECT i, 'a' FROM generate_series(1001, 10000) i;
SELECT zdm.begin_rename('grown', 'a', 'a2', migration => 'grown');
CREATE FUNCTION grown_slow() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN IF NEW.id = 5000 THEN PERFORM pg_sleep(5); END IF; RETURN NEW; END $$;
CREATE TRIGGER grown_slow BEFORE UPDATE ON grown FOR EACH ROW EXECUTE FUNCTION grown_slow();
\set VERBOSITY terse
SET client_min_messages = warning;
SET statement_timeout = '2s';
CALL zdm.backfill('grown', batch_size => 1000);
RESET statement_timeout;
RESET client_min_messages;
\set VERBOSITY default
SELECT rows_done, progress BETWEEN 20 AND 80 AS progress_not_stale
FROM zdm.status() WHERE migration = 'grown';
SELECT zdm.abort('grown');
DROP TABLE grown;
DROP FUNCTION grown_slow();
