-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- zdm's triggers fire ALWAYS: writes made under session_replication_role =
-- replica (a bulk load, a logical-replication apply worker) stay in sync.

-- rename
CREATE TABLE r (id int PRIMARY KEY, v int);
INSERT INTO r VALUES (1, 1), (2, 2);
SELECT zdm.begin_rename('r', 'v', 'w', migration => 'r');
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'r'::regclass;
SET client_min_messages = warning;
CALL zdm.backfill('r');
RESET client_min_messages;
SET session_replication_role = replica;
UPDATE r SET v = 100 WHERE id = 1;
INSERT INTO r (id, v) VALUES (3, 300);
INSERT INTO r (id, w) VALUES (4, 400);
RESET session_replication_role;
SELECT * FROM r ORDER BY id;
SELECT zdm.finish('r');
SELECT * FROM r ORDER BY id;
DROP TABLE r;

-- alter_type
CREATE TABLE s (id int PRIMARY KEY, n int);
INSERT INTO s VALUES (1, 1), (2, 2);
SELECT zdm.begin_alter_type('s', 'n', 'bigint', migration => 's');
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 's'::regclass;
SET client_min_messages = warning;
CALL zdm.backfill('s');
RESET client_min_messages;
SET session_replication_role = replica;
UPDATE s SET n = 100 WHERE id = 1;
INSERT INTO s (id, n) VALUES (3, 300);
INSERT INTO s (id, n_new) VALUES (4, 400);
RESET session_replication_role;
SELECT * FROM s ORDER BY id;
SELECT zdm.finish('s');
SELECT * FROM s ORDER BY id;
DROP TABLE s;

-- join_to_column: every trigger of both tables fires always.
DROP TABLE IF EXISTS rr_used_voucher, rr_voucher;
CREATE TABLE rr_voucher (id int PRIMARY KEY, code text);
CREATE TABLE rr_used_voucher (voucher_id int PRIMARY KEY REFERENCES rr_voucher, user_id int NOT NULL);
INSERT INTO rr_voucher VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO rr_used_voucher VALUES (1, 10);
SELECT zdm.begin_join_to_column('rr_used_voucher', 'voucher_id', 'rr_voucher', 'id', 'user_id',
                                migration => 'v');
SELECT c.relname, regexp_replace(t.tgname, '_[0-9]+$', '_<id>') AS tgname, t.tgenabled
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relname IN ('rr_voucher', 'rr_used_voucher') AND NOT t.tgisinternal ORDER BY 1, 2;
SET client_min_messages = warning;
CALL zdm.backfill('v');
RESET client_min_messages;
-- session_replication_role = replica also skips foreign-key checks; these
-- writes keep to the keys that exist.
SET session_replication_role = replica;
INSERT INTO rr_used_voucher VALUES (2, 20);
UPDATE rr_voucher SET user_id = 30 WHERE id = 3;
DELETE FROM rr_used_voucher WHERE voucher_id = 1;
RESET session_replication_role;
SELECT * FROM rr_voucher ORDER BY id;
SELECT * FROM rr_used_voucher ORDER BY voucher_id;
SELECT zdm.finish('v');
SELECT * FROM rr_voucher ORDER BY id;
DROP TABLE rr_voucher;
