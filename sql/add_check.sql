-- zdm.begin_add_check: CHECK (expression) NOT VALID at begin, so every new
-- write (the old app's too) is bound at once; finish names the rows that
-- violate it, then VALIDATE CONSTRAINT; abort drops it.
\set VERBOSITY default
DROP TABLE IF EXISTS ac_person CASCADE;
CREATE TABLE ac_person (id bigint PRIMARY KEY, email text, age int);
INSERT INTO ac_person SELECT g, 'p' || g, CASE WHEN g % 3 = 0 THEN -g ELSE g END
  FROM generate_series(1, 40) g;

-- Lifecycle: begin adds it NOT VALID; a new write that breaks it is refused.
SELECT zdm.begin_add_check('ac_person', 'ac_age_nonneg', 'age >= 0', migration => 'ac_m');
SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint
  WHERE conrelid = 'ac_person'::regclass AND contype = 'c';
INSERT INTO ac_person VALUES (100, 'x', -1);
UPDATE ac_person SET age = -7 WHERE id = 1;
INSERT INTO ac_person VALUES (100, 'x', NULL);  -- NULL passes a CHECK
SELECT migration, state, operation, backfill FROM zdm.status() WHERE migration = 'ac_m';

-- finish refuses while old rows violate it: count and the first 10 keys; nothing changes.
SELECT zdm.finish('ac_m');
SELECT convalidated FROM pg_constraint WHERE conname = 'ac_age_nonneg';
SELECT state FROM zdm.migrations WHERE name = 'ac_m';
UPDATE ac_person SET age = -age WHERE age < 0;
SELECT zdm.finish('ac_m');
SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint
  WHERE conrelid = 'ac_person'::regclass AND contype = 'c';
SELECT tgname FROM pg_trigger WHERE tgrelid = 'ac_person'::regclass AND NOT tgisinternal;

-- abort drops it, and the table is as before.
SELECT zdm.begin_add_check('ac_person', 'ac_email_shape', 'email LIKE ''p%''', migration => 'ac_a');
SELECT conname FROM pg_constraint WHERE conrelid = 'ac_person'::regclass ORDER BY 1;
SELECT zdm.abort('ac_a');
SELECT conname FROM pg_constraint WHERE conrelid = 'ac_person'::regclass ORDER BY 1;

-- A table without a primary key: keys are ctids.
DROP TABLE IF EXISTS ac_nokey;
CREATE TABLE ac_nokey (v int);
INSERT INTO ac_nokey VALUES (1), (-1), (2);
SELECT zdm.begin_add_check('ac_nokey', 'ac_v_pos', 'v > 0', migration => 'ac_n');
SELECT zdm.finish('ac_n');
DELETE FROM ac_nokey WHERE v < 0;
SELECT zdm.finish('ac_n');

-- Joins an open migration with other operations, one finish for all. It may
-- not read a column under migration (a rename's finish drops the new copy).
SELECT zdm.begin_rename('ac_person', 'email', 'mail', migration => 'ac_c');
SELECT zdm.begin_add_check('ac_person', 'ac_mail_nonempty', 'mail <> ''''', migration => 'ac_c');
SELECT zdm.begin_add_check('ac_person', 'ac_mail_nonempty', 'email <> ''''', migration => 'ac_c');
SELECT zdm.begin_add_check('ac_person', 'ac_age_small', 'age < 1000', migration => 'ac_c');
SELECT migration, operation FROM zdm.status() WHERE migration = 'ac_c';
INSERT INTO ac_person (id, email, age) VALUES (200, 'q', 1);
SET client_min_messages = warning;
CALL zdm.backfill('ac_c');
RESET client_min_messages;
SELECT zdm.finish('ac_c');
SELECT conname, convalidated FROM pg_constraint WHERE conname IN ('ac_mail_nonempty', 'ac_age_small');

-- Errors: each leaves everything as it was.
SELECT zdm.begin_add_check('ac_person', 'ac_age_nonneg', 'age >= 0');
SELECT zdm.begin_add_check('ac_person', 'ac_bad', 'random() > 0.5');
SELECT zdm.begin_add_check('ac_person', 'ac_bad', 'nope > 0');
SELECT zdm.begin_add_check('ac_person', 'ac_bad', 'age + 1');
SELECT zdm.begin_add_check('ac_person', 'ac_bad', 'age > 0; SELECT 1');
SELECT zdm.begin_add_check('ac_person', 'ac_bad', '(SELECT true)');
SELECT zdm.begin_add_check('ac_person', 'ac_bad', NULL);
SELECT zdm.begin_add_check('ac_person', NULL, 'true');
SELECT zdm.begin_add_check('ac_person', '', 'true');
SELECT zdm.begin_add_check(NULL, 'ac_bad', 'true');
SELECT zdm.begin_add_check('ac_person', 'ac_dup', 'age > 0', migration => 'ac_d');
SELECT zdm.begin_add_check('ac_person', 'ac_dup', 'age > 1', migration => 'ac_d');
SELECT zdm.abort('ac_d');
SELECT conname FROM pg_constraint WHERE conrelid = 'ac_person'::regclass ORDER BY 1;
SELECT count(*) FROM zdm.migrations WHERE state = 'active';
DROP TABLE ac_person, ac_nokey;
