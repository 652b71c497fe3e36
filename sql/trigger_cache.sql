-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- The triggers' per-backend caches drop the entry of a table whose trigger
-- went away (finish, abort, DROP TABLE), at the end of the transaction that
-- saw it go: a pooled backend serving many migrations does not grow.
-- zdm.trigger_cache_size() counts this backend's entries.
SELECT * FROM zdm.trigger_cache_size();

SELECT format('CREATE TABLE tc_%s (id int PRIMARY KEY, a text)', i) FROM generate_series(1, 12) i
\gexec
SELECT format('SELECT zdm.begin_rename(%L, %L, %L, migration => %L)', 'tc_' || i, 'a', 'b',
              'tc_' || i) FROM generate_series(1, 12) i
\gexec
SELECT format('INSERT INTO tc_%s VALUES (1, %L)', i, 'x') FROM generate_series(1, 12) i
\gexec
SELECT * FROM zdm.trigger_cache_size();
SELECT format('CALL zdm.backfill(%L)', 'tc_' || i) FROM generate_series(1, 6) i
\gexec
SELECT format('SELECT zdm.finish(%L)', 'tc_' || i) FROM generate_series(1, 6) i
\gexec
SELECT * FROM zdm.trigger_cache_size();
SELECT format('SELECT zdm.abort(%L)', 'tc_' || i) FROM generate_series(7, 9) i
\gexec
SELECT * FROM zdm.trigger_cache_size();
-- A table dropped with its migration open (abort then finds nothing to undo).
DROP TABLE tc_10, tc_11, tc_12;
SELECT * FROM zdm.trigger_cache_size();
SELECT format('SELECT zdm.abort(%L)', 'tc_' || i) FROM generate_series(10, 12) i
\gexec
-- A finished table's plan is built again, for a new migration, and works.
SELECT zdm.begin_rename('tc_1', 'b', 'c', migration => 'again');
INSERT INTO tc_1 VALUES (2, 'y');
SELECT * FROM tc_1 ORDER BY id;
SELECT * FROM zdm.trigger_cache_size();
SELECT zdm.abort('again');
SELECT * FROM zdm.trigger_cache_size();
SELECT format('DROP TABLE tc_%s', i) FROM generate_series(1, 9) i
\gexec

-- Join operations: the entries of both tables' triggers go at finish and
-- abort, and with a dropped join table.
CREATE TABLE tc_voucher (id int PRIMARY KEY);
CREATE TABLE tc_used (voucher_id int PRIMARY KEY REFERENCES tc_voucher, user_id int NOT NULL);
CREATE TABLE tc_badge (id int PRIMARY KEY);
CREATE TABLE tc_earned (badge_id int PRIMARY KEY REFERENCES tc_badge, user_id int NOT NULL);
INSERT INTO tc_voucher SELECT generate_series(1, 3);
INSERT INTO tc_badge SELECT generate_series(1, 3);
SELECT zdm.begin_join_to_column('tc_used', 'voucher_id', 'tc_voucher', 'id', 'user_id',
                                migration => 'tc_vouchers');
SELECT zdm.begin_join_to_column('tc_earned', 'badge_id', 'tc_badge', 'id', 'user_id',
                                migration => 'tc_badges');
INSERT INTO tc_used VALUES (1, 10);
UPDATE tc_voucher SET user_id = 20 WHERE id = 2;
INSERT INTO tc_earned VALUES (1, 10);
UPDATE tc_badge SET user_id = 20 WHERE id = 2;
SELECT * FROM zdm.trigger_cache_size();
CALL zdm.backfill('tc_vouchers');
SELECT zdm.finish('tc_vouchers');
SELECT * FROM zdm.trigger_cache_size();
SELECT zdm.abort('tc_badges');
SELECT * FROM zdm.trigger_cache_size();
DROP TABLE tc_voucher, tc_earned, tc_badge;

-- An entry rebuilt while its own statement runs: redeeming voucher 1 sets
-- tc_voucher.user_id (the trigger's statement), whose user trigger ANALYZEs
-- the table (an invalidation) and redeems voucher 2 through the join table,
-- so the same join-sync trigger fires again and rebuilds its entry. The
-- statement still running keeps its prepared plan until the transaction ends.
CREATE TABLE tc_voucher (id int PRIMARY KEY);
CREATE TABLE tc_used (voucher_id int PRIMARY KEY REFERENCES tc_voucher, user_id int NOT NULL);
INSERT INTO tc_voucher SELECT generate_series(1, 3);
SELECT zdm.begin_join_to_column('tc_used', 'voucher_id', 'tc_voucher', 'id', 'user_id',
                                migration => 'tc_nested');
CREATE FUNCTION tc_bundle() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
  ANALYZE tc_voucher;
  INSERT INTO tc_used VALUES (2, NEW.user_id);
  RETURN NULL;
END $$;
CREATE TRIGGER tc_bundle AFTER UPDATE OF user_id ON tc_voucher
  FOR EACH ROW WHEN (NEW.id = 1 AND NEW.user_id IS NOT NULL) EXECUTE FUNCTION tc_bundle();
INSERT INTO tc_used VALUES (1, 10);
INSERT INTO tc_used VALUES (3, 30);
SELECT * FROM tc_voucher ORDER BY id;
SELECT * FROM tc_used ORDER BY voucher_id;
DROP TRIGGER tc_bundle ON tc_voucher;
DROP FUNCTION tc_bundle();
SELECT zdm.abort('tc_nested');
SELECT * FROM zdm.trigger_cache_size();
DROP TABLE tc_used, tc_voucher;
