-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
DROP TABLE IF EXISTS app_user, voucher, used_voucher, card, card_owner CASCADE;
RESET client_min_messages;
-- The reverse of the voucher case: voucher.user_id (1:n) becomes a join table
-- used_voucher(voucher_id, user_id), the path to n:m. App v1 writes the
-- column, app v2 the join table; both see every redemption.
CREATE ROLE zdm_c2j_app;
CREATE TABLE app_user (id int PRIMARY KEY);
CREATE TABLE voucher (id int PRIMARY KEY, code text NOT NULL,
                      user_id int REFERENCES app_user (id) ON DELETE SET NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON voucher TO zdm_c2j_app;
INSERT INTO app_user SELECT generate_series(1, 10);
INSERT INTO voucher SELECT i, 'V' || i, CASE WHEN i % 3 <> 0 THEN (i % 10) + 1 END
FROM generate_series(1, 30) i;

SELECT zdm.begin_column_to_join('voucher', 'id', 'user_id', 'used_voucher');
\d used_voucher
-- The apps' privileges on the target are repeated on the join table.
SELECT grantee, string_agg(privilege_type, ', ' ORDER BY privilege_type)
FROM information_schema.role_table_grants WHERE table_name = 'used_voucher' AND grantee = 'zdm_c2j_app'
GROUP BY grantee;
SELECT operation, backfill FROM zdm.status();
CREATE VIEW out_of_sync AS
  (SELECT voucher_id, user_id FROM used_voucher EXCEPT SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL)
  UNION ALL
  (SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL EXCEPT SELECT voucher_id, user_id FROM used_voucher);

-- v1 (column) and v2 (join table) write side by side, before any backfill.
SET ROLE zdm_c2j_app;
UPDATE voucher SET user_id = 4 WHERE id = 3;            -- v1 redeems
UPDATE voucher SET user_id = NULL WHERE id = 1;         -- v1 un-redeems
INSERT INTO voucher VALUES (31, 'V31', 5);              -- v1 inserts a redeemed voucher
INSERT INTO used_voucher VALUES (6, 7);                 -- v2 redeems
DELETE FROM used_voucher WHERE voucher_id = 3;          -- v2 un-redeems v1's redemption
INSERT INTO used_voucher VALUES (2, 9) ON CONFLICT (voucher_id) DO UPDATE SET user_id = EXCLUDED.user_id;  -- v2 reassigns a row not yet backfilled
DELETE FROM voucher WHERE id = 4;                       -- v1 deletes a redeemed voucher
RESET ROLE;
SELECT id, user_id FROM voucher WHERE id IN (1, 2, 3, 4, 6, 31) ORDER BY id;
SELECT voucher_id, user_id FROM used_voucher ORDER BY voucher_id;

CALL zdm.backfill(batch_size => 8);
SELECT backfill, rows_done, conflicts FROM zdm.status();
SELECT count(*) AS out_of_sync FROM out_of_sync;

-- After backfill: a user deleted clears v1's column and v2's rows alike.
DELETE FROM app_user WHERE id = 3;
SELECT count(*) AS out_of_sync FROM out_of_sync;
-- v2 may not give one voucher two users while the column exists.
INSERT INTO used_voucher VALUES (6, 8);

DROP VIEW out_of_sync;
SELECT zdm.finish();
\d voucher
\d used_voucher
-- n:m from now on: a voucher may be shared.
INSERT INTO used_voucher VALUES (6, 8);
SELECT count(*) FROM used_voucher WHERE voucher_id = 6;

-- abort drops the join table and leaves the column as it was.
CREATE TABLE card (id int PRIMARY KEY, owner_id int);
INSERT INTO card VALUES (1, 10), (2, NULL), (3, 30);
SELECT zdm.begin_column_to_join('card', 'id', 'owner_id', 'card_owner', join_key => 'card', new_column => 'owner', migration => 'c2j_abort');
\d card_owner
INSERT INTO card_owner VALUES (2, 20);
CALL zdm.backfill('c2j_abort');
SELECT * FROM card_owner ORDER BY card;
SELECT zdm.abort('c2j_abort');
SELECT to_regclass('card_owner') AS join_table_after_abort;
SELECT * FROM card ORDER BY id;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'card'::regclass AND NOT tgisinternal;

-- Bad input.
SELECT zdm.begin_column_to_join('card', 'id', 'owner_id', 'voucher');             -- name taken
SELECT zdm.begin_column_to_join('card', 'id', 'nope', 'x');
SELECT zdm.begin_column_to_join('card', 'nope', 'owner_id', 'x');
SELECT zdm.begin_column_to_join('card', 'owner_id', 'owner_id', 'x');
SELECT zdm.begin_column_to_join('card', 'owner_id', 'id', 'x');                   -- key not unique
SELECT zdm.begin_column_to_join('card', 'id', 'owner_id', NULL);
SELECT zdm.begin_column_to_join('card', 'id', 'owner_id', 'x', join_key => 'k', new_column => 'k');
SELECT to_regclass('x') AS nothing_created;
DROP OWNED BY zdm_c2j_app;
DROP ROLE zdm_c2j_app;
