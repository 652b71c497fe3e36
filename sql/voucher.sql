-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
DROP TABLE IF EXISTS app_user, voucher, used_voucher, v2, uv2, v3, uv3, t_target, t_join CASCADE;
RESET client_min_messages;
-- The voucher case: vouchers are redeemed through a join table
-- used_voucher(user_id, voucher_id), one user per voucher; the schema becomes a
-- column voucher.user_id. App v1 writes used_voucher, app v2 voucher.user_id,
-- deletes included; each sees every redemption.
CREATE TABLE app_user (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE voucher (id int PRIMARY KEY, code text NOT NULL);
CREATE TABLE used_voucher (
    user_id int NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    voucher_id int NOT NULL REFERENCES voucher (id),
    PRIMARY KEY (user_id, voucher_id),
    UNIQUE (voucher_id));
INSERT INTO app_user SELECT i, 'user' || i FROM generate_series(1, 10) i;
INSERT INTO voucher SELECT i, 'V' || i FROM generate_series(1, 30) i;
INSERT INTO used_voucher SELECT (i % 10) + 1, i FROM generate_series(1, 20) i;

SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id');
\d voucher
\d used_voucher
SELECT operation, backfill, conflicts FROM zdm.status();
-- Both shapes hold the same map when (voucher_id, user_id) pairs agree both ways.
CREATE VIEW out_of_sync AS
  (SELECT voucher_id, user_id FROM used_voucher EXCEPT SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL)
  UNION ALL
  (SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL EXCEPT SELECT voucher_id, user_id FROM used_voucher);

-- v1 redeems and un-redeems through the join table, v2 through the column,
-- before any backfill.
INSERT INTO used_voucher VALUES (3, 21);                 -- v1 redeems
DELETE FROM used_voucher WHERE voucher_id = 1;           -- v1 un-redeems
UPDATE used_voucher SET user_id = 9 WHERE voucher_id = 2;   -- v1 reassigns
UPDATE used_voucher SET voucher_id = 22 WHERE voucher_id = 3;  -- v1 moves to another voucher
UPDATE voucher SET user_id = 5 WHERE id = 23;           -- v2 redeems
UPDATE voucher SET user_id = NULL WHERE id = 21;        -- v2 un-redeems v1's redemption
UPDATE voucher SET user_id = 7 WHERE id = 4;            -- v2 reassigns a row not yet backfilled
INSERT INTO voucher (id, code, user_id) VALUES (31, 'V31', 2);   -- v2 inserts a redeemed voucher
DELETE FROM voucher WHERE id = 5;                       -- v2 deletes a redeemed voucher (FK from v1's table)
UPDATE voucher SET code = 'renamed' WHERE id = 6;       -- neither side's columns
SELECT voucher_id, user_id FROM used_voucher WHERE voucher_id IN (1, 2, 3, 4, 5, 21, 22, 23, 31) ORDER BY 1;
SELECT id, user_id FROM voucher WHERE id IN (1, 2, 3, 4, 5, 21, 22, 23, 31) ORDER BY 1;

-- The backfill copies the rest, in batches.
CALL zdm.backfill(batch_size => 7);
SELECT operation, backfill, rows_done, conflicts FROM zdm.status();
SELECT count(*) AS out_of_sync FROM out_of_sync;
SELECT count(*) AS redeemed FROM voucher WHERE user_id IS NOT NULL;

-- No ping-pong: a v1 write reaches voucher once and never echoes back into
-- used_voucher (and the other way round). A user trigger counts row events.
CREATE TABLE row_events (tbl text, op text);
CREATE FUNCTION count_event() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO row_events VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$;
CREATE TRIGGER count_uv AFTER INSERT OR UPDATE OR DELETE ON used_voucher FOR EACH ROW EXECUTE FUNCTION count_event();
CREATE TRIGGER count_v AFTER INSERT OR UPDATE OR DELETE ON voucher FOR EACH ROW EXECUTE FUNCTION count_event();
INSERT INTO used_voucher VALUES (8, 24);          -- v1
UPDATE voucher SET user_id = 9 WHERE id = 25;     -- v2
SELECT tbl, op, count(*) FROM row_events GROUP BY 1, 2 ORDER BY 1, 2;
DROP TRIGGER count_uv ON used_voucher;
DROP TRIGGER count_v ON voucher;
DROP TABLE row_events;

-- After backfill, both apps go on.
DELETE FROM used_voucher WHERE voucher_id = 10;
UPDATE voucher SET user_id = 1 WHERE id = 11;
TRUNCATE used_voucher CASCADE;     -- v1 clears every redemption
SELECT count(*) AS redeemed_after_truncate FROM voucher WHERE user_id IS NOT NULL;
INSERT INTO used_voucher SELECT (i % 10) + 1, i FROM generate_series(6, 17) i;
DELETE FROM app_user WHERE id = 4;   -- cascades to v1's rows: the column is cleared
SELECT count(*) AS out_of_sync FROM out_of_sync;

-- finish refuses while something depends on the join table.
CREATE VIEW redemptions AS SELECT * FROM used_voucher;
SELECT zdm.finish();
DROP VIEW redemptions, out_of_sync;
SELECT zdm.finish();
\d voucher
SELECT to_regclass('used_voucher') AS join_table_after_finish;
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'voucher'::regclass AND contype = 'f';
-- No zdm trigger is left.
SELECT tgname FROM pg_trigger WHERE tgrelid = 'voucher'::regclass AND NOT tgisinternal;
-- The column keeps the join table's meaning: deleting a user clears it.
DELETE FROM app_user WHERE id = 2;
SELECT count(*) AS redeemed_by_user_2 FROM voucher WHERE user_id = 2;
SELECT migration, state, operation FROM zdm.status();

-- abort leaves both tables exactly as before begin.
CREATE TABLE v2 (id int PRIMARY KEY, code text);
CREATE TABLE uv2 (user_id int NOT NULL REFERENCES app_user (id), voucher_id int NOT NULL UNIQUE REFERENCES v2 (id));
INSERT INTO v2 SELECT i, 'c' || i FROM generate_series(1, 5) i;
INSERT INTO uv2 VALUES (1, 1), (3, 2);
CREATE TEMP TABLE before_begin AS
  SELECT c.relname, a.attname, a.attnum, a.atttypid::regtype AS type, a.attnotnull
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  WHERE c.relname IN ('v2', 'uv2') AND a.attnum > 0 AND NOT a.attisdropped;
SELECT zdm.begin_join_to_column('uv2', 'voucher_id', 'v2', 'id', 'user_id', 'redeemed_by', migration => 'to_abort');
INSERT INTO uv2 VALUES (5, 3);
UPDATE v2 SET redeemed_by = 5 WHERE id = 4;
CALL zdm.backfill('to_abort');
SELECT id, redeemed_by FROM v2 ORDER BY id;
SELECT zdm.abort('to_abort');
(SELECT c.relname, a.attname, a.attnum, a.atttypid::regtype, a.attnotnull
 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relname IN ('v2', 'uv2') AND a.attnum > 0 AND NOT a.attisdropped
 EXCEPT SELECT * FROM before_begin)
UNION ALL
(SELECT * FROM before_begin EXCEPT
 SELECT c.relname, a.attname, a.attnum, a.atttypid::regtype, a.attnotnull
 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relname IN ('v2', 'uv2') AND a.attnum > 0 AND NOT a.attisdropped);
SELECT tgname FROM pg_trigger WHERE tgrelid IN ('v2'::regclass, 'uv2'::regclass) AND NOT tgisinternal;
SELECT conname FROM pg_constraint WHERE conrelid = 'v2'::regclass ORDER BY 1;
-- The writes made during the window stay, in the shape that remains.
SELECT * FROM uv2 ORDER BY voucher_id;

-- finish refuses while a join row has no target (it would be lost).
CREATE TABLE v3 (id int PRIMARY KEY);
CREATE TABLE uv3 (user_id int NOT NULL, voucher_id int NOT NULL UNIQUE);   -- no foreign key
INSERT INTO v3 VALUES (1), (2);
INSERT INTO uv3 VALUES (10, 1), (20, 2), (30, 99);   -- voucher 99 does not exist
SELECT zdm.begin_join_to_column('uv3', 'voucher_id', 'v3', 'id', 'user_id', migration => 'orphans');
CALL zdm.backfill('orphans');
SELECT backfill, rows_done, conflicts FROM zdm.status() WHERE migration = 'orphans';
SELECT zdm.finish('orphans');
DELETE FROM uv3 WHERE voucher_id = 99;
SELECT zdm.finish('orphans');
SELECT * FROM v3 ORDER BY id;

-- Bad input: a clear error, and nothing changes.
CREATE TABLE t_target (id int PRIMARY KEY, k2 int, txt text);
CREATE TABLE t_join (user_id int NOT NULL, voucher_id int NOT NULL UNIQUE, maybe int, dup int, big bigint UNIQUE, label text UNIQUE);
SELECT zdm.begin_join_to_column(NULL, 'voucher_id', 't_target', 'id', 'user_id');
SELECT zdm.begin_join_to_column('t_join', NULL, 't_target', 'id', 'user_id');
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 't_target', 'id', NULL);
SELECT zdm.begin_join_to_column('t_join', 'nope', 't_target', 'id', 'user_id');
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 't_target', 'nope', 'user_id');
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 't_target', 'id', 'nope');
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 't_target', 'id', 'voucher_id');
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 't_join', 'voucher_id', 'user_id');
SELECT zdm.begin_join_to_column('t_join', 'dup', 't_target', 'id', 'user_id');           -- join_key not unique
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 't_target', 'k2', 'user_id');    -- target_key not unique
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 't_target', 'id', 'maybe');      -- value may be NULL
SELECT zdm.begin_join_to_column('t_join', 'label', 't_target', 'id', 'user_id');         -- text vs int
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 't_target', 'id', 'user_id', 'txt');   -- column exists
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 'app_user', 'id', 'user_id', 'name');
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 'pg_class', 'oid', 'user_id');
SELECT zdm.begin_join_to_column('no_such_table', 'voucher_id', 't_target', 'id', 'user_id');
-- bigint join key against an int target key compares fine.
SELECT zdm.begin_join_to_column('t_join', 'big', 't_target', 'id', 'user_id', migration => 'cross_type');
-- A second operation on columns already under migration is refused.
SELECT zdm.begin_join_to_column('t_join', 'voucher_id', 't_target', 'id', 'user_id', 'again');
SELECT zdm.begin_rename('t_join', 'user_id', 'uid');
-- A bigint join key against an int target key: the lock goes through SQL
-- (the target's index does not take a bigint), the sync as usual.
INSERT INTO t_target VALUES (1), (2);
INSERT INTO t_join (user_id, voucher_id, big) VALUES (7, 100, 1), (8, 101, 2);
UPDATE t_join SET user_id = 9 WHERE big = 2;
SELECT id, user_id FROM t_target ORDER BY id;
SELECT zdm.abort('cross_type');
SELECT count(*) AS zdm_triggers_left FROM pg_trigger WHERE tgname LIKE '0zdm%';
\d t_target
