-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- Partitioned tables, partitions and inheritance trees: every operation
-- refuses them at begin, before anything changes, saying what the table is
-- and what to do instead (plain DDL through zdm.run_ddl, or detach it).
\set VERBOSITY default
CREATE TABLE tr_part (id int PRIMARY KEY, v int, note text) PARTITION BY RANGE (id);
CREATE TABLE tr_part_1 PARTITION OF tr_part FOR VALUES FROM (0) TO (100);
CREATE INDEX tr_part_v ON tr_part (v);
ALTER TABLE tr_part ADD CONSTRAINT tr_part_v_pos CHECK (v > 0);
CREATE TABLE tr_parent (id int PRIMARY KEY, v int CONSTRAINT tr_parent_v_pos CHECK (v > 0));
CREATE INDEX tr_parent_v ON tr_parent (v);
CREATE TABLE tr_child () INHERITS (tr_parent);
CREATE TABLE tr_ref (id int PRIMARY KEY, p int);
INSERT INTO tr_part VALUES (1, 1, 'a');
INSERT INTO tr_parent VALUES (1, 1);

-- The partitioned table.
SELECT zdm.begin_rename_table('tr_part', 'tr_part2');
SELECT zdm.begin_drop_table('tr_part');
SELECT zdm.begin_set_not_null('tr_part', 'note');
SELECT zdm.begin_set_not_null('tr_part', 'note', up => 'coalesce(note, '''')');
SELECT zdm.begin_alter_type('tr_part', 'v', 'bigint', new_name => 'v');
SELECT zdm.begin_add_unique('tr_part', ARRAY['v']);
SELECT zdm.begin_add_foreign_key('tr_part', ARRAY['v'], 'tr_ref', ARRAY['id']);
SELECT zdm.begin_drop_constraint('tr_part', 'tr_part_v_pos');
SELECT zdm.rename_constraint('tr_part', 'tr_part_v_pos', 'tr_part_v_positive');
SELECT zdm.begin_drop_index('tr_part_v');
-- A partition.
SELECT zdm.begin_rename_table('tr_part_1', 'tr_part_one');
SELECT zdm.begin_drop_index('tr_part_1_v_idx');
-- An inheritance parent, and its child.
SELECT zdm.begin_drop_table('tr_parent');
SELECT zdm.begin_drop_constraint('tr_parent', 'tr_parent_v_pos');
SELECT zdm.begin_drop_index('tr_parent_v');
SELECT zdm.begin_rename_table('tr_child', 'tr_kid');
SELECT zdm.begin_add_foreign_key('tr_child', ARRAY['v'], 'tr_ref', ARRAY['id']);
-- A partitioned table as the referenced side is fine (PostgreSQL 12+), with a
-- unique index on the referenced columns; without one, the hint says how to
-- build it (zdm.begin_add_unique does not take partitioned tables).
SELECT zdm.begin_add_foreign_key('tr_ref', ARRAY['p'], 'tr_part', ARRAY['v']);
SELECT count(*) AS migrations FROM zdm.migrations;
INSERT INTO tr_ref VALUES (1, 1);
SELECT zdm.begin_add_foreign_key('tr_ref', ARRAY['p'], 'tr_part', ARRAY['id'], migration => 'tr_fk');
INSERT INTO tr_ref VALUES (2, 42);            -- bound at once
DELETE FROM tr_part WHERE id = 1;              -- on both sides
SELECT zdm.finish('tr_fk');
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'tr_ref'::regclass
  AND contype = 'f' AND conparentid = 0;
ALTER TABLE tr_ref DROP CONSTRAINT tr_ref_p_fkey;
-- Nothing changed.
SELECT count(*) AS migrations FROM zdm.migrations WHERE state = 'active';
SELECT conname FROM pg_constraint WHERE conrelid IN ('tr_part'::regclass, 'tr_parent'::regclass)
  AND contype = 'c' ORDER BY 1;
SELECT relname FROM pg_class WHERE relname LIKE 'tr\_%' AND relkind IN ('r', 'p', 'v') ORDER BY 1;

-- drop_table: a sequence the table owns that another table's default uses
-- would go with it (DROP TABLE fails on it): finish names it, changes nothing.
CREATE TABLE tr_doomed (id serial PRIMARY KEY, v text);
CREATE TABLE tr_other (id int DEFAULT nextval('tr_doomed_id_seq'), v text);
SELECT zdm.begin_drop_table('tr_doomed', migration => 'tr_doomed');
SELECT zdm.finish('tr_doomed');
SELECT count(*) AS doomed_still_there FROM pg_class WHERE relname = 'tr_doomed';
ALTER TABLE tr_other ALTER COLUMN id DROP DEFAULT;
SELECT zdm.finish('tr_doomed');
SELECT count(*) AS doomed_left FROM pg_class WHERE relname IN ('tr_doomed', 'tr_doomed_id_seq');
DROP TABLE tr_part, tr_child, tr_parent, tr_ref, tr_other;
