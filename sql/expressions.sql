-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- up/down expressions: validated at begin, compiled once, NULL-correct, and
-- immune to the search_path of whoever writes the row.
CREATE TABLE t (id int PRIMARY KEY, a int, b text, c text DEFAULT 'c-default');
INSERT INTO t VALUES (1, 1, 'one', 'x'), (2, NULL, NULL, 'y');

-- Refused at begin, with nothing changed.
SELECT zdm.begin_add_column('t', 'n', 'int', up => '(SELECT 1)');
SELECT zdm.begin_add_column('t', 'n', 'int', up => 'count(*)');
SELECT zdm.begin_add_column('t', 'n', 'int', up => 'generate_series(1, a)');
SELECT zdm.begin_add_column('t', 'n', 'int', up => 'row_number() OVER ()');
SELECT zdm.begin_add_column('t', 'n', 'float8', up => 'random()');
SELECT zdm.begin_add_column('t', 'n', 'int', up => 'a; DROP TABLE t');
SELECT zdm.begin_add_column('t', 'n', 'int', up => 'a FROM t');
SELECT zdm.begin_add_column('t', 'n', 'int', up => 'a AS x');
SELECT zdm.begin_add_column('t', 'n', 'int', up => 'b');
SELECT zdm.begin_add_column('t', 'n', 'int', up => 'nope + 1');
SELECT zdm.begin_add_column('t', 'n', 'int', up => '1/0');
SELECT zdm.begin_add_column('t', 'n', 'no_such_type');
SELECT zdm.begin_add_column('t', 'n', 'int', up => 'a', default_expr => 'a');
SELECT zdm.begin_add_column('t', 'n', 'int', not_null => true);
SELECT zdm.begin_add_column('t', 'n', NULL);
SELECT zdm.begin_add_column('t', 'n', 'int', not_null => NULL);
SELECT zdm.begin_drop_column('t', 'id');
SELECT zdm.begin_drop_column('t', 'nope', down => '1');
SELECT zdm.begin_drop_column('t', 'a', down => 'b');
\d t
SELECT count(*) AS migrations FROM zdm.migrations;

-- A user function, resolved at begin through the caller's search_path and
-- stored qualified; a later search_path cannot swap it.
CREATE SCHEMA app;
CREATE FUNCTION app.shout(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper($1) $$;
CREATE SCHEMA evil;
CREATE FUNCTION evil.shout(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'EVIL' $$;
SET search_path = app, public;
SELECT zdm.begin_add_column('t', 'loud', 'text', up => 'shout(b)', migration => 'm');
SELECT zdm.begin_add_column('t', 'total', 'int', up => 'a + 1', default_expr => '0',
                            migration => 'm');
SELECT zdm.begin_drop_column('t', 'c', down => 'coalesce(loud, ''none'')', migration => 'm');
RESET search_path;
SELECT column_name, up_expr, down_expr, default_expr FROM zdm.operations ORDER BY id;
SET search_path = evil, public;
INSERT INTO t (id, a, b) VALUES (3, 3, 'three');           -- old side
INSERT INTO t (id, loud, total) VALUES (4, 'NEW', 40);     -- new side: c := down
INSERT INTO t (id, a, b, c) VALUES (5, NULL, NULL, NULL);  -- NULLs stay NULL on the old side
RESET search_path;
CALL zdm.backfill('m');
SELECT * FROM t ORDER BY id;
SELECT zdm.finish('m');
\d t
INSERT INTO t (id) VALUES (6);
SELECT id, total FROM t WHERE id = 6;
DROP TABLE t;
DROP SCHEMA app, evil CASCADE;

-- drop_column's finish refuses while a view still reads the column.
CREATE TABLE v (id int PRIMARY KEY, old_col text, keep text);
CREATE VIEW v_old AS SELECT id, old_col FROM v;
SELECT zdm.begin_drop_column('v', 'old_col', migration => 'drop');
INSERT INTO v (id, keep) VALUES (1, 'k');   -- the new app leaves it out: NULL (no down)
SELECT zdm.finish('drop');
DROP VIEW v_old;
SELECT zdm.finish('drop');
\d v
DROP TABLE v;

-- A NULL the new app writes on purpose stays NULL; only a new column that the
-- backfill has not reached yet is filled from the old side on a new-side write.
CREATE TABLE n (id int PRIMARY KEY, a int, note text);
INSERT INTO n VALUES (1, 10, 'x'), (2, 20, 'y');
SELECT zdm.begin_add_column('n', 'b', 'int', up => 'a * 2', migration => 'nulls');
SELECT zdm.begin_drop_column('n', 'note', down => 'b::text', migration => 'nulls');
UPDATE n SET b = 7 WHERE id = 2;         -- not backfilled: note := down(b)
CALL zdm.backfill('nulls');
UPDATE n SET b = NULL WHERE id = 1;      -- backfilled, the new app clears b
SET zdm.writer = new;
INSERT INTO n (id, a, b) VALUES (3, 30, NULL);
RESET zdm.writer;
SELECT * FROM n ORDER BY id;
SELECT zdm.abort('nulls');
DROP TABLE n;

-- down computes the old column from the new side, so it may not read that very
-- column; and an ended migration has no index builds left.
CREATE TABLE selfref (id int PRIMARY KEY, n int, note text);
SELECT zdm.begin_alter_type('selfref', 'n', 'bigint', down => 'n + 1');
SELECT zdm.begin_drop_column('selfref', 'note', down => 'note || ''!''');
CREATE INDEX selfref_n_idx ON selfref (n);
SELECT zdm.begin_alter_type('selfref', 'n', 'bigint', migration => 'ended');
SELECT count(*) AS pending_while_open FROM zdm.pending_statements('ended');
SELECT zdm.abort('ended');
SELECT count(*) AS pending_after_abort FROM zdm.pending_statements('ended');
DROP TABLE selfref;
