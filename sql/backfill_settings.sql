-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
SET client_min_messages = warning;  -- progress NOTICEs depend on timing
-- Session settings never change a backfill's result: its stored position is
-- written and read in zdm's own pinned text forms, whatever the caller's
-- DateStyle, extra_float_digits or TimeZone, and resumes exactly.
CREATE TABLE visit (at timestamp PRIMARY KEY, note text);
INSERT INTO visit SELECT timestamp '2024-01-01' + i * interval '1 month', 'n' || i
FROM generate_series(0, 59) i;
SELECT zdm.begin_rename('visit', 'note', 'memo', migration => 'visit');
-- A batch fails half way (a user trigger raises on one row), so the first
-- batches are committed with their position while DateStyle is 'SQL, MDY'.
CREATE TABLE bomb (armed boolean);
INSERT INTO bomb VALUES (true);
CREATE FUNCTION bomb() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.at = timestamp '2025-09-01' AND (SELECT armed FROM bomb) THEN
    RAISE EXCEPTION 'boom';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER bomb BEFORE UPDATE ON visit FOR EACH ROW EXECUTE FUNCTION bomb();
SET DateStyle = 'SQL, MDY';
SET TimeZone = 'Asia/Tokyo';
\set VERBOSITY terse
CALL zdm.backfill('visit', batch_size => 5);
\set VERBOSITY default
SELECT backfill_position, backfill_upper FROM zdm.operations WHERE tbl = 'visit'::regclass;
-- Resumed under another DateStyle and TimeZone, nothing is skipped. (Stored in
-- the caller's 'SQL, MDY' and read back as 'SQL, DMY', the walk's last key,
-- 1 Dec 2028, became 12 Jan 2028 and the 11 rows after it were never visited.)
UPDATE bomb SET armed = false;
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'America/New_York';
CALL zdm.backfill('visit', batch_size => 5);
SELECT backfill, rows_done FROM zdm.status() WHERE table_name = 'visit'::regclass;
SELECT count(*) AS unconverted FROM visit WHERE memo IS DISTINCT FROM note;
RESET DateStyle;
RESET TimeZone;
SELECT zdm.finish('visit');
SELECT count(*) AS rows, count(memo) AS with_memo FROM visit;
DROP TABLE visit, bomb;
DROP FUNCTION bomb();

-- A float key: with extra_float_digits = 0 its text form is rounded, and the
-- walk's last key, 0.30000000000000004, read back as 0.3, would leave the
-- last row out.
CREATE TABLE reading (k float8 PRIMARY KEY, v text);
INSERT INTO reading SELECT 0.1::float8 * i, 'v' || i FROM generate_series(1, 3) i;
SELECT zdm.begin_rename('reading', 'v', 'w');
SET extra_float_digits = 0;
CALL zdm.backfill(batch_size => 2);
RESET extra_float_digits;
SELECT count(*) AS unconverted FROM reading WHERE w IS DISTINCT FROM v;
SELECT backfill_upper FROM zdm.operations WHERE tbl = 'reading'::regclass;
SELECT zdm.finish();
DROP TABLE reading;

-- The caller's settings are back once the backfill returns.
SET DateStyle = 'German';
SET TimeZone = 'Europe/Berlin';
SET extra_float_digits = 0;
CREATE TABLE small (id int PRIMARY KEY, v text);
INSERT INTO small VALUES (1, 'a');
SELECT zdm.begin_rename('small', 'v', 'w');
CALL zdm.backfill();
SELECT current_setting('DateStyle') AS datestyle, current_setting('TimeZone') AS timezone,
       current_setting('extra_float_digits') AS extra_float_digits,
       current_setting('search_path') AS search_path;
BEGIN;
CALL zdm.backfill();
SELECT current_setting('DateStyle') AS datestyle, current_setting('row_security') AS row_security;
COMMIT;
RESET DateStyle;
RESET TimeZone;
RESET extra_float_digits;
SELECT zdm.finish();
DROP TABLE small;
