-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- The backfill's stored position is a key of the walk's key columns. When the
-- table's key changes between two CALLs (zdm.begin_drop_constraint of the
-- primary key finished, a narrower UNIQUE built by zdm.begin_add_unique, a
-- dropped unique index), the resumed walk must not read the old position as a
-- value of the new key: it would skip rows, and a lone add_column has no row
-- check at finish to catch them. Each case: a batch fails half way (a user
-- trigger raises), the key changes, the backfill resumes; every row must hold
-- up's value (EXCEPT both ways against what up implies).
CREATE TABLE bkc_bomb (armed boolean);
INSERT INTO bkc_bomb VALUES (true);
CREATE FUNCTION bkc_bomb() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id = 15 AND (SELECT armed FROM bkc_bomb) THEN RAISE EXCEPTION 'boom at row %', NEW.id; END IF;
  RETURN NEW;
END $$;

-- 1. The primary key goes (zdm.begin_drop_constraint, finished in another
-- migration); the next key is UNIQUE (code), code running the other way.
CREATE TABLE bkc_pk (id int PRIMARY KEY, code int NOT NULL UNIQUE, v text);
INSERT INTO bkc_pk SELECT g, 101 - g, 'v' || g FROM generate_series(1, 100) g;
CREATE TRIGGER bkc_bomb BEFORE UPDATE ON bkc_pk FOR EACH ROW EXECUTE FUNCTION bkc_bomb();
SELECT zdm.begin_add_column('bkc_pk', 'v_up', 'text', up => 'upper(v)', migration => 'bkc_pk');
CALL zdm.backfill('bkc_pk', batch_size => 10);
SELECT backfill, rows_done FROM zdm.status() WHERE migration = 'bkc_pk';
SELECT backfill_key, backfill_position FROM zdm.operations WHERE tbl = 'bkc_pk'::regclass;
UPDATE bkc_bomb SET armed = false;
SELECT zdm.begin_drop_constraint('bkc_pk', 'bkc_pk_pkey', migration => 'bkc_pk_drop');
SELECT zdm.finish('bkc_pk_drop');
CALL zdm.backfill('bkc_pk', batch_size => 10);
SELECT backfill FROM zdm.status() WHERE migration = 'bkc_pk';
SELECT zdm.finish('bkc_pk');
(SELECT id, upper(v) FROM bkc_pk EXCEPT SELECT id, v_up FROM bkc_pk) UNION ALL
(SELECT id, v_up FROM bkc_pk EXCEPT SELECT id, upper(v) FROM bkc_pk) ORDER BY 1, 2;

-- 2. A narrower key appears: the walk started on UNIQUE (a, b); the UNIQUE (c)
-- that zdm.begin_add_unique builds is valid, and narrower, before the walk
-- resumes.
UPDATE bkc_bomb SET armed = true;
CREATE TABLE bkc_narrow (id int NOT NULL, a int NOT NULL, c int NOT NULL, v text,
                         UNIQUE (id, a));
INSERT INTO bkc_narrow SELECT g, 0, 1000 - g, 'v' || g FROM generate_series(1, 100) g;
CREATE TRIGGER bkc_bomb BEFORE UPDATE ON bkc_narrow FOR EACH ROW EXECUTE FUNCTION bkc_bomb();
SELECT zdm.begin_add_column('bkc_narrow', 'v_up', 'text', up => 'upper(v)',
                            migration => 'bkc_narrow');
CALL zdm.backfill('bkc_narrow', batch_size => 10);
SELECT backfill_key, backfill_position FROM zdm.operations WHERE tbl = 'bkc_narrow'::regclass
  AND kind = 'add_column';
UPDATE bkc_bomb SET armed = false;
SELECT zdm.begin_add_unique('bkc_narrow', ARRAY['c'], migration => 'bkc_narrow_c');
SELECT * FROM zdm.pending_statements('bkc_narrow_c') \gexec
CALL zdm.backfill('bkc_narrow', batch_size => 10);
SELECT backfill FROM zdm.status() WHERE migration = 'bkc_narrow';
SELECT zdm.finish('bkc_narrow');
(SELECT id, upper(v) FROM bkc_narrow EXCEPT SELECT id, v_up FROM bkc_narrow) UNION ALL
(SELECT id, v_up FROM bkc_narrow EXCEPT SELECT id, upper(v) FROM bkc_narrow) ORDER BY 1, 2;
SELECT zdm.abort('bkc_narrow_c');

-- 3. The key's index goes (zdm.begin_drop_index) and no key is left: the walk
-- goes on over ctid blocks, from the first.
UPDATE bkc_bomb SET armed = true;
CREATE TABLE bkc_gone (id int NOT NULL, v text);
CREATE UNIQUE INDEX bkc_gone_id ON bkc_gone (id);
INSERT INTO bkc_gone SELECT g, 'v' || g FROM generate_series(1, 100) g;
CREATE TRIGGER bkc_bomb BEFORE UPDATE ON bkc_gone FOR EACH ROW EXECUTE FUNCTION bkc_bomb();
SELECT zdm.begin_add_column('bkc_gone', 'v_up', 'text', up => 'upper(v)', migration => 'bkc_gone');
CALL zdm.backfill('bkc_gone', batch_size => 10);
UPDATE bkc_bomb SET armed = false;
SELECT zdm.begin_drop_index('bkc_gone_id', migration => 'bkc_gone_idx');
SELECT zdm.finish('bkc_gone_idx');
CALL zdm.backfill('bkc_gone', batch_size => 10);
SELECT backfill FROM zdm.status() WHERE migration = 'bkc_gone';
SELECT backfill_key IS NULL AS by_blocks FROM zdm.operations WHERE tbl = 'bkc_gone'::regclass
  AND kind = 'add_column';
SELECT zdm.finish('bkc_gone');
(SELECT id, upper(v) FROM bkc_gone EXCEPT SELECT id, v_up FROM bkc_gone) UNION ALL
(SELECT id, v_up FROM bkc_gone EXCEPT SELECT id, upper(v) FROM bkc_gone) ORDER BY 1, 2;

-- 4. The key the walk started with is still there and still the table's
-- narrowest: nothing changes, the walk resumes after its position.
UPDATE bkc_bomb SET armed = true;
CREATE TABLE bkc_same (id int PRIMARY KEY, v text);
INSERT INTO bkc_same SELECT g, 'v' || g FROM generate_series(1, 100) g;
CREATE TRIGGER bkc_bomb BEFORE UPDATE ON bkc_same FOR EACH ROW EXECUTE FUNCTION bkc_bomb();
SELECT zdm.begin_add_column('bkc_same', 'v_up', 'text', up => 'upper(v)', migration => 'bkc_same');
CALL zdm.backfill('bkc_same', batch_size => 10);
UPDATE bkc_bomb SET armed = false;
CALL zdm.backfill('bkc_same', batch_size => 10);
SELECT backfill, rows_done FROM zdm.status() WHERE migration = 'bkc_same';
SELECT zdm.finish('bkc_same');
SELECT count(*) AS unconverted FROM bkc_same WHERE v_up IS DISTINCT FROM upper(v);

DROP TABLE bkc_pk, bkc_narrow, bkc_gone, bkc_same, bkc_bomb;
DROP FUNCTION bkc_bomb();
