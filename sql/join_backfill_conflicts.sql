-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- A join backfill that leaves rows unsettled says what it found after the
-- copy: a join row whose key matches no target row, or a row that exists but
-- holds another value (a user trigger changed or skipped the copy's write).
-- Both directions; join_to_column by key range and by key list.

-- join_to_column, by key range (both keys integer): item 99 has no target
-- row; a trigger on the target changes item 3's copied value and skips item
-- 5's write.
CREATE TABLE jc_item (id int PRIMARY KEY);
INSERT INTO jc_item SELECT generate_series(1, 6);
CREATE TABLE jc_used (user_id int NOT NULL, item_id int NOT NULL UNIQUE);
INSERT INTO jc_used SELECT 10 * i, i FROM generate_series(1, 6) i;
INSERT INTO jc_used VALUES (990, 99);
SELECT zdm.begin_join_to_column('jc_used', 'item_id', 'jc_item', 'id', 'user_id',
                                migration => 'jc');
CREATE FUNCTION jc_meddle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id = 3 THEN NEW.user_id := -1; END IF;
  IF NEW.id = 5 THEN RETURN NULL; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER jc_meddle BEFORE UPDATE ON jc_item FOR EACH ROW EXECUTE FUNCTION jc_meddle();
SET client_min_messages = warning;
CALL zdm.backfill('jc');
RESET client_min_messages;
SELECT backfill, rows_done, conflicts FROM zdm.status() WHERE migration = 'jc';
SELECT id, user_id FROM jc_item ORDER BY id;
SELECT zdm.abort('jc');

-- The same by key list (a bigint join key against an integer target key).
CREATE TABLE jl_item (id int PRIMARY KEY);
INSERT INTO jl_item SELECT generate_series(1, 6);
CREATE TABLE jl_used (user_id int NOT NULL, item_id bigint NOT NULL UNIQUE);
INSERT INTO jl_used SELECT 10 * i, i FROM generate_series(1, 6) i;
INSERT INTO jl_used VALUES (990, 99);
SELECT zdm.begin_join_to_column('jl_used', 'item_id', 'jl_item', 'id', 'user_id',
                                migration => 'jl');
CREATE TRIGGER jl_meddle BEFORE UPDATE ON jl_item FOR EACH ROW EXECUTE FUNCTION jc_meddle();
SET client_min_messages = warning;
CALL zdm.backfill('jl');
RESET client_min_messages;
SELECT backfill, rows_done, conflicts FROM zdm.status() WHERE migration = 'jl';
SELECT zdm.abort('jl');

-- column_to_join: a trigger on the join table skips voucher 2's copied row
-- and changes voucher 4's value.
CREATE TABLE cj_voucher (id int PRIMARY KEY, user_id int);
INSERT INTO cj_voucher SELECT i, 10 * i FROM generate_series(1, 6) i;
SELECT zdm.begin_column_to_join('cj_voucher', 'id', 'user_id', 'cj_used',
                                join_key => 'voucher_id', migration => 'cj');
CREATE FUNCTION cj_meddle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.voucher_id = 2 THEN RETURN NULL; END IF;
  IF NEW.voucher_id = 4 THEN NEW.user_id := -1; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER cj_meddle BEFORE INSERT ON cj_used FOR EACH ROW EXECUTE FUNCTION cj_meddle();
SET client_min_messages = warning;
CALL zdm.backfill('cj');
RESET client_min_messages;
SELECT backfill, rows_done, conflicts FROM zdm.status() WHERE migration = 'cj';
SELECT voucher_id, user_id FROM cj_used ORDER BY voucher_id;
SELECT zdm.abort('cj');

DROP TABLE jc_item, jc_used, jl_item, jl_used, cj_voucher;
DROP FUNCTION jc_meddle(), cj_meddle();
