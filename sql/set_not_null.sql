-- zdm.begin_set_not_null. Without up: CHECK (col IS NOT NULL) NOT VALID at
-- begin (every new write, the old app's too, is bound at once); finish names
-- the rows that still hold NULL, then VALIDATE, SET NOT NULL (no scan) and drops
-- the check; abort drops it. With up (the old app still writes NULLs): a shadow
-- column <col>_new holding up, kept in sync by the trigger, backfilled and
-- swapped in at finish.
\set VERBOSITY default
DROP TABLE IF EXISTS snn_person CASCADE;
CREATE TABLE snn_person (id bigint PRIMARY KEY, email text, nick text, age int CHECK (age >= 0));
INSERT INTO snn_person SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'p' || g || '@x' END,
  CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END, g FROM generate_series(1, 30) g;
GRANT SELECT (id, email), UPDATE (email) ON snn_person TO PUBLIC;
COMMENT ON COLUMN snn_person.email IS 'where we write';

-- Without up: lifecycle.
SELECT zdm.begin_set_not_null('snn_person', 'nick', migration => 'snn_plain');
SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint
  WHERE conrelid = 'snn_person'::regclass AND contype = 'c' ORDER BY 1;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'snn_person'::regclass AND NOT tgisinternal;
INSERT INTO snn_person VALUES (100, 'x', NULL, 1);   -- bound at once, old app too
UPDATE snn_person SET nick = NULL WHERE id = 1;
INSERT INTO snn_person VALUES (100, 'x', 'n100', 1);
SELECT migration, state, operation, backfill FROM zdm.status() WHERE migration = 'snn_plain';
-- finish refuses while rows hold NULL: the count and the first keys; nothing changes.
SELECT zdm.finish('snn_plain');
SELECT state FROM zdm.migrations WHERE name = 'snn_plain';
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'snn_person'::regclass AND attname = 'nick';
UPDATE snn_person SET nick = 'n' || id WHERE nick IS NULL;
SELECT zdm.finish('snn_plain');
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'snn_person'::regclass AND attname = 'nick';
SELECT count(*) AS checks_left FROM pg_constraint
  WHERE conrelid = 'snn_person'::regclass AND conname = 'nick_not_null';
SELECT phase, statement FROM zdm.ddl_log WHERE migration = 'snn_plain' ORDER BY id;

-- Without up: abort drops the check, and the column is as before.
ALTER TABLE snn_person ALTER COLUMN nick DROP NOT NULL;
SELECT zdm.begin_set_not_null('snn_person', 'nick', migration => 'snn_plain_abort');
SELECT zdm.abort('snn_plain_abort');
SELECT count(*) AS checks_left FROM pg_constraint
  WHERE conrelid = 'snn_person'::regclass AND contype = 'c' AND conname LIKE 'nick%';
INSERT INTO snn_person VALUES (101, 'y', NULL, 1);
DELETE FROM snn_person WHERE id = 101;

-- With up: the old app keeps writing NULL into email; the new app reads and
-- writes email_new, which holds the rule.
SELECT zdm.begin_set_not_null('snn_person', 'email', up => 'coalesce(email, ''unknown'')',
                              migration => 'snn_up');
SELECT attname, attnotnull, format_type(atttypid, atttypmod) FROM pg_attribute
  WHERE attrelid = 'snn_person'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint
  WHERE conrelid = 'snn_person'::regclass AND contype = 'c' ORDER BY 1;
-- What is attached to email follows the shadow column (grants, comment).
SELECT attname, attacl FROM pg_attribute WHERE attrelid = 'snn_person'::regclass
  AND attname IN ('email', 'email_new') ORDER BY 1;
SELECT col_description('snn_person'::regclass, attnum) AS shadow_comment FROM pg_attribute
  WHERE attrelid = 'snn_person'::regclass AND attname = 'email_new';
INSERT INTO snn_person (id, email, nick, age) VALUES (200, NULL, 'old', 1);           -- old app
INSERT INTO snn_person (id, email_new, nick, age) VALUES (201, 'new@x', 'new', 1);    -- new app
-- Neither side filled: an old-side write under zdm.writer = auto, so up fills it;
-- a session that declares zdm.writer = new is bound by the shadow's check.
INSERT INTO snn_person (id, email_new, nick, age) VALUES (202, NULL, 'new', 1);
SET zdm.writer = new;
INSERT INTO snn_person (id, email_new, nick, age) VALUES (204, NULL, 'new', 1);
RESET zdm.writer;
UPDATE snn_person SET email = NULL WHERE id = 1;                                      -- old app
UPDATE snn_person SET email_new = 'changed@x' WHERE id = 2;                           -- new app
SELECT id, email, email_new FROM snn_person WHERE id IN (1, 2, 4, 200, 201, 202) ORDER BY id;
SELECT migration, operation, backfill FROM zdm.status() WHERE migration = 'snn_up';
SELECT zdm.finish('snn_up');   -- refused: backfill first
CALL zdm.backfill('snn_up');
SELECT count(*) FILTER (WHERE email_new IS NULL) AS shadow_nulls,
       count(*) FILTER (WHERE email IS NULL) AS old_nulls FROM snn_person;
SELECT zdm.finish('snn_up');
SELECT attname, attnotnull FROM pg_attribute
  WHERE attrelid = 'snn_person'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT id, email FROM snn_person WHERE id IN (1, 2, 4, 200, 201, 202) ORDER BY id;
SELECT count(*) AS checks_left FROM pg_constraint
  WHERE conrelid = 'snn_person'::regclass AND conname LIKE 'email%';
SELECT attacl FROM pg_attribute WHERE attrelid = 'snn_person'::regclass AND attname = 'email';
SELECT col_description('snn_person'::regclass, attnum) FROM pg_attribute
  WHERE attrelid = 'snn_person'::regclass AND attname = 'email';
SELECT tgname FROM pg_trigger WHERE tgrelid = 'snn_person'::regclass AND NOT tgisinternal;
-- After finish the new app writes email (the shadow's name is gone).
INSERT INTO snn_person (id, email, nick, age) VALUES (203, NULL, 'x', 1);

-- With up: abort drops the shadow column.
CREATE TABLE snn_abort (id int PRIMARY KEY, v text);
INSERT INTO snn_abort VALUES (1, NULL), (2, 'b');
SELECT zdm.begin_set_not_null('snn_abort', 'v', up => 'coalesce(v, ''-'')', migration => 'snn_up_abort');
SELECT zdm.abort('snn_up_abort');
SELECT attname FROM pg_attribute
  WHERE attrelid = 'snn_abort'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'snn_abort'::regclass AND NOT tgisinternal;

-- Errors; each leaves everything as it was.
SELECT zdm.begin_set_not_null('snn_abort', 'nope');
SELECT zdm.begin_set_not_null('snn_abort', 'id');
SELECT zdm.begin_set_not_null('snn_abort', NULL);
SELECT zdm.begin_set_not_null(NULL, 'v');
SELECT zdm.begin_set_not_null('snn_abort', 'v', up => '');
SELECT zdm.begin_set_not_null('snn_abort', 'v', up => 'now()::text');        -- not immutable
SELECT zdm.begin_set_not_null('snn_abort', 'v', up => 'nope');               -- unknown column
SELECT zdm.begin_set_not_null('snn_abort', 'v', up => '''x''::int');         -- fails at begin
SELECT zdm.begin_set_not_null('snn_abort', 'v', migration => 'snn_twice');
SELECT zdm.begin_set_not_null('snn_abort', 'v', migration => 'snn_twice');   -- already under migration
SELECT zdm.begin_rename('snn_abort', 'v', 'w', migration => 'snn_other');    -- claimed
SELECT zdm.abort('snn_twice');
CREATE VIEW snn_abort_v AS SELECT v FROM snn_abort;
SELECT zdm.begin_set_not_null('snn_abort', 'v', up => 'coalesce(v, ''-'')');  -- finish would drop v
SELECT zdm.begin_set_not_null('snn_abort', 'v', migration => 'snn_view');     -- fine without up
SELECT zdm.abort('snn_view');
DROP VIEW snn_abort_v;
SELECT count(*) AS open_migrations FROM zdm.migrations
  WHERE state = 'active' AND name LIKE 'snn%';
SELECT attname FROM pg_attribute
  WHERE attrelid = 'snn_abort'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
DROP TABLE snn_person, snn_abort;
