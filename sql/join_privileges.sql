-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
DROP TABLE IF EXISTS jp_voucher, jp_used_voucher, jp_card, jp_card_holder, jp_wide,
  jp_used_wide, jp_person, jp_sync_log CASCADE;
DROP ROLE IF EXISTS zdm_jp_owner, zdm_jp_v1, zdm_jp_v2, zdm_jp_nobody;
RESET client_min_messages;
-- Whose rights the join-sync trigger uses (#12 item 6). The writer's own
-- statement is checked as usual; the mirrored write to the other shape runs as
-- that table's owner, as a foreign key's actions do; zdm's catalog is read as
-- its owner. The tables belong to a plain role, not a superuser.
CREATE ROLE zdm_jp_owner;
CREATE ROLE zdm_jp_v1;      -- the old app: writes the join table, reads the target
CREATE ROLE zdm_jp_v2;      -- the new app: writes the target, reads the join table
CREATE ROLE zdm_jp_nobody;  -- may read both, write neither
GRANT CREATE ON SCHEMA public TO zdm_jp_owner;
SET ROLE zdm_jp_owner;
CREATE TABLE jp_voucher (id int PRIMARY KEY, code text NOT NULL);
CREATE TABLE jp_used_voucher (user_id int NOT NULL, voucher_id int NOT NULL REFERENCES jp_voucher (id),
                              PRIMARY KEY (user_id, voucher_id), UNIQUE (voucher_id));
INSERT INTO jp_voucher SELECT i, 'V' || i FROM generate_series(1, 20) i;
INSERT INTO jp_used_voucher SELECT i, i FROM generate_series(1, 3) i;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON jp_used_voucher TO zdm_jp_v1;
GRANT SELECT ON jp_voucher TO zdm_jp_v1;
GRANT SELECT, INSERT, UPDATE, DELETE ON jp_voucher TO zdm_jp_v2;
GRANT SELECT ON jp_used_voucher TO zdm_jp_v2;
GRANT SELECT ON jp_voucher, jp_used_voucher TO zdm_jp_nobody;
SELECT zdm.begin_join_to_column('jp_used_voucher', 'voucher_id', 'jp_voucher', 'id', 'user_id',
                                migration => 'jp_redeem');
CALL zdm.backfill('jp_redeem');
-- A user trigger on the target records who runs the statements that reach it.
CREATE TABLE jp_sync_log (who name, op text, id int);
CREATE FUNCTION jp_log() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO public.jp_sync_log VALUES (current_user, TG_OP, COALESCE(NEW.id, OLD.id)); RETURN NULL; END $$;
CREATE TRIGGER jp_log AFTER INSERT OR UPDATE OR DELETE ON jp_voucher FOR EACH ROW EXECUTE FUNCTION jp_log();
GRANT INSERT ON jp_sync_log TO zdm_jp_v2;
RESET ROLE;
CREATE VIEW jp_out_of_sync AS
  (SELECT voucher_id, user_id FROM jp_used_voucher
   EXCEPT SELECT id, user_id FROM jp_voucher WHERE user_id IS NOT NULL)
  UNION ALL
  (SELECT id, user_id FROM jp_voucher WHERE user_id IS NOT NULL
   EXCEPT SELECT voucher_id, user_id FROM jp_used_voucher);

-- The old app (INSERT/UPDATE/DELETE/TRUNCATE on the join table, only SELECT
-- on the target) keeps working: each write reaches the column.
SET ROLE zdm_jp_v1;
INSERT INTO jp_used_voucher VALUES (4, 4), (5, 5);
DELETE FROM jp_used_voucher WHERE voucher_id = 1;
UPDATE jp_used_voucher SET user_id = 9 WHERE voucher_id = 2;
UPDATE jp_used_voucher SET voucher_id = 6 WHERE voucher_id = 3;
RESET ROLE;
SELECT id, user_id FROM jp_voucher WHERE id <= 6 ORDER BY id;
SELECT count(*) AS out_of_sync FROM jp_out_of_sync;
-- The target's own trigger ran as the target's owner, as under a foreign key's
-- ON DELETE SET NULL.
SELECT who, op, id FROM jp_sync_log ORDER BY id, op;
-- Its own statement is still checked: the old app cannot write the column.
SET ROLE zdm_jp_v1;
UPDATE jp_voucher SET user_id = 1 WHERE id = 7;
RESET ROLE;

-- The new app (writes on the target, only SELECT on the join table): each
-- write reaches the join table, deletes included.
SET ROLE zdm_jp_v2;
UPDATE jp_voucher SET user_id = 10 WHERE id = 10;         -- redeems
UPDATE jp_voucher SET user_id = 11 WHERE id = 4;          -- reassigns
UPDATE jp_voucher SET user_id = NULL WHERE id = 5;        -- un-redeems
INSERT INTO jp_voucher (id, code, user_id) VALUES (21, 'V21', 12);
UPDATE jp_voucher SET id = 22 WHERE id = 21;              -- moves its key
UPDATE jp_voucher SET user_id = 13 WHERE id = 11;
DELETE FROM jp_voucher WHERE id = 11;                     -- deletes a redeemed voucher
RESET ROLE;
SELECT voucher_id, user_id FROM jp_used_voucher ORDER BY voucher_id;
SELECT count(*) AS out_of_sync FROM jp_out_of_sync;
-- And the new app cannot write the join table itself.
SET ROLE zdm_jp_v2;
INSERT INTO jp_used_voucher VALUES (14, 14);
RESET ROLE;

-- No escalation: a role that may write neither table gets PostgreSQL's own
-- error for the table it writes, whichever shape.
SET ROLE zdm_jp_nobody;
INSERT INTO jp_used_voucher VALUES (15, 15);
DELETE FROM jp_used_voucher WHERE voucher_id = 2;
UPDATE jp_voucher SET user_id = 15 WHERE id = 15;
DELETE FROM jp_voucher WHERE id = 2;
RESET ROLE;
SELECT count(*) AS out_of_sync FROM jp_out_of_sync;

-- Row-level security on the target does not hide the row the sync must reach
-- (as the writer, the sync's UPDATE would find no row and change nothing,
-- silently): enabled (the old app, granted UPDATE here, has no policy at all)
-- and forced on the owner (whose policy sees no row).
ALTER TABLE jp_voucher ENABLE ROW LEVEL SECURITY;
ALTER TABLE jp_voucher FORCE ROW LEVEL SECURITY;
CREATE POLICY jp_none ON jp_voucher USING (false);
GRANT UPDATE ON jp_voucher TO zdm_jp_v1;
SET ROLE zdm_jp_v1;
INSERT INTO jp_used_voucher VALUES (16, 16);
DELETE FROM jp_used_voucher WHERE voucher_id = 4;
TRUNCATE jp_used_voucher;
INSERT INTO jp_used_voucher VALUES (17, 17);
RESET ROLE;
REVOKE UPDATE ON jp_voucher FROM zdm_jp_v1;
ALTER TABLE jp_voucher NO FORCE ROW LEVEL SECURITY;
ALTER TABLE jp_voucher DISABLE ROW LEVEL SECURITY;
DROP POLICY jp_none ON jp_voucher;
SELECT id, user_id FROM jp_voucher WHERE user_id IS NOT NULL ORDER BY id;
SELECT count(*) AS out_of_sync FROM jp_out_of_sync;

-- The same for column_to_join (the target is the old shape, the join table
-- zdm creates the new one; its grants follow the target's, so they are set
-- apart here by hand).
SET ROLE zdm_jp_owner;
CREATE TABLE jp_card (id int PRIMARY KEY, holder int);
INSERT INTO jp_card SELECT i, CASE WHEN i <= 3 THEN 100 + i END FROM generate_series(1, 10) i;
SELECT zdm.begin_column_to_join('jp_card', 'id', 'holder', 'jp_card_holder', 'card_id',
                                migration => 'jp_holders');
CALL zdm.backfill('jp_holders');
REVOKE ALL ON jp_card, jp_card_holder FROM zdm_jp_v1, zdm_jp_v2;
GRANT SELECT, UPDATE, INSERT, DELETE ON jp_card TO zdm_jp_v1;
GRANT SELECT ON jp_card_holder TO zdm_jp_v1;
GRANT SELECT ON jp_card TO zdm_jp_v2;
GRANT SELECT, INSERT, UPDATE, DELETE ON jp_card_holder TO zdm_jp_v2;
RESET ROLE;
SET ROLE zdm_jp_v1;       -- the old app writes the column
UPDATE jp_card SET holder = 104 WHERE id = 4;
UPDATE jp_card SET holder = NULL WHERE id = 1;
DELETE FROM jp_card WHERE id = 2;
RESET ROLE;
SET ROLE zdm_jp_v2;       -- the new app writes the join table
INSERT INTO jp_card_holder VALUES (5, 105);
DELETE FROM jp_card_holder WHERE card_id = 3;
RESET ROLE;
SELECT id, holder FROM jp_card ORDER BY id;
SELECT card_id, holder FROM jp_card_holder ORDER BY card_id;

-- The lock a join-table INSERT takes on the target row goes through SQL
-- (SELECT ... FOR NO KEY UPDATE) when the key types differ; it runs as the
-- target's owner too.
SET ROLE zdm_jp_owner;
CREATE TABLE jp_wide (id bigint PRIMARY KEY);
CREATE TABLE jp_used_wide (k int NOT NULL UNIQUE, v int NOT NULL);
INSERT INTO jp_wide SELECT generate_series(1, 5);
SELECT zdm.begin_join_to_column('jp_used_wide', 'k', 'jp_wide', 'id', 'v', migration => 'jp_wide');
GRANT SELECT, INSERT, DELETE ON jp_used_wide TO zdm_jp_v1;
GRANT SELECT ON jp_wide TO zdm_jp_v1;
RESET ROLE;
SET ROLE zdm_jp_v1;
INSERT INTO jp_used_wide VALUES (1, 10), (2, 20);
DELETE FROM jp_used_wide WHERE k = 2;
RESET ROLE;
SELECT id, v FROM jp_wide ORDER BY id;

-- A DBA revokes zdm's schema and catalog from PUBLIC: the applications'
-- writes go on, both the join sync's and the dual-write trigger's (a fresh
-- session, so that the triggers read the catalog again).
SET ROLE zdm_jp_owner;
CREATE TABLE jp_person (id int PRIMARY KEY, last_name text);
GRANT SELECT, INSERT, UPDATE ON jp_person TO zdm_jp_v1, zdm_jp_v2;
SELECT zdm.begin_rename('jp_person', 'last_name', 'surname', migration => 'jp_rename');
RESET ROLE;
REVOKE USAGE ON SCHEMA zdm FROM PUBLIC;
REVOKE SELECT ON zdm.migrations, zdm.operations, zdm.ddl_log FROM PUBLIC;
\c
SET ROLE zdm_jp_v1;
SELECT count(*) FROM zdm.operations;   -- the writer really cannot read it
INSERT INTO jp_used_voucher VALUES (18, 18);
DELETE FROM jp_used_voucher WHERE voucher_id = 17;
INSERT INTO jp_person VALUES (1, 'Lovelace');
UPDATE jp_card SET holder = 106 WHERE id = 6;
RESET ROLE;
SET ROLE zdm_jp_v2;
UPDATE jp_voucher SET user_id = 19 WHERE id = 19;
UPDATE jp_person SET surname = 'Hopper' WHERE id = 1;
INSERT INTO jp_person (id, surname) VALUES (2, 'Noether');
DELETE FROM jp_card_holder WHERE card_id = 4;
RESET ROLE;
SELECT id, user_id FROM jp_voucher WHERE user_id IS NOT NULL ORDER BY id;
SELECT count(*) AS out_of_sync FROM jp_out_of_sync;
SELECT * FROM jp_person ORDER BY id;
SELECT id, holder FROM jp_card WHERE id IN (4, 6) ORDER BY id;
SELECT card_id, holder FROM jp_card_holder WHERE card_id IN (4, 6) ORDER BY card_id;
GRANT USAGE ON SCHEMA zdm TO PUBLIC;
GRANT SELECT ON zdm.migrations, zdm.operations, zdm.ddl_log TO PUBLIC;

-- The migrations finish.
DROP VIEW jp_out_of_sync;
SET ROLE zdm_jp_owner;
SELECT zdm.finish('jp_redeem');
CALL zdm.backfill('jp_rename');
SELECT zdm.finish('jp_rename');
SELECT zdm.abort('jp_holders');
SELECT zdm.abort('jp_wide');
RESET ROLE;
SET client_min_messages = warning;
DROP TABLE jp_voucher, jp_card, jp_wide, jp_used_wide, jp_person, jp_sync_log CASCADE;
DROP FUNCTION jp_log();
REVOKE CREATE ON SCHEMA public FROM zdm_jp_owner;
DROP ROLE zdm_jp_owner, zdm_jp_v1, zdm_jp_v2, zdm_jp_nobody;
