-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
-- Overlapping migrations on one column. An operation that changes a column
-- (rename, drop_column, alter_type, set_not_null with up, the join operations)
-- and one that reads it for an index or a constraint (create_index: its keys,
-- expressions and predicate; add_unique; add_check: the columns its expression
-- reads; add_foreign_key: its columns and the referenced ones; drop_index,
-- drop_constraint) are refused in either order: the first one's finish would
-- drop, rename or replace the column under the other's index or constraint.
-- Each refusal names the column, the open migration and what to do, and
-- changes nothing. Operations that only read a column compose. (NOTICEs off:
-- the pending index builds are not the point here.)
CREATE TABLE ov (id int PRIMARY KEY, a text, b int, c int, d text);
INSERT INTO ov VALUES (1, 'x', 1, 2, 'D'), (2, 'y', 3, 4, 'E');

-- 1. create_index open: its key column.
SELECT zdm.begin_create_index('ov', ARRAY['a'], migration => 'idx_1');
SELECT zdm.begin_drop_column('ov', 'a');
SELECT zdm.begin_rename('ov', 'a', 'a2');
SELECT zdm.begin_alter_type('ov', 'a', 'varchar(100)');
SELECT zdm.begin_set_not_null('ov', 'a', up => 'coalesce(a, ''-'')');
-- These compose: a second index on a, NOT NULL without up, another column.
SELECT zdm.begin_create_index('ov', ARRAY['a', 'b'], migration => 'idx2_1');
SELECT zdm.begin_add_unique('ov', ARRAY['a'], migration => 'uq2_1');
SELECT zdm.begin_set_not_null('ov', 'a', migration => 'nn_1');
SELECT zdm.begin_rename('ov', 'c', 'c2', migration => 'ren_c_1');
SELECT zdm.abort('idx2_1');
SELECT zdm.abort('uq2_1');
SELECT zdm.abort('nn_1');
SELECT zdm.abort('ren_c_1');
SELECT zdm.abort('idx_1');

-- 2. A column only an expression or the predicate reads.
SELECT zdm.begin_create_index('ov', ARRAY['lower(d)'], where_clause => 'b > 0', migration => 'idx_2');
SELECT zdm.begin_rename('ov', 'd', 'd2');       -- the expression's
SELECT zdm.begin_drop_column('ov', 'b');        -- the predicate's
SELECT zdm.begin_alter_type('ov', 'b', 'bigint');
SELECT zdm.abort('idx_2');
-- The other way round.
SELECT zdm.begin_rename('ov', 'd', 'd2', migration => 'ren_2');
SELECT zdm.begin_create_index('ov', ARRAY['lower(d)']);
SELECT zdm.begin_create_index('ov', ARRAY['a'], where_clause => 'd IS NOT NULL');
SELECT zdm.abort('ren_2');
SELECT zdm.begin_alter_type('ov', 'b', 'bigint', migration => 'alt_2');
SELECT zdm.begin_create_index('ov', ARRAY['(b + 1)']);
SELECT zdm.begin_create_index('ov', ARRAY['a'], where_clause => 'b > 0');
SELECT zdm.abort('alt_2');
SELECT zdm.begin_drop_column('ov', 'c', migration => 'drop_2');
SELECT zdm.begin_create_index('ov', ARRAY['a'], where_clause => 'c > 0');
SELECT zdm.abort('drop_2');

-- 3. add_unique open.
SELECT zdm.begin_add_unique('ov', ARRAY['a', 'b'], migration => 'uq_3');
SELECT zdm.begin_drop_column('ov', 'b');
SELECT zdm.begin_rename('ov', 'a', 'a2');
SELECT zdm.begin_alter_type('ov', 'b', 'bigint');
SELECT zdm.abort('uq_3');

-- 4. add_check open: the columns its expression reads.
SELECT zdm.begin_add_check('ov', 'ov_b_lt_c', 'b < c', migration => 'chk_4');
SELECT zdm.begin_drop_column('ov', 'c');
SELECT zdm.begin_rename('ov', 'b', 'b2');
SELECT zdm.begin_alter_type('ov', 'c', 'bigint');
SELECT zdm.begin_set_not_null('ov', 'b', up => 'coalesce(b, 0)');
SELECT zdm.begin_set_not_null('ov', 'b', migration => 'nn_4');  -- composes
SELECT zdm.abort('nn_4');
SELECT zdm.abort('chk_4');
-- The other way round: an open NOT NULL without up lets them in, a rename does not.
SELECT zdm.begin_set_not_null('ov', 'c', migration => 'nn_4b');
SELECT zdm.begin_add_check('ov', 'ov_c_pos', 'c > 0', migration => 'chk_4b');
SELECT zdm.begin_add_unique('ov', ARRAY['c'], migration => 'uq_4b');
SELECT zdm.abort('chk_4b');
SELECT zdm.abort('uq_4b');
SELECT zdm.abort('nn_4b');
SELECT zdm.begin_rename('ov', 'c', 'c2', migration => 'ren_4');
SELECT zdm.begin_add_check('ov', 'ov_c_pos', 'c > 0');
SELECT zdm.abort('ren_4');

