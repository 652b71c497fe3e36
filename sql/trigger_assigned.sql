-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- On UPDATE, a side is written when the statement assigns one of its columns
-- (tg_updatedcols) or its value changed: an assigned NULL counts. Nothing the
-- conversion reads assigned or changed: the new side is left alone.

-- rename: the new app clears the new column on rows the backfill has not
-- reached, by UPDATE, ON CONFLICT DO UPDATE and MERGE; the old column follows.
CREATE TABLE t (id int PRIMARY KEY, name text, other int);
INSERT INTO t SELECT i, 'n' || i, i FROM generate_series(1, 8) i;
SELECT zdm.begin_rename('t', 'name', 'alias', migration => 'm');
UPDATE t SET alias = NULL WHERE id = 1;
INSERT INTO t (id, alias) VALUES (2, 'x') ON CONFLICT (id) DO UPDATE SET alias = NULL;
MERGE INTO t USING (VALUES (3)) v(id) ON t.id = v.id WHEN MATCHED THEN UPDATE SET alias = NULL;
SET zdm.writer = new;
UPDATE t SET alias = NULL WHERE id = 4;
RESET zdm.writer;
-- The old app clears the old column: the new one follows.
UPDATE t SET name = NULL WHERE id = 5;
INSERT INTO t (id, name) VALUES (6, 'y') ON CONFLICT (id) DO UPDATE SET name = NULL;
-- Both sides assigned: the new side wins, unless the session declares old.
UPDATE t SET name = 'old', alias = 'new' WHERE id = 7;
SET zdm.writer = old;
UPDATE t SET name = 'old', alias = 'new' WHERE id = 8;
RESET zdm.writer;
SELECT id, name, alias FROM t ORDER BY id;
-- Assigning the same value is a write of that side too.
UPDATE t SET alias = alias WHERE id = 7;
SELECT id, name, alias FROM t WHERE id = 7;
-- A MERGE counts the columns of all its UPDATE actions as assigned: when a
-- row's action assigned one side, the side whose value changed is the source.
MERGE INTO t USING (VALUES (7), (8)) v(id) ON t.id = v.id
WHEN MATCHED AND t.id = 7 THEN UPDATE SET alias = 'merge-new'
WHEN MATCHED THEN UPDATE SET name = 'merge-old';
SELECT id, name, alias FROM t WHERE id IN (7, 8) ORDER BY id;
SELECT zdm.abort('m');
DROP TABLE t;

-- alter_type: the new app's assigned NULL is kept, and the old column follows.
CREATE TABLE s (id int PRIMARY KEY, score int);
INSERT INTO s VALUES (1, 10), (2, 20);
SELECT zdm.begin_alter_type('s', 'score', 'bigint', migration => 'w');
UPDATE s SET score_new = NULL WHERE id = 1;
SELECT * FROM s ORDER BY id;
SELECT zdm.abort('w');
DROP TABLE s;

-- A user BEFORE trigger that changes the new column (no assignment) makes a
-- new-side write: its value is kept and the old side follows.
CREATE TABLE u (id int PRIMARY KEY, name text, note text);
INSERT INTO u VALUES (1, 'a', NULL);
SELECT zdm.begin_rename('u', 'name', 'label', migration => 'u');
CREATE FUNCTION set_label() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN IF NEW.note = 'relabel' THEN NEW.label := 'from-trigger'; END IF; RETURN NEW; END $$;
CREATE TRIGGER aa_set_label BEFORE UPDATE ON u FOR EACH ROW EXECUTE FUNCTION set_label();
UPDATE u SET note = 'relabel' WHERE id = 1;
SELECT * FROM u;
SELECT zdm.abort('u');
DROP TABLE u;
DROP FUNCTION set_label();

