-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- begin_add_foreign_key: FOREIGN KEY ... NOT VALID at begin, so every new
-- write is checked at once; finish names the rows that reference nothing,
-- then VALIDATE CONSTRAINT; abort drops it.
CREATE TABLE fk_customer (id int PRIMARY KEY, region text NOT NULL, code text,
                          CONSTRAINT fk_customer_region_code UNIQUE (region, code));
CREATE TABLE fk_order (id bigint PRIMARY KEY, customer_id bigint, region text, code varchar(10),
                       note text);
INSERT INTO fk_customer VALUES (1, 'eu', 'a'), (2, 'us', 'b');
INSERT INTO fk_order VALUES (1, 1, 'eu', 'a'), (2, 7, 'eu', 'zz'), (3, NULL, NULL, NULL),
                            (4, 9, 'us', 'b');

SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', ARRAY['id'],
                                 on_delete => 'cascade');
SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'fk_order'::regclass AND contype = 'f';
SELECT operation, backfill FROM zdm.status();
-- New writes are checked, on both tables.
INSERT INTO fk_order VALUES (10, 42);
UPDATE fk_order SET customer_id = 43 WHERE id = 1;
INSERT INTO fk_order VALUES (10, 2);
DELETE FROM fk_customer WHERE id = 2;   -- cascades to order 10 (and the old row 4 references nothing)
SELECT id FROM fk_order ORDER BY id;
-- finish refuses while old rows reference nothing: count and keys; nothing changes.
SELECT zdm.finish();
SELECT convalidated FROM pg_constraint WHERE conname = 'fk_order_customer_id_fkey';
UPDATE fk_order SET customer_id = NULL WHERE id IN (2, 4);
SELECT zdm.finish();
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'fk_order'::regclass AND contype = 'f';
SELECT phase, statement FROM zdm.ddl_log ORDER BY id;

-- A composite key against a UNIQUE constraint, types compared as PostgreSQL
-- does (varchar against text), a name given; abort drops it.
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['region', 'code'], 'fk_customer',
                                 ARRAY['region', 'code'], name => 'fk_order_rc',
                                 migration => 'rc');
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'fk_order_rc';
SELECT zdm.finish('rc');   -- order 2 ('eu', 'zz'); order 3 has NULLs (MATCH SIMPLE)
SELECT zdm.abort('rc');
SELECT count(*) FROM pg_constraint WHERE conname = 'fk_order_rc';

-- A table referencing itself; no primary key on the referencing side: keys are ctids.
CREATE TABLE fk_tree (id int UNIQUE, parent int);
INSERT INTO fk_tree VALUES (1, NULL), (2, 1), (3, 99);
SELECT zdm.begin_add_foreign_key('fk_tree', ARRAY['parent'], 'fk_tree', ARRAY['id'],
                                 on_delete => 'SET NULL', migration => 'tree');
SELECT zdm.finish('tree');
DELETE FROM fk_tree WHERE id = 3;
DELETE FROM fk_tree WHERE id = 1;   -- SET NULL on the child
SELECT * FROM fk_tree;
SELECT zdm.finish('tree');

-- Errors: each leaves everything as it was.
SELECT zdm.begin_add_foreign_key(NULL, ARRAY['customer_id'], 'fk_customer', ARRAY['id']);
SELECT zdm.begin_add_foreign_key('fk_order', NULL, 'fk_customer', ARRAY['id']);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], NULL, ARRAY['id']);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', NULL);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id', NULL], 'fk_customer', ARRAY['id']);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY[]::name[], 'fk_customer', ARRAY[]::name[]);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['nope'], 'fk_customer', ARRAY['id']);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', ARRAY['nope']);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', ARRAY['id', 'region']);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['region', 'region'], 'fk_customer', ARRAY['region', 'code']);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['note'], 'fk_customer', ARRAY['id']);      -- text vs int
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['region'], 'fk_customer', ARRAY['region']); -- no unique index
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', ARRAY['id'], on_delete => 'explode');
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', ARRAY['id'], on_delete => NULL);
SELECT zdm.begin_add_foreign_key('fk_customer', ARRAY['region'], 'fk_customer', ARRAY['region'], on_delete => 'set null');
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', ARRAY['id'], name => 'fk_order_pkey');
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'pg_class', ARRAY['oid']);
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer_pkey', ARRAY['id']);
SELECT zdm.begin_rename('fk_customer', 'id', 'customer_no', migration => 'ren');
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', ARRAY['id']);
SELECT zdm.abort('ren');
SELECT zdm.begin_drop_column('fk_order', 'customer_id', migration => 'drop');
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', ARRAY['id']);
SELECT zdm.abort('drop');
CREATE ROLE zdm_fk_other;
SET ROLE zdm_fk_other;
SELECT zdm.begin_add_foreign_key('fk_order', ARRAY['customer_id'], 'fk_customer', ARRAY['id']);
RESET ROLE;
DROP ROLE zdm_fk_other;
SELECT conname FROM pg_constraint WHERE conrelid = 'fk_order'::regclass ORDER BY 1;
SELECT count(*) FROM zdm.migrations WHERE state = 'active';
DROP TABLE fk_order, fk_customer, fk_tree;
