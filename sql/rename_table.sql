-- zdm.begin_rename_table: the table takes its new name at begin; the old name
-- is a security_invoker view over it with the same grants, through which the
-- old app keeps reading and writing. finish drops the view; abort renames back.
\set VERBOSITY default
DROP TABLE IF EXISTS rt_person CASCADE;
DROP ROLE IF EXISTS rt_old_app;
DROP ROLE IF EXISTS rt_col_app;
CREATE ROLE rt_old_app;
CREATE TABLE rt_person (id bigserial PRIMARY KEY, email text UNIQUE, nick text DEFAULT 'anon',
                        secret text);
GRANT SELECT, DELETE ON rt_person TO rt_old_app;
GRANT INSERT (email, nick), UPDATE (nick) ON rt_person TO rt_old_app;
GRANT USAGE ON SEQUENCE rt_person_id_seq TO rt_old_app;
INSERT INTO rt_person (email, secret) VALUES ('a@x', 's'), ('b@x', 's');

SELECT zdm.begin_rename_table('rt_person', 'rt_people', migration => 'rt_m');
SELECT c.relname, c.relkind, c.reloptions, pg_get_userbyid(c.relowner) AS owner
  FROM pg_class c WHERE relname IN ('rt_person', 'rt_people') ORDER BY 1;
SELECT pg_get_viewdef('rt_person'::regclass);
-- The same grants, table and column level.
SELECT relacl FROM pg_class WHERE relname = 'rt_person';
SELECT attname, attacl FROM pg_attribute WHERE attrelid = 'rt_person'::regclass
  AND attacl IS NOT NULL ORDER BY attnum;
SELECT migration, state, operation, backfill FROM zdm.status() WHERE migration = 'rt_m';

-- The old app, through the view, under its own privileges.
SET ROLE rt_old_app;
INSERT INTO rt_person (email) VALUES ('c@x') RETURNING id, email, nick;
INSERT INTO rt_person (email, nick) VALUES ('c@x', 'upserted')
  ON CONFLICT (email) DO UPDATE SET nick = excluded.nick RETURNING id, nick;
UPDATE rt_person SET nick = 'u' WHERE id = 1 RETURNING id, nick;
DELETE FROM rt_person WHERE id = 2 RETURNING id;
SELECT id, email, nick FROM rt_person ORDER BY id;
UPDATE rt_person SET email = 'no@x' WHERE id = 1;   -- no privilege on it, as before
-- The new app, by the new name.
RESET ROLE;
INSERT INTO rt_people (email, secret) VALUES ('d@x', 'new') RETURNING id;
SELECT id, email, nick, secret FROM rt_people ORDER BY id;

-- What does not work through the view (README: Tables).
COPY rt_person (email) FROM '/dev/null';
COPY rt_person TO STDOUT;
SET ROLE rt_old_app;
INSERT INTO rt_person (email, nick) VALUES ('c@x', 'x')
  ON CONFLICT ON CONSTRAINT rt_person_email_key DO NOTHING;
MERGE INTO rt_person p USING (SELECT 'e@x' AS e) s ON p.email = s.e
  WHEN NOT MATCHED THEN INSERT (email) VALUES (s.e);
SELECT ctid FROM rt_person LIMIT 0;
RESET ROLE;
TRUNCATE rt_person;
ALTER TABLE rt_person ADD COLUMN x int;

-- finish refuses while something was built on the view, naming it.
CREATE VIEW rt_person_emails AS SELECT email FROM rt_person;
SELECT zdm.finish('rt_m');
SELECT zdm.abort('rt_m');
DROP VIEW rt_person_emails;
SELECT zdm.finish('rt_m');
SELECT relname, relkind FROM pg_class WHERE relname IN ('rt_person', 'rt_people') ORDER BY 1;
SELECT phase, statement FROM zdm.ddl_log WHERE migration = 'rt_m' ORDER BY id;

