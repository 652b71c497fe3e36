-- Needs max_prepared_transactions > 0 (scripts/test.sh starts its cluster with
-- -o max_prepared_transactions=10). Skips nothing: with 0, the first query and
-- PREPARE TRANSACTION fail and the output differs.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
SELECT current_setting('max_prepared_transactions')::int > 0 AS prepared_transactions_enabled;
-- The lock error names prepared transactions holding a lock on the table, not
-- only sessions: a prepared transaction has no session (no pid) and keeps its
-- locks until COMMIT PREPARED or ROLLBACK PREPARED.
CREATE TABLE held (id int PRIMARY KEY, v text);
INSERT INTO held VALUES (1, 'a');
BEGIN;
UPDATE held SET v = 'b' WHERE id = 1;
PREPARE TRANSACTION 'zdm_held_by_prepared';
SET zdm.lock_retries = 1;
SET zdm.lock_timeout = '20ms';
\set VERBOSITY default
-- The error, with its timings masked.
DO $$
DECLARE
  message text; detail text; hint text;
BEGIN
  PERFORM zdm.begin_rename('held', 'v', 'w');
EXCEPTION WHEN lock_not_available THEN
  GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RAISE NOTICE E'%\nDETAIL: %\nHINT: %', message,
    regexp_replace(regexp_replace(detail, '\(\d+ ms spent', '(N ms spent'),
                   'owner [^,]+, prepared at [^,]+, [^)]+ ago', 'owner O, prepared at T, N ago'),
    hint;
END $$;
ROLLBACK PREPARED 'zdm_held_by_prepared';
SELECT zdm.begin_rename('held', 'v', 'w');
SELECT zdm.abort();
DROP TABLE held;
