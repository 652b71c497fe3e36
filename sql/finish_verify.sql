-- finish verifies every row before it contracts: a write that bypassed zdm's
-- trigger (here: the trigger disabled for a moment) is caught and named, and
-- nothing changes until the row is re-synced.
SET client_min_messages = warning;
DROP TABLE IF EXISTS fv_rename, fv_alter, fv_person, fv_lone;
RESET client_min_messages;

-- rename
CREATE TABLE fv_rename (id int PRIMARY KEY, login text);
INSERT INTO fv_rename SELECT g, 'user' || g FROM generate_series(1, 20) g;
SELECT zdm.begin_rename('fv_rename', 'login', 'username', 'fv_r');
SET client_min_messages = warning;
CALL zdm.backfill('fv_r');
RESET client_min_messages;
ALTER TABLE fv_rename DISABLE TRIGGER zzz_zdm_dual_write;
UPDATE fv_rename SET username = 'lost-if-finished' WHERE id = 7;   -- new side only
UPDATE fv_rename SET login = 'also-lost' WHERE id = 12;            -- old side only
ALTER TABLE fv_rename ENABLE ALWAYS TRIGGER zzz_zdm_dual_write;
SELECT zdm.finish('fv_r');
-- nothing changed: both columns and the trigger are still there
SELECT count(*) AS columns FROM pg_attribute
 WHERE attrelid = 'fv_rename'::regclass AND attname IN ('login', 'username') AND NOT attisdropped;
SELECT state FROM zdm.migrations WHERE name = 'fv_r';
-- re-synced from the side that holds the right value
UPDATE fv_rename SET username = username WHERE id = 7;
UPDATE fv_rename SET login = login WHERE id = 12;
SELECT zdm.finish('fv_r');
SELECT id, username FROM fv_rename WHERE id IN (7, 12) ORDER BY id;

-- alter_type
CREATE TABLE fv_alter (id int PRIMARY KEY, qty int);
INSERT INTO fv_alter SELECT g, g FROM generate_series(1, 20) g;
SELECT zdm.begin_alter_type('fv_alter', 'qty', 'bigint', migration => 'fv_a');
SET client_min_messages = warning;
CALL zdm.backfill('fv_a');
RESET client_min_messages;
ALTER TABLE fv_alter DISABLE TRIGGER zzz_zdm_dual_write;
UPDATE fv_alter SET qty = 1000 WHERE id = 3;
INSERT INTO fv_alter (id, qty) VALUES (21, 21);   -- an insert the trigger never saw
ALTER TABLE fv_alter ENABLE ALWAYS TRIGGER zzz_zdm_dual_write;
SELECT zdm.finish('fv_a');
UPDATE fv_alter SET qty = qty WHERE id IN (3, 21);
SELECT zdm.finish('fv_a');
SELECT id, qty FROM fv_alter WHERE id IN (3, 21) ORDER BY id;

-- the surname case: add_column surname + drop_column last_name, one migration
CREATE TABLE fv_person (id int PRIMARY KEY, last_name text NOT NULL);
INSERT INTO fv_person SELECT g, 'name' || g FROM generate_series(1, 20) g;
SELECT zdm.begin_add_column('fv_person', 'surname', 'text', up => 'last_name', not_null => true,
                            migration => 'fv_s');
SELECT zdm.begin_drop_column('fv_person', 'last_name', down => 'surname', migration => 'fv_s');
SET client_min_messages = warning;
CALL zdm.backfill('fv_s');
RESET client_min_messages;
-- rows written by either app through the trigger verify
INSERT INTO fv_person (id, surname) VALUES (30, 'new-app');
INSERT INTO fv_person (id, last_name) VALUES (31, 'old-app');
UPDATE fv_person SET surname = 'renamed by v2' WHERE id = 1;
UPDATE fv_person SET last_name = 'renamed by v1' WHERE id = 2;
ALTER TABLE fv_person DISABLE TRIGGER zzz_zdm_dual_write;
UPDATE fv_person SET last_name = 'bulk load' WHERE id = 5;
ALTER TABLE fv_person ENABLE ALWAYS TRIGGER zzz_zdm_dual_write;
SELECT zdm.finish('fv_s');
UPDATE fv_person SET last_name = last_name WHERE id = 5;
SELECT zdm.finish('fv_s');
SELECT id, surname FROM fv_person WHERE id IN (1, 2, 5, 30, 31) ORDER BY id;

-- A lone add_column's new column is the new app's to write: nothing to verify
-- against (its NOT NULL check guards it), so a value the new app chose stays.
CREATE TABLE fv_lone (id int PRIMARY KEY, email text);
INSERT INTO fv_lone VALUES (1, 'A@X'), (2, 'B@X');
SELECT zdm.begin_add_column('fv_lone', 'email_lower', 'text', up => 'lower(email)',
                            migration => 'fv_l');
SET client_min_messages = warning;
CALL zdm.backfill('fv_l');
RESET client_min_messages;
UPDATE fv_lone SET email_lower = 'chosen@x' WHERE id = 2;
SELECT zdm.finish('fv_l');
SELECT * FROM fv_lone ORDER BY id;

DROP TABLE fv_rename, fv_alter, fv_person, fv_lone;
