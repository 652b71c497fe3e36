-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- The backfill's batch is an old-side write for its own migration on its own
-- table only. A user trigger's write to another table, and another migration
-- open on the same table, follow the ordinary rules.

-- An audit trigger on a writes the new side of hist, itself mid-rename.
CREATE TABLE a (id int PRIMARY KEY, v text);
INSERT INTO a SELECT i, 'v' || i FROM generate_series(1, 3) i;
CREATE TABLE hist (id serial PRIMARY KEY, label text);
SELECT zdm.begin_rename('hist', 'label', 'title', migration => 'hist');
CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO hist (title) VALUES ('a ' || NEW.id || ' updated'); RETURN NEW; END $$;
CREATE TRIGGER audit AFTER UPDATE ON a FOR EACH ROW EXECUTE FUNCTION audit();
SELECT zdm.begin_rename('a', 'v', 'w', migration => 'a');
CALL zdm.backfill('a');
SELECT id, label, title FROM hist ORDER BY id;
SELECT zdm.finish('a');
SELECT zdm.abort('hist');
DROP TABLE a, hist;
DROP FUNCTION audit();

-- Two migrations on one table: backfilling the first does not recompute the
-- alter_type's new column from its old one (here up(down(x)) is not x).
CREATE TABLE b (id int PRIMARY KEY, v text, code text);
INSERT INTO b VALUES (1, 'v1', 'abc');
SELECT zdm.begin_alter_type('b', 'code', 'varchar(20)', up => 'lower(code)', down => 'code_new',
                            migration => 'b2');
UPDATE b SET code_new = 'NEW' WHERE id = 1;
SELECT zdm.begin_add_column('b', 'w', 'text', up => 'upper(v)', migration => 'b1');
SELECT * FROM b;
CALL zdm.backfill('b1');
SELECT * FROM b;
SELECT zdm.abort('b1');
SELECT zdm.abort('b2');
DROP TABLE b;

-- The same for join operations: the backfill's copy (and the join-sync
-- trigger's own statement) keeps its own operation on the table it writes
-- from echoing back, and nothing else. Redeeming a voucher earns a badge: a
-- user trigger on sc_voucher inserts into sc_earned_badge, the join table of
-- a second join_to_column, whose sync must still set sc_badge.user_id.
CREATE TABLE sc_voucher (id int PRIMARY KEY);
CREATE TABLE sc_used_voucher (voucher_id int PRIMARY KEY REFERENCES sc_voucher,
                              user_id int NOT NULL);
CREATE TABLE sc_badge (id int PRIMARY KEY);
CREATE TABLE sc_earned_badge (badge_id int PRIMARY KEY REFERENCES sc_badge, user_id int NOT NULL);
INSERT INTO sc_voucher SELECT generate_series(1, 4);
INSERT INTO sc_badge SELECT generate_series(1, 4);
INSERT INTO sc_used_voucher VALUES (1, 10), (2, 20);
SELECT zdm.begin_join_to_column('sc_used_voucher', 'voucher_id', 'sc_voucher', 'id', 'user_id',
                                migration => 'vouchers');
SELECT zdm.begin_join_to_column('sc_earned_badge', 'badge_id', 'sc_badge', 'id', 'user_id',
                                migration => 'badges');
CREATE FUNCTION earn_badge() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
  INSERT INTO sc_earned_badge VALUES (NEW.id, NEW.user_id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER earn_badge AFTER UPDATE OF user_id ON sc_voucher
  FOR EACH ROW WHEN (NEW.user_id IS NOT NULL) EXECUTE FUNCTION earn_badge();
-- An echo of vouchers' own copy back into sc_used_voucher would show here.
CREATE FUNCTION echo() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE NOTICE 'sc_used_voucher % written again', NEW.voucher_id; RETURN NULL; END $$;
CREATE TRIGGER echo AFTER UPDATE ON sc_used_voucher FOR EACH ROW EXECUTE FUNCTION echo();
-- The backfill of vouchers earns badges 1 and 2; their sync sets
-- sc_badge.user_id.
CALL zdm.backfill('vouchers');
-- The old app redeems voucher 3: vouchers' trigger sets sc_voucher.user_id,
-- which earns badge 3, whose sync sets sc_badge.user_id.
INSERT INTO sc_used_voucher VALUES (3, 30);
SELECT * FROM sc_voucher ORDER BY id;
SELECT * FROM sc_earned_badge ORDER BY badge_id;
SELECT * FROM sc_badge ORDER BY id;
CALL zdm.backfill('badges');
SELECT zdm.finish('vouchers');
SELECT zdm.finish('badges');
SELECT * FROM sc_badge ORDER BY id;
DROP TABLE sc_voucher, sc_badge;
DROP FUNCTION earn_badge(), echo();
