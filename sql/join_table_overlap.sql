-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
DROP TABLE IF EXISTS app_user, voucher, used_voucher, card, card_owner CASCADE;
RESET client_min_messages;
-- join_to_column drops its join table at finish (column_to_join at abort):
-- an operation on that table in another migration could then neither finish
-- nor abort cleanly, whichever began first. Both orders are refused at begin.
CREATE TABLE app_user (id int PRIMARY KEY);
CREATE TABLE voucher (id int PRIMARY KEY, code text NOT NULL);
CREATE TABLE used_voucher (voucher_id int PRIMARY KEY REFERENCES voucher (id),
                           user_id int NOT NULL REFERENCES app_user (id),
                           note text, CONSTRAINT note_short CHECK (length(note) < 100));
CREATE INDEX used_voucher_note ON used_voucher (note);
INSERT INTO app_user SELECT generate_series(1, 10);
INSERT INTO voucher SELECT i, 'V' || i FROM generate_series(1, 20) i;
INSERT INTO used_voucher SELECT i, i % 10 + 1, 'n' || i FROM generate_series(1, 10) i;

-- 1. join_to_column first: every operation on the join table is refused,
-- also on its columns the join does not read.
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j');
SELECT zdm.begin_drop_index('used_voucher_note', migration => 'o');
SELECT zdm.begin_drop_constraint('used_voucher', 'note_short', migration => 'o');
SELECT zdm.begin_create_index('used_voucher', ARRAY['note'], migration => 'o');
SELECT zdm.begin_add_unique('used_voucher', ARRAY['note'], migration => 'o');
SELECT zdm.begin_add_check('used_voucher', 'note_nonempty', 'note <> ''''', migration => 'o');
SELECT zdm.begin_add_foreign_key('used_voucher', ARRAY['user_id'], 'app_user', ARRAY['id'],
                                 migration => 'o');
SELECT zdm.begin_rename('used_voucher', 'note', 'remark', migration => 'o');
SELECT zdm.begin_drop_column('used_voucher', 'note', migration => 'o');
SELECT zdm.begin_add_column('used_voucher', 'extra', 'int', migration => 'o');
SELECT zdm.begin_rename_table('used_voucher', 'redeemed', migration => 'o');
SELECT zdm.begin_drop_table('used_voucher', migration => 'o');
-- The target's synced column is claimed by the join as well.
SELECT zdm.begin_create_index('voucher', ARRAY['user_id'], migration => 'o');
SELECT zdm.begin_drop_column('voucher', 'user_id', migration => 'o');
SELECT zdm.begin_rename('voucher', 'user_id', 'owner_id', migration => 'o');
-- An operation on another column of the target composes: both finish.
SELECT zdm.begin_add_check('voucher', 'code_nonempty', 'code <> ''''', migration => 'o');
UPDATE used_voucher SET user_id = 7 WHERE voucher_id = 3;
INSERT INTO used_voucher VALUES (15, 2, 'new');
UPDATE voucher SET user_id = 9 WHERE id = 16;
CALL zdm.backfill('j');
CALL zdm.backfill('o');
SELECT v.id, v.user_id, u.user_id AS join_user_id FROM voucher v
FULL JOIN used_voucher u ON u.voucher_id = v.id
WHERE v.user_id IS DISTINCT FROM u.user_id;
SELECT zdm.finish('j');
SELECT zdm.finish('o');
SELECT name, state FROM zdm.migrations ORDER BY name;
SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL ORDER BY id;
SELECT to_regclass('used_voucher') IS NULL AS join_table_dropped;
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'voucher'::regclass ORDER BY conname;

-- 2. The other operation first: the join is refused, for each kind.
DROP TABLE voucher CASCADE;
CREATE TABLE voucher (id int PRIMARY KEY, code text NOT NULL);
CREATE TABLE used_voucher (voucher_id int PRIMARY KEY REFERENCES voucher (id),
                           user_id int NOT NULL REFERENCES app_user (id),
                           note text, CONSTRAINT note_short CHECK (length(note) < 100));
CREATE INDEX used_voucher_note ON used_voucher (note);
INSERT INTO voucher SELECT i, 'V' || i FROM generate_series(1, 20) i;
INSERT INTO used_voucher SELECT i, i % 10 + 1, 'n' || i FROM generate_series(1, 10) i;
ALTER TABLE voucher ADD UNIQUE (code);
SELECT zdm.begin_drop_index('used_voucher_note', migration => 'o1');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o1');
SELECT zdm.begin_drop_constraint('used_voucher', 'note_short', migration => 'o2');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o2');
SELECT zdm.begin_create_index('used_voucher', ARRAY['note'], migration => 'o3');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o3');
SELECT zdm.begin_add_unique('used_voucher', ARRAY['note'], migration => 'o4');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o4');
SELECT zdm.begin_add_check('used_voucher', 'note_nonempty', 'note <> ''''', migration => 'o5');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o5');
SELECT zdm.begin_add_foreign_key('used_voucher', ARRAY['note'], 'voucher', ARRAY['code'],
                                 migration => 'o6');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o6');
SELECT zdm.begin_rename('used_voucher', 'note', 'remark', migration => 'o7');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o7');
SELECT zdm.begin_drop_column('used_voucher', 'note', migration => 'o8');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o8');
SELECT zdm.begin_add_column('used_voucher', 'extra', 'int', migration => 'o9');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o9');
SELECT zdm.begin_rename_table('used_voucher', 'redeemed', migration => 'o10');
-- used_voucher is now the old app's view; the table is named redeemed.
SELECT zdm.begin_join_to_column('redeemed', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o10');
SELECT zdm.begin_drop_table('used_voucher', migration => 'o11');
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
SELECT zdm.abort('o11');
-- Nothing open on it any more: the join begins, and finishes.
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'j2');
CALL zdm.backfill('j2');
SELECT zdm.finish('j2');
SELECT count(*) AS redeemed FROM voucher WHERE user_id IS NOT NULL;
SELECT to_regclass('used_voucher') IS NULL AS join_table_dropped;

-- 3. column_to_join: its abort drops the join table it created.
SELECT zdm.begin_column_to_join('voucher', 'id', 'user_id', 'used_voucher', migration => 'c');
SELECT zdm.begin_create_index('used_voucher', ARRAY['voucher_id'], migration => 'o10');
SELECT zdm.begin_add_check('used_voucher', 'voucher_positive', 'voucher_id > 0', migration => 'o10');
SELECT zdm.begin_add_column('used_voucher', 'extra', 'int', migration => 'o10');
SELECT zdm.begin_rename_table('used_voucher', 'redeemed', migration => 'o10');
SELECT zdm.begin_drop_column('voucher', 'user_id', migration => 'o10');
SELECT zdm.abort('c');
SELECT to_regclass('used_voucher') IS NULL AS join_table_dropped;
SELECT name, state FROM zdm.migrations ORDER BY name;
