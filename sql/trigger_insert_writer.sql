-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- A mismatched zdm.writer never drops an inserted value (a shared role, or a
-- pooled connection that carries the other app's SET): on INSERT the side
-- whose columns the row fills is the source; both filled, the declared side
-- decides (auto: new).

-- rename
CREATE TABLE w (id int PRIMARY KEY, last_name text);
SELECT zdm.begin_rename('w', 'last_name', 'surname', migration => 'w');
SET zdm.writer = new;
INSERT INTO w (id, last_name) VALUES (11, 'x');
INSERT INTO w (id, last_name, surname) VALUES (13, 'old', 'new');
SET zdm.writer = old;
INSERT INTO w (id, surname) VALUES (12, 'y');
INSERT INTO w (id, last_name, surname) VALUES (14, 'old', 'new');
RESET zdm.writer;
INSERT INTO w (id, last_name, surname) VALUES (15, 'old', 'new');
INSERT INTO w (id) VALUES (16);
SELECT * FROM w ORDER BY id;
SELECT zdm.abort('w');
DROP TABLE w;

-- The surname shape: add_column surname, drop_column last_name.
CREATE TABLE v (id int PRIMARY KEY, last_name text);
SELECT zdm.begin_add_column('v', 'surname', 'text', up => 'last_name', migration => 's');
SELECT zdm.begin_drop_column('v', 'last_name', down => 'surname', migration => 's');
SET zdm.writer = new;
INSERT INTO v (id, last_name) VALUES (11, 'x');
SET zdm.writer = old;
INSERT INTO v (id, surname) VALUES (12, 'y');
RESET zdm.writer;
SELECT * FROM v ORDER BY id;
SELECT zdm.abort('s');
DROP TABLE v;

-- alter_type
CREATE TABLE n (id int PRIMARY KEY, qty int);
SELECT zdm.begin_alter_type('n', 'qty', 'bigint', migration => 'n');
SET zdm.writer = new;
INSERT INTO n (id, qty) VALUES (1, 5);
SET zdm.writer = old;
INSERT INTO n (id, qty_new) VALUES (2, 7);
RESET zdm.writer;
SELECT * FROM n ORDER BY id;
SELECT zdm.abort('n');
DROP TABLE n;

-- A migration that only adds a column: the old app's INSERT on a connection
-- carrying zdm.writer=new still gets the column computed by up.
CREATE TABLE iw_add (id int PRIMARY KEY, v int);
SELECT zdm.begin_add_column('iw_add', 'w', 'int', up => 'v * 2', migration => 'iw_add');
SET zdm.writer = new;
INSERT INTO iw_add (id, v) VALUES (4, 42);
INSERT INTO iw_add (id, v, w) VALUES (5, 1, 100);   -- the new app's own value stays
RESET zdm.writer;
SELECT * FROM iw_add ORDER BY id;
SELECT zdm.abort('iw_add');
DROP TABLE iw_add;
