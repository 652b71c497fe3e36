-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- DDL around an open migration: BEFORE row triggers fire in name order, and
-- zdm's zzz_zdm_dual_write must run after the table's own. A user trigger
-- that sorts after it (zzzz_lower_email) would change a column after the sync,
-- and the two shapes would diverge: begin refuses such a table, and CREATE
-- TRIGGER / ALTER TRIGGER ... RENAME cannot make one during the window.
CREATE TABLE account (id int PRIMARY KEY, email text);
INSERT INTO account VALUES (1, 'Ada@Example.com');
CREATE FUNCTION lower_email() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
CREATE TRIGGER zzzz_lower_email BEFORE INSERT OR UPDATE ON account
  FOR EACH ROW EXECUTE FUNCTION lower_email();
SELECT zdm.begin_rename('account', 'email', 'mail');
-- AFTER, statement-level and BEFORE DELETE triggers do not change the row.
DROP TRIGGER zzzz_lower_email ON account;
CREATE TRIGGER zzzz_after AFTER INSERT ON account FOR EACH ROW EXECUTE FUNCTION lower_email();
CREATE TRIGGER zzzz_statement BEFORE UPDATE ON account
  FOR EACH STATEMENT EXECUTE FUNCTION lower_email();
CREATE TRIGGER zzzz_delete BEFORE DELETE ON account FOR EACH ROW EXECUTE FUNCTION lower_email();
CREATE TRIGGER lower_email BEFORE INSERT OR UPDATE ON account
  FOR EACH ROW EXECUTE FUNCTION lower_email();
SELECT zdm.begin_rename('account', 'email', 'mail');
-- During the window.
CREATE TRIGGER zzzz_lower_email BEFORE UPDATE ON account
  FOR EACH ROW EXECUTE FUNCTION lower_email();
CREATE OR REPLACE TRIGGER zzzz_after BEFORE INSERT ON account
  FOR EACH ROW EXECUTE FUNCTION lower_email();
ALTER TRIGGER lower_email ON account RENAME TO zzzz_lower_email;
-- A name that sorts before zdm's is fine (byte order: '_' < 'z').
ALTER TRIGGER lower_email ON account RENAME TO zzz_lower_email;
UPDATE account SET email = 'ADA@EXAMPLE.COM' WHERE id = 1;
INSERT INTO account (id, mail) VALUES (2, 'Grace@Example.com');
SELECT id, email, mail FROM account ORDER BY id;
CALL zdm.backfill();
SELECT zdm.finish();
-- Once the migration is over, any name goes.
CREATE TRIGGER zzzz_lower_email BEFORE UPDATE ON account
  FOR EACH ROW EXECUTE FUNCTION lower_email();
DROP TABLE account;
DROP FUNCTION lower_email();

-- A table under migration must not join an inheritance tree during the window:
-- the dual-write trigger is on the parent only, a child inherits its NOT VALID
-- checks without the trigger, and backfill and finish refuse the tree.
CREATE TABLE person (id int PRIMARY KEY, last_name text);
INSERT INTO person VALUES (1, 'Lovelace');
SELECT zdm.begin_add_column('person', 'surname', 'text', up => 'last_name', not_null => true,
                            migration => 'surname');
CREATE TABLE person_archive () INHERITS (person);
CREATE TABLE person_extra (id int NOT NULL, last_name text, surname text,
                           CONSTRAINT surname_not_null CHECK (surname IS NOT NULL));
ALTER TABLE person_extra INHERIT person;
CREATE TABLE base (id int);
ALTER TABLE person INHERIT base;
CREATE TABLE people (id int, last_name text, surname text) PARTITION BY RANGE (id);
ALTER TABLE people ATTACH PARTITION person FOR VALUES FROM (0) TO (100);
CREATE FOREIGN DATA WRAPPER ddl_guards_fdw;
CREATE SERVER ddl_guards_server FOREIGN DATA WRAPPER ddl_guards_fdw;
CREATE FOREIGN TABLE person_remote () INHERITS (person) SERVER ddl_guards_server;
CREATE FOREIGN TABLE person_remote (id int NOT NULL, last_name text, surname text,
                                    CONSTRAINT surname_not_null CHECK (surname IS NOT NULL))
  SERVER ddl_guards_server;
ALTER FOREIGN TABLE person_remote INHERIT person;
DROP FOREIGN TABLE person_remote;
DROP SERVER ddl_guards_server;
DROP FOREIGN DATA WRAPPER ddl_guards_fdw;
-- Unrelated inheritance and ALTER TABLE still work.
CREATE TABLE base_child () INHERITS (base);
ALTER TABLE person_extra ADD COLUMN note text;
-- A child that appeared anyway (the guard disabled by a superuser, or before
-- zdm had it): backfill and finish refuse and name the way out; abort works.
ALTER EVENT TRIGGER zdm_guard_ddl DISABLE;
CREATE TABLE person_archive () INHERITS (person);
ALTER EVENT TRIGGER zdm_guard_ddl ENABLE;
CALL zdm.backfill('surname');
SELECT zdm.finish('surname');
-- Way out 1: detach the child, then backfill and finish.
ALTER TABLE person_archive NO INHERIT person;
CALL zdm.backfill('surname');
SELECT zdm.finish('surname');
SELECT attname, attislocal FROM pg_attribute
WHERE attrelid = 'person_archive'::regclass AND attnum > 0 ORDER BY attnum;
-- Way out 2: abort, which works on a tree.
SELECT zdm.begin_add_column('person', 'nickname', 'text', up => 'surname', not_null => true,
                            migration => 'nickname');
ALTER EVENT TRIGGER zdm_guard_ddl DISABLE;
CREATE TABLE person_new () INHERITS (person);
ALTER EVENT TRIGGER zdm_guard_ddl ENABLE;
SELECT zdm.abort('nickname');
SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relname IN ('person', 'person_new') AND a.attnum > 0
  AND NOT a.attisdropped ORDER BY c.relname, a.attnum;
SELECT conrelid::regclass, conname FROM pg_constraint
WHERE conrelid IN ('person'::regclass, 'person_new'::regclass)
  AND contype = 'c';
SELECT count(*) AS zdm_triggers FROM pg_trigger WHERE tgrelid = 'person'::regclass;
DROP TABLE person CASCADE;
DROP TABLE person_archive, person_extra, base CASCADE;
DROP TABLE people;