-- 5. add_foreign_key open: its columns, and the referenced table's.
CREATE TABLE ov_parent (id int PRIMARY KEY, code int UNIQUE, note text);
CREATE TABLE ov_child (id int PRIMARY KEY, parent_code int, code int);
INSERT INTO ov_parent VALUES (1, 10, 'n');
INSERT INTO ov_child VALUES (1, 10, 7);
SELECT zdm.begin_add_foreign_key('ov_child', ARRAY['parent_code'], 'ov_parent', ARRAY['code'],
                                 migration => 'fk_5');
SELECT zdm.begin_drop_column('ov_child', 'parent_code');
SELECT zdm.begin_rename('ov_child', 'parent_code', 'pcode');
SELECT zdm.begin_rename('ov_parent', 'code', 'parent_code');
SELECT zdm.begin_drop_column('ov_parent', 'code');
SELECT zdm.begin_drop_table('ov_parent');
-- Not what the key reads: ov_child.code only shares the referenced column's name.
SELECT zdm.begin_rename('ov_child', 'code', 'code2', migration => 'ren_other_5');
SELECT zdm.begin_rename('ov_parent', 'note', 'remark', migration => 'ren_other_5');
SELECT zdm.abort('ren_other_5');
SELECT zdm.abort('fk_5');
-- The other way round.
SELECT zdm.begin_rename('ov_parent', 'code', 'parent_code', migration => 'ren_5');
SELECT zdm.begin_add_foreign_key('ov_child', ARRAY['parent_code'], 'ov_parent', ARRAY['code']);
SELECT zdm.abort('ren_5');

-- 6. drop_index and drop_constraint: what they drop reads the column.
CREATE INDEX ov_a_idx ON ov (a);
ALTER TABLE ov ADD CONSTRAINT ov_b_pos CHECK (b > 0);
SELECT zdm.begin_drop_index('ov_a_idx', migration => 'di_6');
-- alter_type would rebuild the index on its shadow column and give it the name back.
SELECT zdm.begin_alter_type('ov', 'a', 'varchar(100)');
SELECT zdm.begin_set_not_null('ov', 'a', up => 'coalesce(a, ''-'')');
SELECT zdm.begin_rename('ov', 'a', 'a2', migration => 'ren_6');  -- composes: the index stays on the column
SELECT zdm.abort('ren_6');
SELECT zdm.abort('di_6');
SELECT zdm.begin_alter_type('ov', 'a', 'varchar(100)', migration => 'alt_6');
SELECT zdm.begin_drop_index('ov_a_idx');
SELECT zdm.abort('alt_6');
SELECT zdm.begin_drop_constraint('ov', 'ov_b_pos', migration => 'dc_6');
SELECT zdm.begin_alter_type('ov', 'b', 'bigint');
SELECT zdm.begin_rename('ov', 'b', 'b2');
SELECT zdm.begin_drop_column('ov', 'b');
SELECT zdm.abort('dc_6');

-- 7. A column add_column adds is indexed in the same migration (one finish,
-- one abort), not from another one, whose index an abort would take away.
SELECT zdm.begin_add_column('ov', 'e', 'text', up => 'a', migration => 'add_7');
SELECT zdm.begin_create_index('ov', ARRAY['e']);
SELECT zdm.begin_add_unique('ov', ARRAY['e'], migration => 'other_7');
SELECT zdm.begin_create_index('ov', ARRAY['e'], migration => 'add_7');
SELECT zdm.abort('add_7');

-- 8. Join operations change their columns too.
SELECT zdm.begin_create_index('ov_child', ARRAY['parent_code'], migration => 'idx_8');
SELECT zdm.begin_column_to_join('ov_child', 'id', 'parent_code', 'ov_child_parent');
SELECT zdm.abort('idx_8');

-- 9. A drop_column and a drop_index of an index on its column finish together
-- (the column's DROP takes the index; the index's DROP INDEX IF EXISTS is then a no-op).
CREATE TABLE ov_two (id int PRIMARY KEY, x int);
CREATE INDEX ov_two_x_idx ON ov_two (x);
SELECT zdm.begin_drop_column('ov_two', 'x', migration => 'both_9');
SELECT zdm.begin_drop_index('ov_two_x_idx', migration => 'both_9');
SELECT zdm.finish('both_9');
SELECT attname FROM pg_attribute WHERE attrelid = 'ov_two'::regclass AND attnum > 0
  AND NOT attisdropped ORDER BY attnum;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'ov_two'::regclass ORDER BY 1;

-- Every refusal changed nothing; every migration above is closed.
SELECT count(*) AS active FROM zdm.migrations WHERE state = 'active';
SELECT attname FROM pg_attribute WHERE attrelid = 'ov'::regclass AND attnum > 0
  AND NOT attisdropped ORDER BY attnum;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid IN ('ov'::regclass, 'ov_child'::regclass,
  'ov_parent'::regclass) ORDER BY 1;
SELECT conrelid::regclass, conname FROM pg_constraint
  WHERE conrelid IN ('ov'::regclass, 'ov_child'::regclass, 'ov_parent'::regclass) ORDER BY 1, 2;
DROP TABLE ov, ov_child, ov_parent, ov_two;
RESET client_min_messages;
