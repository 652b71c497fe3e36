-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- begin_rename -> writes from both sides -> backfill -> finish, on a live table.
CREATE TABLE person (
    id bigserial PRIMARY KEY,
    first_name text,
    last_name text NOT NULL DEFAULT 'unknown' CHECK (length(last_name) < 40)
);
CREATE INDEX person_last_name_idx ON person (last_name);
INSERT INTO person (first_name, last_name)
SELECT 'first' || i, 'last' || i FROM generate_series(1, 25) i;
ANALYZE person;
SELECT attnum AS last_name_attnum FROM pg_attribute
WHERE attrelid = 'person'::regclass AND attname = 'last_name' \gset

SELECT zdm.begin_rename('person', 'last_name', 'surname');
\d person

-- The old app writes last_name only; the new app writes surname only.
INSERT INTO person (first_name, last_name) VALUES ('old', 'from-old');
INSERT INTO person (first_name, surname) VALUES ('new', 'from-new');
INSERT INTO person (first_name) VALUES ('defaulted');    -- old side; the default flows over
UPDATE person SET last_name = 'old-update' WHERE id = 1;
UPDATE person SET surname = 'new-update' WHERE id = 2;
UPDATE person SET first_name = 'touched' WHERE id = 3;   -- neither side: new := old
SELECT id, first_name, last_name, surname FROM person WHERE id <= 3 OR id > 25 ORDER BY id;

-- Rows from before begin still lack the new side until backfill.
SELECT count(*) AS unconverted FROM person WHERE surname IS DISTINCT FROM last_name;
SELECT migration, state, operation, backfill, rows_done, rows_converted FROM zdm.status();

CALL zdm.backfill(batch_size => 10);
SELECT count(*) AS unconverted FROM person WHERE surname IS DISTINCT FROM last_name;
SELECT migration, state, backfill, rows_done, rows_estimate, progress, rows_converted
FROM zdm.status();

-- A second backfill has nothing left to do.
CALL zdm.backfill();

SELECT zdm.finish();
\d person
-- finish kept the old physical column (same attnum, so the same statistics and
-- index) under the new name.
SELECT attnum = :last_name_attnum AS same_physical_column FROM pg_attribute
WHERE attrelid = 'person'::regclass AND attname = 'surname';
SELECT count(*) > 0 AS statistics_kept FROM pg_stats
WHERE tablename = 'person' AND attname = 'surname';
SELECT id, first_name, surname FROM person WHERE id <= 3 OR id > 25 ORDER BY id;
SELECT migration, state, backfill FROM zdm.status();
SELECT phase, statement, attempts FROM zdm.ddl_log ORDER BY id;

-- The new app keeps working after finish, the trigger is gone.
INSERT INTO person (first_name, surname) VALUES ('after', 'finish');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'person'::regclass;
DROP TABLE person;
