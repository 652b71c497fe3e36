-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
DROP ROLE IF EXISTS nn_reader;
RESET client_min_messages;
-- begin_alter_type(..., new_name): one deploy. The converted column is created
-- under new_name and keeps it: finish drops the old column and renames
-- nothing, so the new app writes and reads `total` before and after finish.
CREATE ROLE nn_reader;
CREATE TABLE acct (
    id int PRIMARY KEY,
    amount int NOT NULL DEFAULT 0 CHECK (amount > -100),
    code int,
    note text,
    CONSTRAINT code_unique UNIQUE (code)
);
CREATE INDEX acct_amount_idx ON acct (amount DESC, note) INCLUDE (id);
COMMENT ON COLUMN acct.amount IS 'cents';
ALTER TABLE acct ALTER COLUMN amount SET STATISTICS 500;
GRANT SELECT (id, amount) ON acct TO nn_reader;
INSERT INTO acct SELECT i, i * 10, i, 'n' || i FROM generate_series(1, 20) i;

SELECT zdm.begin_alter_type('acct', 'amount', 'bigint', migration => 'total',
                            new_name => 'total');
SELECT zdm.begin_alter_type('acct', 'code', 'int8', migration => 'total', new_name => 'code8');
\d acct
SELECT operation FROM zdm.status() ORDER BY operation;
-- What follows the column: comment, statistics target, column privileges.
SELECT attname, col_description(attrelid, attnum) AS comment, attstattarget,
       has_column_privilege('nn_reader', attrelid, attname, 'SELECT') AS reader_selects
  FROM pg_attribute WHERE attrelid = 'acct'::regclass AND attname IN ('amount', 'total')
 ORDER BY attnum;

-- The old app writes amount/code; the new app writes total/code8 (its final
-- names). Each reads back what it wrote, and the other side sees it.
INSERT INTO acct (id, amount, code) VALUES (100, 5, 100);
INSERT INTO acct (id, total, code8) VALUES (102, 7, 102);
UPDATE acct SET amount = amount + 1 WHERE id = 1;
UPDATE acct SET total = 42 WHERE id = 2;
UPDATE acct SET note = 'touched' WHERE id = 3;
-- A value the old app could not read is refused until finish (down casts back).
INSERT INTO acct (id, total, code8) VALUES (101, 3000000000, 101);
SELECT id, amount, total, code, code8 FROM acct WHERE id IN (1, 2, 3, 100, 102) ORDER BY id;
-- The CHECK binds the new column too.
INSERT INTO acct (id, total, code8) VALUES (103, -500, 103);

CALL zdm.backfill('total');
SELECT count(*) AS divergent FROM acct
 WHERE total IS DISTINCT FROM amount::bigint OR code8 IS DISTINCT FROM code::bigint;
-- finish refuses until the concurrent index builds have run.
SELECT zdm.finish('total');
SELECT * FROM zdm.pending_statements('total');
SELECT * FROM zdm.pending_statements('total') \gexec
-- finish verifies before it contracts: a write that bypassed the trigger is
-- caught, naming the key, and nothing changes.
ALTER TABLE acct DISABLE TRIGGER zzz_zdm_dual_write;
UPDATE acct SET amount = 77 WHERE id = 4;
ALTER TABLE acct ENABLE ALWAYS TRIGGER zzz_zdm_dual_write;
SELECT zdm.finish('total');
UPDATE acct SET amount = amount WHERE id = 4;
SELECT zdm.finish('total');
-- No rename: amount and code are gone, total and code8 hold their types, the
-- NOT NULL, default, CHECK, indexes and UNIQUE constraint (under their old names).
\d acct
SELECT attname, col_description(attrelid, attnum) AS comment, attstattarget,
       has_column_privilege('nn_reader', attrelid, attname, 'SELECT') AS reader_selects
  FROM pg_attribute WHERE attrelid = 'acct'::regclass AND attname = 'total';
-- The new app's statements, the same text as during the window, still work,
-- now with values only bigint can hold.
INSERT INTO acct (id, total, code8) VALUES (101, 3000000000, 101);
UPDATE acct SET total = 42 WHERE id = 2;
SELECT id, total, code8 FROM acct WHERE id IN (1, 2, 4, 100, 101, 102) ORDER BY id;
INSERT INTO acct (id, total, code8) VALUES (104, 1, 100);   -- code_unique still holds
SELECT state FROM zdm.migrations WHERE name = 'total';

-- abort restores the table exactly (columns, defaults, constraints, indexes,
-- privileges, triggers, data).
CREATE TABLE price (id int PRIMARY KEY, label varchar(10) NOT NULL CHECK (label <> ''),
                    cost numeric(8,2));