-- add_column: the new column is recomputed when a column its up reads is
-- assigned, whichever the session declares, and only then.
CREATE TABLE a (id int PRIMARY KEY, email text, other int);
INSERT INTO a VALUES (1, 'A@X', 1), (2, 'B@X', 2);
SELECT zdm.begin_add_column('a', 'email_lower', 'text', up => 'lower(email)', migration => 'a');
UPDATE a SET email = 'C@X' WHERE id = 1;
SET zdm.writer = new;
UPDATE a SET email = 'D@X' WHERE id = 2;
RESET zdm.writer;
SELECT * FROM a ORDER BY id;
-- A write of another column leaves the new column as it is (the backfill
-- converts rows it has not reached).
INSERT INTO a (id, email, other) VALUES (3, 'E@X', 3);
UPDATE a SET email_lower = 'kept' WHERE id = 3;
UPDATE a SET other = 30 WHERE id = 3;
SELECT * FROM a WHERE id = 3;
SELECT zdm.abort('a');
DROP TABLE a;

-- alter_type's up never blocks the old app on a legacy value it does not
-- write; a write that assigns the column still fails, naming the row.
CREATE TABLE z2 (id int PRIMARY KEY, zip text, last_login timestamptz);
INSERT INTO z2 VALUES (1, '12345', NULL), (2, '12a', NULL);
SELECT zdm.begin_alter_type('z2', 'zip', 'int', up => 'zip::int', migration => 'z');
UPDATE z2 SET last_login = '2026-01-01' WHERE id = 2;
SELECT id, zip, zip_new, last_login IS NOT NULL AS logged_in FROM z2 ORDER BY id;
UPDATE z2 SET zip = '12b' WHERE id = 2;
UPDATE z2 SET zip = zip WHERE id = 2;
INSERT INTO z2 (id, zip) VALUES (3, 'x1');
-- The backfill stops at that row and names it (first line of the context).
SET client_min_messages = warning;
DO $$ DECLARE c text; BEGIN CALL zdm.backfill('z');
EXCEPTION WHEN others THEN GET STACKED DIAGNOSTICS c = PG_EXCEPTION_CONTEXT;
  RAISE WARNING '%', SQLERRM USING DETAIL = split_part(c, E'\n', 1); END $$;
RESET client_min_messages;
SELECT zdm.abort('z');
-- Without a primary key the replica identity index names the row.
CREATE TABLE z3 (code text NOT NULL, region int NOT NULL, zip text);
CREATE UNIQUE INDEX z3_key ON z3 (code, region);
ALTER TABLE z3 REPLICA IDENTITY USING INDEX z3_key;
INSERT INTO z3 VALUES ('k', 7, '1');
SELECT zdm.begin_alter_type('z3', 'zip', 'int', up => 'zip::int', migration => 'z3');
UPDATE z3 SET zip = 'bad' WHERE code = 'k';
SELECT zdm.abort('z3');
DROP TABLE z2, z3;

-- A new-side write of one operation leaves the other operations of its
-- migration alone on a row the backfill has not reached: the old name is not
-- overwritten by the still-NULL new name, and up is not run on a legacy zip.
CREATE TABLE p (id int PRIMARY KEY, name text, zip text);
INSERT INTO p VALUES (1, 'keep', '12a'), (2, 'keep', '999');
SELECT zdm.begin_rename('p', 'name', 'alias', migration => 'p');
SELECT zdm.begin_alter_type('p', 'zip', 'int', up => 'zip::int', down => 'zip_new::text', migration => 'p');
UPDATE p SET zip_new = 5 WHERE id = 1;
UPDATE p SET alias = 'new' WHERE id = 2;
SELECT * FROM p ORDER BY id;
SELECT zdm.abort('p');
DROP TABLE p;

-- The surname case: a new-side write that leaves another new column NULL
-- still gets it filled from the old side before down reads it.
CREATE TABLE person (id int PRIMARY KEY, first text, last text, full_name text);
INSERT INTO person VALUES (1, NULL, NULL, 'Ada Lovelace');
SELECT zdm.begin_add_column('person', 'given', 'text', up => 'split_part(full_name, '' '', 1)', migration => 'n');
SELECT zdm.begin_add_column('person', 'family', 'text', up => 'split_part(full_name, '' '', 2)', migration => 'n');
SELECT zdm.begin_drop_column('person', 'full_name', down => 'given || '' '' || family', migration => 'n');
UPDATE person SET family = 'Byron' WHERE id = 1;
SELECT id, given, family, full_name FROM person;
SELECT zdm.abort('n');
DROP TABLE person;
