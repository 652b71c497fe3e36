-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- A hint that names a migration quotes it as PostgreSQL's quote_literal()
-- does: 'release_42', not E'release_42'; the E'' form only when the name holds
-- a backslash. Either way the hint's SQL, pasted into psql, acts on that
-- migration.
CREATE TABLE hq (id int PRIMARY KEY, a text, b text, c text, d text);
INSERT INTO hq VALUES (1, 'x', 'y', 'z', 'w');
SELECT zdm.begin_rename('hq', 'a', 'a2', migration => 'release_42');
SELECT zdm.begin_rename('hq', 'b', 'b2', migration => 'it''s');
SELECT zdm.begin_rename('hq', 'c', 'c2', migration => 'back\slash');
SELECT zdm.begin_rename('hq', 'd', 'd2', migration => 'x''); DROP TABLE hq; --');

CREATE FUNCTION pg_temp.hint_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE hint text;
BEGIN
  EXECUTE statement;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
  RETURN hint;
END $$;

-- finish before the backfill: the hint names the CALL to run.
SELECT name, pg_temp.hint_of(format('SELECT zdm.finish(%L)', name)) AS hint
FROM zdm.migrations ORDER BY created_at, name;
-- Its literal is exactly quote_literal(name).
SELECT name, substring(pg_temp.hint_of(format('SELECT zdm.finish(%L)', name))
                       FROM 'CALL zdm\.backfill\((.*)\); then') = quote_literal(name) AS same
FROM zdm.migrations ORDER BY created_at, name;
-- Run as printed, each hint backfills its own migration, and nothing else.
SET client_min_messages = warning;
SELECT substring(pg_temp.hint_of(format('SELECT zdm.finish(%L)', name))
                 FROM '(CALL zdm\.backfill\(.*\)); then')
FROM zdm.migrations ORDER BY created_at, name \gexec
RESET client_min_messages;
SELECT migration, backfill FROM zdm.status() ORDER BY migration;
SELECT to_regclass('hq') IS NOT NULL AS hq_still_there;

SELECT format('SELECT zdm.abort(%L)', name) FROM zdm.migrations ORDER BY created_at, name \gexec
DROP TABLE hq;
