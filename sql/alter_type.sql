-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- alter_type: int -> bigint through a shadow column, with the column's NOT
-- NULL, CHECK, default, indexes and UNIQUE constraint rebuilt on it.
CREATE TABLE acct (
    id int PRIMARY KEY,
    balance int NOT NULL DEFAULT 0 CHECK (balance > -100),
    code int,
    note text,
    CONSTRAINT code_unique UNIQUE (code)
);
CREATE INDEX acct_balance_idx ON acct (balance DESC, note) INCLUDE (id);
INSERT INTO acct SELECT i, i * 10, i, 'n' || i FROM generate_series(1, 20) i;

SELECT zdm.begin_alter_type('acct', 'balance', 'bigint', migration => 'widen');
SELECT zdm.begin_alter_type('acct', 'code', 'int8', migration => 'widen');
\d acct

-- The old app writes balance/code; the new app writes the shadow columns.
INSERT INTO acct (id, balance, code) VALUES (100, 5, 100);
INSERT INTO acct (id, balance_new, code_new) VALUES (102, 7, 102);
UPDATE acct SET balance = balance + 1 WHERE id = 1;
UPDATE acct SET balance_new = 42 WHERE id = 2;
-- A value the old app could not read is refused, naming the migration.
INSERT INTO acct (id, balance_new, code_new) VALUES (101, 3000000000, 101);
SELECT * FROM acct WHERE id IN (1, 2, 3, 100, 102) ORDER BY id;

CALL zdm.backfill('widen');
SELECT count(*) AS divergent FROM acct
WHERE balance_new IS DISTINCT FROM balance::bigint OR code_new IS DISTINCT FROM code::bigint;
-- finish refuses until the concurrent index builds have run, and says which.
SELECT zdm.finish('widen');
SELECT * FROM zdm.pending_statements('widen');
SELECT * FROM zdm.pending_statements('widen') \gexec
SELECT * FROM zdm.pending_statements('widen');
SELECT zdm.finish('widen');
\d acct
SELECT * FROM acct WHERE id IN (1, 2, 3, 100, 102) ORDER BY id;
INSERT INTO acct (id, balance, code) VALUES (200, 9000000000, 200);
INSERT INTO acct (id, code) VALUES (201, 200);
SELECT operation, backfill FROM zdm.status();
DROP TABLE acct;

-- Custom up and down, and an abort that leaves the table as it was.
CREATE TABLE temp_reading (id int PRIMARY KEY, celsius numeric(5, 1));
CREATE INDEX temp_reading_celsius_idx ON temp_reading (celsius);
INSERT INTO temp_reading VALUES (1, 21.5), (2, NULL);
SELECT zdm.begin_alter_type('temp_reading', 'celsius', 'int',
                            up => 'round(celsius)::int', down => 'celsius_new::numeric(5,1)',
                            migration => 'round');
INSERT INTO temp_reading (id, celsius) VALUES (3, 19.6);
INSERT INTO temp_reading (id, celsius_new) VALUES (4, 30);
SELECT * FROM temp_reading ORDER BY id;
SELECT * FROM zdm.pending_statements('round') \gexec
SELECT zdm.abort('round');
\d temp_reading
SELECT * FROM temp_reading ORDER BY id;
DROP TABLE temp_reading;

-- Refused, with what to do instead; nothing changes.
CREATE TABLE parent (id int PRIMARY KEY, ref int UNIQUE);
CREATE TABLE child (id int PRIMARY KEY, parent_ref int REFERENCES parent (ref),
                    serial_col serial, ident int GENERATED ALWAYS AS IDENTITY,
                    lowered text, plain int);
CREATE INDEX child_lower_idx ON child (lower(lowered));
CREATE INDEX child_partial_idx ON child (plain) WHERE plain > 0;
SELECT zdm.begin_alter_type('child', 'id', 'bigint');
SELECT zdm.begin_alter_type('child', 'parent_ref', 'bigint');
SELECT zdm.begin_alter_type('parent', 'ref', 'bigint');
SELECT zdm.begin_alter_type('child', 'serial_col', 'bigint');
SELECT zdm.begin_alter_type('child', 'ident', 'bigint');
SELECT zdm.begin_alter_type('child', 'lowered', 'varchar(10)');
SELECT zdm.begin_alter_type('child', 'plain', 'bigint');
SELECT zdm.begin_alter_type('child', 'plain', 'integer');
SELECT zdm.begin_alter_type('child', 'nope', 'bigint');
SELECT zdm.begin_alter_type('child', 'plain', 'no_such_type');
SELECT zdm.begin_alter_type('child', 'plain', NULL);
SELECT zdm.begin_alter_type('child', 'plain', 'text', up => 'plain + 1');
SELECT count(*) AS migrations FROM zdm.migrations WHERE state = 'active';
SELECT count(*) AS extra_columns FROM pg_attribute
WHERE attrelid IN ('child'::regclass, 'parent'::regclass) AND attname LIKE '%\_new';
DROP TABLE child, parent;

-- finish refuses while a view reads the old column, naming it (begin refuses
-- one that exists already: see begin_dependents).
CREATE TABLE price (id int PRIMARY KEY, amount int);
SELECT zdm.begin_alter_type('price', 'amount', 'bigint', migration => 'price');
CREATE VIEW price_view AS SELECT id, amount FROM price;
CALL zdm.backfill('price');
SELECT zdm.finish('price');
DROP VIEW price_view;
SELECT zdm.finish('price');
\d price
DROP TABLE price;
