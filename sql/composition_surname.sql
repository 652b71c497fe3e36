-- Composition (#11 item 5): the surname case (add surname NOT NULL up =>
-- last_name, drop last_name down => surname), an index on surname and a
-- set_not_null on first_name, in one migration with one backfill and one
-- finish; then the same three undone by one abort.
\set VERBOSITY default
DROP TABLE IF EXISTS cs_person CASCADE;
CREATE TABLE cs_person (id int PRIMARY KEY, first_name text, last_name text NOT NULL);
INSERT INTO cs_person SELECT g, CASE WHEN g = 7 THEN NULL ELSE 'f' || g END, 'l' || g
  FROM generate_series(1, 20) g;

SELECT zdm.begin_add_column('cs_person', 'surname', 'text', up => 'last_name', not_null => true,
                            migration => 'cs');
SELECT zdm.begin_drop_column('cs_person', 'last_name', down => 'surname', migration => 'cs');
SELECT zdm.begin_create_index('cs_person', ARRAY['surname'], migration => 'cs');
SELECT zdm.begin_set_not_null('cs_person', 'first_name', migration => 'cs');
SELECT operation, backfill FROM zdm.status() WHERE migration = 'cs' ORDER BY operation;

-- Both apps write; first_name is bound by its check for both at once.
INSERT INTO cs_person (id, first_name, last_name) VALUES (100, 'old', 'by-v1');
INSERT INTO cs_person (id, first_name, surname) VALUES (101, 'new', 'by-v2');
INSERT INTO cs_person (id, first_name, surname) VALUES (102, NULL, 'by-v2');
UPDATE cs_person SET last_name = 'renamed-by-v1' WHERE id = 1;

-- finish refuses until the backfill is done and the index is built; each
-- refusal changes nothing.
SELECT zdm.finish('cs');
-- The NOT VALID check binds every UPDATE of a row, whatever it sets: the
-- backfill's no-op UPDATE of row 7 (first_name NULL from before begin) fails
-- like any write to it would. Fix the NULL rows first.
CALL zdm.backfill('cs');
UPDATE cs_person SET first_name = 'fixed' WHERE first_name IS NULL;
CALL zdm.backfill('cs');
SELECT zdm.finish('cs');
SELECT * FROM zdm.pending_statements('cs') \gexec
SELECT zdm.finish('cs');

SELECT attname, attnotnull FROM pg_attribute
  WHERE attrelid = 'cs_person'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 'cs_person'::regclass
  ORDER BY 1;
SELECT conname, contype FROM pg_constraint WHERE conrelid = 'cs_person'::regclass ORDER BY 1;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'cs_person'::regclass;
SELECT id, first_name, surname FROM cs_person WHERE id IN (1, 7, 100, 101) ORDER BY id;
SELECT operation, backfill FROM zdm.status() WHERE migration = 'cs' ORDER BY operation;

-- One abort undoes all three.
CREATE TABLE cs_abort (id int PRIMARY KEY, first_name text, last_name text NOT NULL);
INSERT INTO cs_abort VALUES (1, NULL, 'x');
SELECT zdm.begin_add_column('cs_abort', 'surname', 'text', up => 'last_name', not_null => true,
                            migration => 'cs_a');
SELECT zdm.begin_drop_column('cs_abort', 'last_name', down => 'surname', migration => 'cs_a');
SELECT zdm.begin_create_index('cs_abort', ARRAY['surname'], migration => 'cs_a');
SELECT zdm.begin_set_not_null('cs_abort', 'first_name', migration => 'cs_a');
SELECT * FROM zdm.pending_statements('cs_a') \gexec
SELECT zdm.abort('cs_a');
SELECT attname, attnotnull FROM pg_attribute
  WHERE attrelid = 'cs_abort'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'cs_abort'::regclass;
SELECT conname FROM pg_constraint WHERE conrelid = 'cs_abort'::regclass ORDER BY 1;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'cs_abort'::regclass;
DROP TABLE cs_person, cs_abort;
