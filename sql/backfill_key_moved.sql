-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- A walk by key, on a table whose key the application updates (a natural
-- key: no primary key, a UNIQUE NOT NULL email). The old app's UPDATE of the
-- key converts nothing when no conversion reads it (README: the old app keeps
-- working on legacy values), and moves a row the walk has not reached behind
-- its position. The walk must still convert every row before it says done: a
-- lone add_column has no row check at finish, so a missed row would keep
-- NULL for good.
CREATE TABLE bkm_bomb (armed boolean);
INSERT INTO bkm_bomb VALUES (true);
CREATE FUNCTION bkm_bomb() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.n = 50 AND (SELECT armed FROM bkm_bomb) THEN RAISE EXCEPTION 'boom at row %', NEW.n; END IF;
  RETURN NEW;
END $$;
CREATE TABLE bkm (email text NOT NULL UNIQUE, n int, v text);
INSERT INTO bkm SELECT 'm' || lpad(g::text, 3, '0'), g, 'v' || g FROM generate_series(1, 100) g;
CREATE TRIGGER bkm_bomb BEFORE UPDATE ON bkm FOR EACH ROW EXECUTE FUNCTION bkm_bomb();
SELECT zdm.begin_add_column('bkm', 'v_up', 'text', up => 'upper(v)', migration => 'bkm');
CALL zdm.backfill('bkm', batch_size => 10);
SELECT backfill_key, backfill_position FROM zdm.operations WHERE tbl = 'bkm'::regclass;
UPDATE bkm_bomb SET armed = false;
-- The old app renames the addresses of rows 61..70: they sort first now.
UPDATE bkm SET email = 'a' || email WHERE n BETWEEN 61 AND 70;
CALL zdm.backfill('bkm', batch_size => 10);
SELECT backfill FROM zdm.status() WHERE migration = 'bkm';
SELECT zdm.finish('bkm');
(SELECT n, upper(v) FROM bkm EXCEPT SELECT n, v_up FROM bkm) UNION ALL
(SELECT n, v_up FROM bkm EXCEPT SELECT n, upper(v) FROM bkm) ORDER BY 1, 2;
DROP TABLE bkm, bkm_bomb;
DROP FUNCTION bkm_bomb();
