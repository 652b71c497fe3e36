-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- The backfill's batch is an old-side write for its own migration on its own
-- table only. A user trigger's write to another table, and another migration
-- open on the same table, follow the ordinary rules.

-- An audit trigger on a writes the new side of hist, itself mid-rename.
CREATE TABLE a (id int PRIMARY KEY, v text);
INSERT INTO a SELECT i, 'v' || i FROM generate_series(1, 3) i;
CREATE TABLE hist (id serial PRIMARY KEY, label text);
SELECT zdm.begin_rename('hist', 'label', 'title', migration => 'hist');
CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO hist (title) VALUES ('a ' || NEW.id || ' updated'); RETURN NEW; END $$;
CREATE TRIGGER audit AFTER UPDATE ON a FOR EACH ROW EXECUTE FUNCTION audit();
SELECT zdm.begin_rename('a', 'v', 'w', migration => 'a');
CALL zdm.backfill('a');
SELECT id, label, title FROM hist ORDER BY id;
SELECT zdm.finish('a');
SELECT zdm.abort('hist');
DROP TABLE a, hist;
DROP FUNCTION audit();

-- Two migrations on one table: backfilling the first does not recompute the
-- alter_type's new column from its old one (here up(down(x)) is not x).
CREATE TABLE b (id int PRIMARY KEY, v text, code text);
INSERT INTO b VALUES (1, 'v1', 'abc');
SELECT zdm.begin_alter_type('b', 'code', 'varchar(20)', up => 'lower(code)', down => 'code_new',
                            migration => 'b2');
UPDATE b SET code_new = 'NEW' WHERE id = 1;
SELECT zdm.begin_add_column('b', 'w', 'text', up => 'upper(v)', migration => 'b1');
SELECT * FROM b;
CALL zdm.backfill('b1');
SELECT * FROM b;
SELECT zdm.abort('b1');
SELECT zdm.abort('b2');
DROP TABLE b;
