-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- abort leaves the table exactly as before begin: columns, defaults,
-- constraints, triggers, indexes and data.
CREATE TABLE account (
    id int PRIMARY KEY,
    email text NOT NULL DEFAULT 'none' CHECK (email <> ''),
    note text
);
CREATE INDEX account_email_idx ON account (email);
CREATE FUNCTION account_touch() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN NEW.note := coalesce(NEW.note, 'touched'); RETURN NEW; END $$;
CREATE TRIGGER account_touch BEFORE INSERT ON account FOR EACH ROW EXECUTE FUNCTION account_touch();
INSERT INTO account (id, email) SELECT i, 'user' || i || '@example.com' FROM generate_series(1, 20) i;

CREATE TEMP VIEW shape AS
SELECT 'column' AS kind, attname::text AS name,
       format_type(atttypid, atttypmod) || ' notnull=' || attnotnull ||
       ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-') AS definition
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = 'account'::regclass AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', conname::text, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'account'::regclass
UNION ALL
SELECT 'trigger', tgname::text, pg_get_triggerdef(oid) FROM pg_trigger
WHERE tgrelid = 'account'::regclass
UNION ALL
SELECT 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
WHERE indrelid = 'account'::regclass;

CREATE TEMP TABLE shape_before AS SELECT * FROM shape;
SELECT * FROM shape ORDER BY kind, name;

SELECT zdm.begin_rename('account', 'email', 'email_address', migration => 'rename email');
-- The window: both apps write.
INSERT INTO account (id, email) VALUES (100, 'old@example.com');
INSERT INTO account (id, email_address) VALUES (101, 'new@example.com');
UPDATE account SET email_address = 'changed@example.com' WHERE id = 1;
CALL zdm.backfill('rename email', batch_size => 7);

SELECT zdm.abort('rename email');

-- Shape: nothing more, nothing less than before begin.
SELECT * FROM shape EXCEPT SELECT * FROM shape_before;
SELECT * FROM shape_before EXCEPT SELECT * FROM shape;
-- Data: every write of the window is there, in the original column.
SELECT id, email, note FROM account WHERE id IN (1, 2, 100, 101) ORDER BY id;
SELECT migration, state FROM zdm.status();
-- The aborted migration cannot be finished or resumed.
SELECT zdm.finish('rename email');
CALL zdm.backfill('rename email');
DROP VIEW shape;
DROP TABLE account, shape_before;
DROP FUNCTION account_touch();
