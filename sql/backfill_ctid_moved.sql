-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- A table with no key is walked by ranges of blocks. The old app's UPDATE of a
-- column no conversion reads leaves a row the walk has not reached unconverted
-- (README: the old app keeps working on legacy values up cannot convert), and
-- its new version lands wherever there is room: past the blocks the walk
-- counted at its start, or behind its position. The walk must still convert
-- every row before it says done: a lone add_column has no row check at
-- finish, so a missed row would keep NULL for good.
CREATE TABLE bcm_bomb (armed boolean);
INSERT INTO bcm_bomb VALUES (true);
CREATE FUNCTION bcm_bomb() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id = 1000 AND (SELECT armed FROM bcm_bomb) THEN RAISE EXCEPTION 'boom at row %', NEW.id; END IF;
  RETURN NEW;
END $$;

-- 1. Rows ahead of the walk move past its last block.
CREATE TABLE bcm (id int, v text, other int) WITH (fillfactor = 100, autovacuum_enabled = false);
INSERT INTO bcm SELECT g, 'v' || g, 0 FROM generate_series(1, 2000) g;
ANALYZE bcm;
CREATE TRIGGER bcm_bomb BEFORE UPDATE ON bcm FOR EACH ROW EXECUTE FUNCTION bcm_bomb();
SELECT zdm.begin_add_column('bcm', 'v_up', 'text', up => 'upper(v)', migration => 'bcm');
CALL zdm.backfill('bcm', batch_size => 100);
SELECT backfill_key IS NULL AS by_blocks FROM zdm.operations WHERE tbl = 'bcm'::regclass;
UPDATE bcm_bomb SET armed = false;
UPDATE bcm SET other = 1 WHERE id > 1000;                          -- old app
SELECT count(*) > 0 AS some_moved_past_the_end FROM bcm
 WHERE (ctid::text::point)[0] >= (SELECT backfill_upper[1]::int FROM zdm.operations
                                   WHERE tbl = 'bcm'::regclass);
CALL zdm.backfill('bcm', batch_size => 100);
SELECT backfill FROM zdm.status() WHERE migration = 'bcm';
SELECT zdm.finish('bcm');
(SELECT id, upper(v) FROM bcm EXCEPT SELECT id, v_up FROM bcm) UNION ALL
(SELECT id, v_up FROM bcm EXCEPT SELECT id, upper(v) FROM bcm) ORDER BY 1, 2 LIMIT 5;

-- 2. Rows ahead of the walk move behind it, into room VACUUM freed there.
UPDATE bcm_bomb SET armed = true;
CREATE TABLE bcm2 (id int, v text, other int) WITH (fillfactor = 100, autovacuum_enabled = false);
INSERT INTO bcm2 SELECT g, 'v' || g, 0 FROM generate_series(1, 2000) g;
ANALYZE bcm2;
CREATE TRIGGER bcm_bomb BEFORE UPDATE ON bcm2 FOR EACH ROW EXECUTE FUNCTION bcm_bomb();
SELECT zdm.begin_alter_type('bcm2', 'v', 'varchar(20)', up => 'upper(v)', down => 'lower(v_new)',
                            migration => 'bcm2');
CALL zdm.backfill('bcm2', batch_size => 100);
UPDATE bcm_bomb SET armed = false;
DELETE FROM bcm2 WHERE id <= 300;                                  -- room behind the walk
VACUUM bcm2;
UPDATE bcm2 SET other = 1 WHERE id > 1500;                         -- old app
CALL zdm.backfill('bcm2', batch_size => 100);
SELECT backfill FROM zdm.status() WHERE migration = 'bcm2';
SELECT zdm.finish('bcm2');
SELECT count(*) AS rows, count(*) FILTER (WHERE v = upper('v' || id)) AS converted FROM bcm2;

DROP TABLE bcm, bcm2, bcm_bomb;
DROP FUNCTION bcm_bomb();
