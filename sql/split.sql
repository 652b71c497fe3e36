-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- Split and merge in one migration: full_name becomes first_name + last_name
-- through two add_column ... up and one drop_column ... down.
CREATE TABLE author (id int PRIMARY KEY, full_name text);
INSERT INTO author VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing'), (3, 'Grace Hopper');
SELECT zdm.begin_add_column('author', 'first_name', 'text',
                            up => 'split_part(full_name, '' '', 1)', migration => 'split');
SELECT zdm.begin_add_column('author', 'last_name', 'text',
                            up => 'nullif(split_part(full_name, '' '', 2), '''')',
                            migration => 'split');
SELECT zdm.begin_drop_column('author', 'full_name',
                             down => 'coalesce(first_name || '' '' || last_name, first_name, last_name, '''')',
                             migration => 'split');
-- The expressions are stored normalized.
SELECT operation, coalesce(up_expr, down_expr) AS expression FROM zdm.operations o JOIN zdm.status() s
  ON s.operation = o.kind || ' ' || o.column_name ORDER BY o.id;

-- Old app (full_name) and new app (first_name, last_name) side by side.
INSERT INTO author (id, full_name) VALUES (10, 'Edsger Dijkstra');
INSERT INTO author (id, first_name, last_name) VALUES (11, 'Barbara', 'Liskov');
UPDATE author SET last_name = 'Byron' WHERE id = 1;          -- new app, row not backfilled
UPDATE author SET full_name = 'Alan Mathison' WHERE id = 2;  -- old app
UPDATE author SET first_name = 'Barb' WHERE id = 11;         -- new app, its own row
UPDATE author SET full_name = 'Edsger W' WHERE id = 10;      -- old app, its own row
SELECT * FROM author ORDER BY id;

CALL zdm.backfill('split');
SELECT count(*) AS divergent FROM author
WHERE full_name IS DISTINCT FROM concat_ws(' ', first_name, last_name);
SELECT zdm.finish('split');
SELECT * FROM author ORDER BY id;
DROP TABLE author;

-- Types widen through an expression, and a failing expression names its
-- migration and column.
CREATE TABLE counter (id int PRIMARY KEY, hits int, label text);
INSERT INTO counter VALUES (1, 10, '7'), (2, 20, 'x');
SELECT zdm.begin_add_column('counter', 'hits_big', 'bigint', up => 'hits::bigint * 2',
                            migration => 'widen');
SELECT zdm.begin_add_column('counter', 'label_num', 'int', up => 'label::int',
                            migration => 'widen');
INSERT INTO counter (id, hits, label) VALUES (3, 30, 'not a number');
CALL zdm.backfill('widen');
UPDATE counter SET label = '8' WHERE id = 2;
CALL zdm.backfill('widen');
SELECT * FROM counter ORDER BY id;
SELECT zdm.finish('widen');
DROP TABLE counter;
