-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- The zdm.writer GUC and the side inference under auto.
CREATE TABLE item (id int PRIMARY KEY, label text, price int);
INSERT INTO item VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30), (4, 'd', 40);
SELECT zdm.begin_rename('item', 'label', 'title');
SHOW zdm.writer;

-- auto, INSERT: a non-NULL new-side column means a new-side write.
INSERT INTO item (id, label) VALUES (10, 'old-insert');
INSERT INTO item (id, title) VALUES (11, 'new-insert');
-- auto, UPDATE: the changed side is the source; both changed: new wins;
-- neither changed: new is recomputed from old.
UPDATE item SET label = 'old-changed' WHERE id = 1;
UPDATE item SET title = 'new-changed' WHERE id = 2;
UPDATE item SET label = 'old-loses', title = 'new-wins' WHERE id = 3;
UPDATE item SET price = 41 WHERE id = 4;
SELECT id, label, title FROM item ORDER BY id;

-- A declared side decides every INSERT, and an UPDATE that changes both sides.
SET zdm.writer = old;
INSERT INTO item (id, label, title) VALUES (20, 'old-declared', 'ignored');
UPDATE item SET label = 'old-wins', title = 'ignored-too' WHERE id = 1;
SET zdm.writer = new;
INSERT INTO item (id, label, title) VALUES (21, 'ignored', 'new-declared');
UPDATE item SET label = 'ignored-as-well', title = 'new-wins' WHERE id = 2;
RESET zdm.writer;
SELECT id, label, title FROM item WHERE id IN (1, 2, 20, 21) ORDER BY id;

-- But an UPDATE that changes only one side, or neither, follows the columns:
-- the new app touching another column of a row the backfill has not reached
-- must not copy the still-NULL new column over the old one.
CREATE TABLE late (id int PRIMARY KEY, a text, b text);
INSERT INTO late VALUES (1, 'x', 'seed'), (2, 'x', 'seed');
SELECT zdm.begin_rename('late', 'b', 'c', migration => 'late');
SET zdm.writer = new;
UPDATE late SET a = 'y' WHERE id = 1;   -- neither side changed: c := b
UPDATE late SET b = 'old-only' WHERE id = 2;   -- only the old side changed: c := b
RESET zdm.writer;
SELECT * FROM late ORDER BY id;
SELECT zdm.abort('late');
DROP TABLE late;

-- NULLs cross over too.
UPDATE item SET title = NULL WHERE id = 10;
SELECT id, label, title FROM item WHERE id = 10;

-- Bad values are refused.
SET zdm.writer = sideways;
SET zdm.lock_timeout = 0;

-- zdm sees what user BEFORE triggers set: a trigger that fires first (by
-- name) upper-cases the old column, and the new column gets that value.
CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN NEW.label := upper(NEW.label); RETURN NEW; END $$;
CREATE TRIGGER aa_shout BEFORE INSERT OR UPDATE ON item FOR EACH ROW EXECUTE FUNCTION shout();
INSERT INTO item (id, label) VALUES (30, 'quiet');
SELECT id, label, title FROM item WHERE id = 30;
DROP TRIGGER aa_shout ON item;
DROP FUNCTION shout();

-- The trigger refuses to be misused.
SELECT zdm.dual_write_trigger();
CREATE TABLE misuse (a text, b text);
CREATE TRIGGER bad AFTER INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION zdm.dual_write_trigger('rename', 'a', 'b');
INSERT INTO misuse VALUES ('x', 'y');
DROP TABLE misuse;

SELECT zdm.abort();
DROP TABLE item;