-- abort: the view goes, the table takes its old name back, with its rows.
SELECT zdm.begin_rename_table('rt_people', 'rt_folk', migration => 'rt_a');
INSERT INTO rt_people (email) VALUES ('through-view@x');
SELECT zdm.abort('rt_a');
SELECT relname, relkind FROM pg_class WHERE relname IN ('rt_people', 'rt_folk') ORDER BY 1;
SELECT count(*) FROM rt_people WHERE email = 'through-view@x';

-- Composition: indexes and constraints join a rename_table; operations that
-- change columns, another rename_table and drop_table do not (either order).
SELECT zdm.begin_rename_table('rt_people', 'rt_folk', migration => 'rt_c');
SELECT zdm.begin_create_index('rt_folk', ARRAY['nick'], migration => 'rt_c');
SELECT zdm.begin_add_check('rt_folk', 'rt_nick_short', 'length(nick) < 100', migration => 'rt_c');
SELECT zdm.begin_rename('rt_folk', 'email', 'mail', migration => 'rt_c');
SELECT zdm.begin_add_column('rt_folk', 'extra', 'int', migration => 'rt_c');
SELECT zdm.begin_set_not_null('rt_folk', 'nick', up => 'coalesce(nick, '''')', migration => 'rt_c');
SELECT zdm.begin_rename_table('rt_folk', 'rt_other', migration => 'rt_c');
SELECT zdm.begin_drop_table('rt_folk', migration => 'rt_c');
SELECT operation FROM zdm.status() WHERE migration = 'rt_c' ORDER BY 1;
SELECT * FROM zdm.pending_statements('rt_c') \gexec
SELECT zdm.finish('rt_c');
SELECT relname, relkind FROM pg_class
  WHERE relname IN ('rt_people', 'rt_folk', 'rt_folk_nick_idx') ORDER BY 1;
SELECT zdm.begin_rename('rt_folk', 'nick', 'handle', migration => 'rt_d');
SELECT zdm.begin_rename_table('rt_folk', 'rt_other', migration => 'rt_d');
SELECT zdm.abort('rt_d');

-- Errors; each leaves everything as it was.
SELECT zdm.begin_rename_table('rt_folk', 'rt_folk');
SELECT zdm.begin_rename_table('rt_folk', 'rt_person_id_seq');   -- a relation has the name
CREATE TYPE rt_taken AS (a int);
SELECT zdm.begin_rename_table('rt_folk', 'rt_taken');           -- a type has the name
SELECT zdm.begin_rename_table('rt_folk', NULL);
SELECT zdm.begin_rename_table(NULL, 'x');
-- Names are quoted everywhere.
SELECT zdm.begin_rename_table('rt_folk', 'rt Folk"q', migration => 'rt_q');
SELECT count(*) FROM "rt Folk""q";
SELECT count(*) FROM rt_folk;
SELECT zdm.abort('rt_q');
CREATE RULE rt_log AS ON DELETE TO rt_folk DO ALSO NOTIFY rt_folk;
SELECT zdm.begin_rename_table('rt_folk', 'rt_other');           -- rules
DROP RULE rt_log ON rt_folk;
CREATE ROLE rt_col_app;
GRANT SELECT (id, email) ON rt_folk TO rt_col_app;
SELECT zdm.begin_rename_table('rt_folk', 'rt_other');           -- column privileges only
REVOKE ALL ON rt_folk FROM rt_col_app;
DROP ROLE rt_col_app;
CREATE VIEW rt_v AS SELECT 1 AS a;
SELECT zdm.begin_rename_table('rt_v', 'rt_w');                  -- not a table
SELECT relname FROM pg_class WHERE relname LIKE 'rt\_%' AND relkind IN ('r', 'v') ORDER BY 1;
SELECT count(*) AS open_migrations FROM zdm.migrations WHERE state = 'active' AND name LIKE 'rt%';
DROP VIEW rt_v;
DROP TYPE rt_taken;
DROP TABLE rt_folk;
DROP ROLE rt_old_app;