CREATE INDEX price_label_idx ON price (label);
GRANT UPDATE (label) ON price TO nn_reader;
INSERT INTO price VALUES (1, 'a', 1.50), (2, 'b', 2.25);
CREATE TEMP VIEW price_shape AS
SELECT 'column ' || attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull
       || coalesce(' acl ' || attacl::text, '') AS item
  FROM pg_attribute WHERE attrelid = 'price'::regclass AND attnum > 0 AND NOT attisdropped
UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
  FROM pg_constraint WHERE conrelid = 'price'::regclass
UNION ALL SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'price'::regclass
UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = 'price'::regclass;
CREATE TEMP TABLE shape_before AS SELECT * FROM price_shape;
SELECT zdm.begin_alter_type('price', 'label', 'text', migration => 'lbl', new_name => 'title');
INSERT INTO price (id, title, cost) VALUES (3, 'c', 3);
UPDATE price SET label = 'aa' WHERE id = 1;
SELECT id, label, title FROM price ORDER BY id;
SELECT zdm.abort('lbl');
SELECT * FROM price ORDER BY id;
SELECT count(*) AS items, count(*) FILTER (WHERE item LIKE 'column%') AS columns FROM shape_before;
(SELECT 'lost: ' || item FROM shape_before EXCEPT SELECT 'lost: ' || item FROM price_shape)
UNION ALL
(SELECT 'added: ' || item FROM price_shape EXCEPT SELECT 'added: ' || item FROM shape_before);

-- Errors: each leaves everything as it was.
SELECT zdm.begin_alter_type('price', 'label', 'text', new_name => 'cost');   -- exists
SELECT zdm.begin_alter_type('price', 'label', 'text', new_name => 'id');
SELECT zdm.begin_alter_type('price', 'label', 'text', new_name => '');       -- invalid
SELECT zdm.begin_alter_type('price', 'nope', 'text', new_name => 'title');   -- no such column
-- A column read by a view is still refused with new_name.
CREATE VIEW price_labels AS SELECT label FROM price;
SELECT zdm.begin_alter_type('price', 'label', 'text', new_name => 'title');
DROP VIEW price_labels;
SELECT count(*) AS open_migrations FROM zdm.migrations WHERE state = 'active';
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns
  FROM pg_attribute WHERE attrelid = 'price'::regclass AND attnum > 0 AND NOT attisdropped;

-- new_name => the column's own name: the new app keeps writing the column
-- itself, under its old type until finish. Allowed only for a lossless
-- widening; refused otherwise, saying why.
SELECT zdm.begin_alter_type('price', 'cost', 'numeric(10,4)', new_name => 'cost');  -- scale up
SELECT zdm.begin_alter_type('price', 'cost', 'numeric', new_name => 'cost');
SELECT zdm.begin_alter_type('price', 'cost', 'integer', new_name => 'cost');
SELECT zdm.begin_alter_type('price', 'label', 'varchar(5)', new_name => 'label');
SELECT zdm.begin_alter_type('acct', 'total', 'integer', new_name => 'total');
SELECT count(*) AS open_migrations FROM zdm.migrations WHERE state = 'active';
SELECT zdm.begin_alter_type('price', 'cost', 'numeric(12,2)', migration => 'wide',
                            new_name => 'cost');
SELECT zdm.begin_alter_type('price', 'label', 'text', migration => 'wide', new_name => 'label');
-- The new app's statements, identical before and after finish. Before: what
-- the old type holds is stored exactly, the rest is refused (never altered).
PREPARE new_app_write(int, numeric, text) AS
  INSERT INTO price (id, cost, label) VALUES ($1, $2, $3);
EXECUTE new_app_write(10, 123456.78, 'ten');
EXECUTE new_app_write(11, 1234567.00, 'eleven');        -- numeric(8,2) overflows: refused
EXECUTE new_app_write(12, 1.005, 'twelve chars');        -- varchar(10): refused
EXECUTE new_app_write(13, 1.005, 'thirteen');            -- rounds as numeric(12,2) would
SELECT id, cost, cost_new, label, label_new FROM price ORDER BY id;
CALL zdm.backfill('wide');
SELECT * FROM zdm.pending_statements('wide') \gexec
SELECT zdm.finish('wide');
\d price
EXECUTE new_app_write(11, 1234567.00, 'eleven');
EXECUTE new_app_write(12, 1.005, 'twelve chars');
SELECT id, cost, label FROM price ORDER BY id;
DEALLOCATE new_app_write;
DROP VIEW price_shape;
DROP TABLE acct, price;
DROP ROLE nn_reader;
