-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- pg_dump -t TABLE and --schema-only restore zdm's triggers without zdm's
-- catalog rows. The dual-write trigger carries its operations in its
-- arguments and keeps both shapes in sync; the join-sync triggers read
-- theirs from zdm.operations, find none, and let the write through unsynced
-- with a WARNING (blocking every write would be an outage). zdm.forget(tbl)
-- removes the leftovers: zdm's triggers, and what they show zdm added.
CREATE TABLE person (id int PRIMARY KEY, last_name text NOT NULL, age int CHECK (age >= 0),
                     legacy text);
INSERT INTO person VALUES (1, 'Lovelace', 36, 'x');
CREATE FUNCTION forget_shape(t regclass) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT 'column ' || attname || ' ' || format_type(atttypid, atttypmod) || ' notnull=' || attnotnull
  FROM pg_attribute WHERE attrelid = t AND attnum > 0 AND NOT attisdropped
  UNION ALL
  SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
  WHERE conrelid = t
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = t AND NOT tgisinternal
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = t
$$;
CREATE TABLE person_before AS SELECT forget_shape('person') AS line;
SELECT zdm.begin_rename('person', 'last_name', 'surname', migration => 'm');
SELECT zdm.begin_add_column('person', 'nickname', 'text', up => 'last_name', not_null => true,
                            migration => 'm');
SELECT zdm.begin_alter_type('person', 'age', 'bigint', migration => 'm');
SELECT zdm.begin_drop_column('person', 'legacy', migration => 'd');
-- While the migrations are open, undoing them is abort's job.
SELECT zdm.forget('person');
-- The restored state: the table as it was, zdm's catalog empty.
DELETE FROM zdm.operations;
DELETE FROM zdm.migrations;
SELECT zdm.abort('m');
-- Writes keep working, and the dual-write trigger keeps both shapes in sync.
INSERT INTO person (id, last_name, age) VALUES (2, 'Hopper', 85);
INSERT INTO person (id, surname, nickname, age_new) VALUES (3, 'Turing', 'Alan', 41);
UPDATE person SET last_name = 'Byron' WHERE id = 1;
SELECT id, last_name, surname, nickname, age, age_new FROM person ORDER BY id;
SELECT zdm.forget('person');
-- The table is as it was before begin: no difference either way.
SELECT line AS only_before FROM person_before EXCEPT SELECT forget_shape('person') ORDER BY 1;
SELECT forget_shape('person') AS only_after EXCEPT SELECT line FROM person_before ORDER BY 1;
SELECT id, last_name, age, legacy FROM person ORDER BY id;
SELECT zdm.forget('person');
SELECT phase, statement FROM zdm.ddl_log WHERE phase = 'forget' ORDER BY id;

-- join_to_column: the join-sync triggers find no operation.
CREATE TABLE fv_voucher (id int PRIMARY KEY, code text NOT NULL);
CREATE TABLE fv_used (voucher_id int PRIMARY KEY REFERENCES fv_voucher, user_id int NOT NULL);
INSERT INTO fv_voucher VALUES (1, 'A'), (2, 'B'), (3, 'C');
INSERT INTO fv_used VALUES (1, 10);
CREATE TABLE fv_voucher_before AS SELECT forget_shape('fv_voucher') AS line;
CREATE TABLE fv_used_before AS SELECT forget_shape('fv_used') AS line;
SELECT zdm.begin_join_to_column('fv_used', 'voucher_id', 'fv_voucher', 'id', 'user_id',
                                migration => 'fv_voucher');
SELECT zdm.forget('fv_voucher');
DELETE FROM zdm.operations;
DELETE FROM zdm.migrations;
-- A fresh session, as after a restore: no trigger entry is cached.
\c
INSERT INTO fv_used VALUES (2, 20);
UPDATE fv_voucher SET user_id = 30 WHERE id = 3;
INSERT INTO fv_used VALUES (3, 31);
SELECT v.id, v.user_id AS column_value, u.user_id AS join_value
FROM fv_voucher v LEFT JOIN fv_used u ON u.voucher_id = v.id ORDER BY v.id;
SELECT zdm.forget('fv_used');
SELECT count(*) AS zdm_triggers FROM pg_trigger
WHERE tgrelid IN ('fv_voucher'::regclass, 'fv_used'::regclass) AND tgname LIKE '0zdm%';
SELECT line AS only_before FROM fv_used_before EXCEPT SELECT forget_shape('fv_used') ORDER BY 1;
SELECT forget_shape('fv_used') AS only_after EXCEPT SELECT line FROM fv_used_before ORDER BY 1;
-- The column stays (zdm cannot tell which shape it made); dropping it by hand
-- leaves the table as it was.
ALTER TABLE fv_voucher DROP COLUMN user_id;
SELECT line AS only_before FROM fv_voucher_before EXCEPT SELECT forget_shape('fv_voucher') ORDER BY 1;
SELECT forget_shape('fv_voucher') AS only_after EXCEPT SELECT line FROM fv_voucher_before ORDER BY 1;

-- Owner only; a NULL is named.
CREATE ROLE regress_zdm_forget_other;
SET ROLE regress_zdm_forget_other;
SELECT zdm.forget('person');
RESET ROLE;
DROP ROLE regress_zdm_forget_other;
SELECT zdm.forget(NULL);
DROP TABLE person, fv_used, fv_voucher, person_before, fv_voucher_before, fv_used_before;
DROP FUNCTION forget_shape(regclass);
