-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
DROP TABLE IF EXISTS wr_pg_generated, wr_pg_default, wr_pg_check, wr_person, wr_open CASCADE;
DROP SCHEMA IF EXISTS zdm_wr_priv, zdm_wr_admin CASCADE;
DROP ROLE IF EXISTS zdm_wr_owner, zdm_wr_app, zdm_wr_late, zdm_wr_writers, zdm_wr_member, zdm_wr_dba,
  zdm_wr_dba_noinherit;
RESET client_min_messages;
-- What a writer of the table needs once a migration is open. zdm computes
-- up, down and its conversions in the writing session, with the writer's
-- rights, as PostgreSQL computes a column default, a generated column or a
-- CHECK: the writer needs EXECUTE on the functions they call, and nothing
-- else (no USAGE on their schemas or types, which the stored expression
-- names by OID). begin refuses when a role that may write the table could not
-- execute them: after begin, its every INSERT or UPDATE would fail.
CREATE ROLE zdm_wr_owner LOGIN;    -- owns the tables, the functions and their schema
CREATE ROLE zdm_wr_app LOGIN;      -- the old app: INSERT/UPDATE, nothing on the functions
CREATE ROLE zdm_wr_late LOGIN;     -- granted INSERT/UPDATE during the window
GRANT CREATE ON SCHEMA public TO zdm_wr_owner;
CREATE SCHEMA zdm_wr_priv AUTHORIZATION zdm_wr_owner;   -- no USAGE for the apps
SET ROLE zdm_wr_owner;
-- An SQL function (the planner may inline it) and a PL/pgSQL one (it may not),
-- both executable by their owner only.
CREATE FUNCTION zdm_wr_priv.initial(t text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT upper(left(t, 1)) $$;
CREATE FUNCTION zdm_wr_priv.legacy(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE
  AS $$ BEGIN RETURN 'legacy:' || t; END $$;
CREATE FUNCTION zdm_wr_priv.in_range(n int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE
  AS $$ BEGIN RETURN n BETWEEN 0 AND 100; END $$;
REVOKE EXECUTE ON FUNCTION zdm_wr_priv.initial(text), zdm_wr_priv.legacy(text),
  zdm_wr_priv.in_range(int) FROM PUBLIC;
CREATE DOMAIN zdm_wr_priv.score AS int CHECK (zdm_wr_priv.in_range(VALUE));
REVOKE USAGE ON DOMAIN zdm_wr_priv.score FROM PUBLIC;
CREATE SEQUENCE zdm_wr_priv.ids;

-- PostgreSQL's own rule, for the same writer: a generated column, a column
-- DEFAULT and a CHECK that call a function check the writer's EXECUTE.
CREATE TABLE wr_pg_generated (id int, name text,
                              initial text GENERATED ALWAYS AS (zdm_wr_priv.initial(name)) STORED);
CREATE TABLE wr_pg_default (id int, code text DEFAULT zdm_wr_priv.legacy('x'));
CREATE TABLE wr_pg_check (id int, name text CHECK (zdm_wr_priv.legacy(name) <> ''));
GRANT INSERT ON wr_pg_generated, wr_pg_default, wr_pg_check TO zdm_wr_app;
SET ROLE zdm_wr_app;
INSERT INTO wr_pg_generated (id, name) VALUES (1, 'ada');
INSERT INTO wr_pg_default (id) VALUES (1);
INSERT INTO wr_pg_check VALUES (1, 'ada');
RESET ROLE;
-- ... and only EXECUTE: no USAGE on the function's schema.
GRANT EXECUTE ON FUNCTION zdm_wr_priv.initial(text), zdm_wr_priv.legacy(text) TO zdm_wr_app;
SET ROLE zdm_wr_app;
INSERT INTO wr_pg_generated (id, name) VALUES (1, 'ada');
INSERT INTO wr_pg_default (id) VALUES (1);
INSERT INTO wr_pg_check VALUES (1, 'ada');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION zdm_wr_priv.initial(text), zdm_wr_priv.legacy(text) FROM zdm_wr_app;
SELECT g.initial, d.code FROM wr_pg_generated g, wr_pg_default d;

SET ROLE zdm_wr_owner;
CREATE TABLE wr_person (id int PRIMARY KEY, name text, email text, score int);
INSERT INTO wr_person VALUES (1, 'ada', 'ada@example.com', 10), (2, 'grace', NULL, 20);
GRANT SELECT, INSERT, UPDATE, DELETE ON wr_person TO zdm_wr_app;

-- up calls a function the old app may not execute: begin refuses, naming the
-- role and the function, and changes nothing.
SELECT zdm.begin_add_column('wr_person', 'initial', 'text', up => 'zdm_wr_priv.initial(name)');
SELECT zdm.begin_add_column('wr_person', 'code', 'text', up => 'zdm_wr_priv.legacy(name)');
SELECT count(*) AS migrations FROM zdm.migrations;
SELECT count(*) AS columns FROM pg_attribute
 WHERE attrelid = 'wr_person'::regclass AND attname IN ('initial', 'code');
-- So do down, default_expr, add_check's expression, set_not_null's up, an
-- index expression, and a conversion to a domain whose CHECK calls one.
SELECT zdm.begin_drop_column('wr_person', 'email', down => 'zdm_wr_priv.legacy(name)');
SELECT zdm.begin_add_column('wr_person', 'code', 'text', default_expr => 'zdm_wr_priv.legacy(''x'')');
SELECT zdm.begin_add_check('wr_person', 'wr_named', 'zdm_wr_priv.legacy(name) <> ''''');
SELECT zdm.begin_set_not_null('wr_person', 'email', up => 'coalesce(email, zdm_wr_priv.legacy(name))');
SELECT zdm.begin_create_index('wr_person', ARRAY['zdm_wr_priv.initial(name)']);
SELECT zdm.begin_alter_type('wr_person', 'score', 'zdm_wr_priv.score');
-- A sequence cannot be used at all: nextval is volatile.
SELECT zdm.begin_add_column('wr_person', 'serial', 'bigint',
                            default_expr => 'nextval(''zdm_wr_priv.ids'')');
SELECT count(*) AS migrations FROM zdm.migrations;

-- Once granted, begin opens, and the old app writes with EXECUTE alone: it
-- needs no USAGE on the function's schema nor on the domain.
RESET ROLE;
GRANT EXECUTE ON FUNCTION zdm_wr_priv.initial(text), zdm_wr_priv.in_range(int) TO zdm_wr_app;
SET ROLE zdm_wr_owner;
SELECT zdm.begin_add_column('wr_person', 'initial', 'text', up => 'zdm_wr_priv.initial(name)',
                            migration => 'wr_initial');
SELECT zdm.begin_alter_type('wr_person', 'score', 'zdm_wr_priv.score',
                            up => '(score + 0)::zdm_wr_priv.score', migration => 'wr_score');
SET ROLE zdm_wr_app;
INSERT INTO wr_person (id, name, score) VALUES (3, 'edsger', 30);
UPDATE wr_person SET name = 'barbara' WHERE id = 2;
COPY wr_person (id, name, score) FROM stdin;
4	donald	40
\.
MERGE INTO wr_person p USING (VALUES (5, 'alan', 50)) v(id, name, score) ON p.id = v.id
  WHEN NOT MATCHED THEN INSERT (id, name, score) VALUES (v.id, v.name, v.score);
UPDATE wr_person SET score = 101 WHERE id = 3;          -- the domain's CHECK applies
RESET ROLE;
SELECT id, name, initial, score, score_new FROM wr_person ORDER BY id;

-- A role granted write rights during the window gets PostgreSQL's rule: its
-- writes need EXECUTE too, whoever compiled the expression first in the
-- session (here the owner, just before), and the error names the function,
-- the migration and the grant.
GRANT SELECT, INSERT, UPDATE ON wr_person TO zdm_wr_late;
GRANT USAGE ON SCHEMA zdm_wr_priv TO zdm_wr_late;
GRANT EXECUTE ON FUNCTION zdm_wr_priv.in_range(int) TO zdm_wr_late;
SET ROLE zdm_wr_owner;
INSERT INTO wr_person (id, name, score) VALUES (6, 'frances', 60);
SET ROLE zdm_wr_late;
INSERT INTO wr_person (id, name, score) VALUES (7, 'john', 70);
UPDATE wr_person SET name = 'johanna' WHERE id = 6;
RESET ROLE;
GRANT EXECUTE ON FUNCTION zdm_wr_priv.initial(text) TO zdm_wr_late;
SET ROLE zdm_wr_late;
INSERT INTO wr_person (id, name, score) VALUES (7, 'john', 70);
RESET ROLE;
-- Revoked again: the next write sees it at once.
REVOKE EXECUTE ON FUNCTION zdm_wr_priv.initial(text) FROM zdm_wr_late;
SET ROLE zdm_wr_late;
UPDATE wr_person SET name = 'jon' WHERE id = 7;
RESET ROLE;
-- Through a role it is a member of, granted after its first write.
CREATE ROLE zdm_wr_writers NOLOGIN;
GRANT EXECUTE ON FUNCTION zdm_wr_priv.initial(text) TO zdm_wr_writers;
GRANT zdm_wr_writers TO zdm_wr_late;
SET ROLE zdm_wr_late;
UPDATE wr_person SET name = 'jon' WHERE id = 7;
RESET ROLE;
REVOKE zdm_wr_writers FROM zdm_wr_late;
SET ROLE zdm_wr_late;
UPDATE wr_person SET name = 'johnny' WHERE id = 7;
RESET ROLE;

-- The backfill runs as whoever calls it (the owner, a member of it, or a
-- superuser), with the same rule: a member of the owning role has the
-- owner's EXECUTE; one that does not inherit it may not run it at all.
CREATE ROLE zdm_wr_dba LOGIN IN ROLE zdm_wr_owner;
CREATE ROLE zdm_wr_dba_noinherit LOGIN NOINHERIT IN ROLE zdm_wr_owner;
SET client_min_messages = warning;
SET ROLE zdm_wr_dba_noinherit;
CALL zdm.backfill('wr_initial');
SET ROLE zdm_wr_dba;
CALL zdm.backfill('wr_initial');
RESET ROLE;
CALL zdm.backfill('wr_score');
RESET client_min_messages;
SELECT id, name, initial, score, score_new FROM wr_person ORDER BY id;
SET ROLE zdm_wr_owner;
SELECT zdm.finish('wr_initial');
SELECT zdm.abort('wr_score');
RESET ROLE;

-- A group role that writes through its members, and PUBLIC.
REVOKE SELECT, INSERT, UPDATE ON wr_person FROM zdm_wr_late;
CREATE ROLE zdm_wr_member LOGIN IN ROLE zdm_wr_writers;
GRANT INSERT ON wr_person TO zdm_wr_writers;
SET ROLE zdm_wr_owner;
SELECT zdm.begin_add_column('wr_person', 'code', 'text', up => 'zdm_wr_priv.legacy(name)');
CREATE TABLE wr_open (id int PRIMARY KEY, name text);
GRANT INSERT, UPDATE ON wr_open TO PUBLIC;
SELECT zdm.begin_add_column('wr_open', 'code', 'text', up => 'zdm_wr_priv.legacy(name)');
RESET ROLE;
SELECT count(*) AS active_migrations FROM zdm.migrations WHERE state = 'active';

-- The trigger compiles the expression as the table's owner, whoever writes:
-- begin, here a superuser's on the owner's table, refuses when the owner
-- could not (no USAGE on a schema it names), rather than leave every write
-- failing.
CREATE SCHEMA zdm_wr_admin;
CREATE FUNCTION zdm_wr_admin.initial(t text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT upper(left(t, 1)) $$;
SELECT zdm.begin_add_column('wr_person', 'code', 'text', up => 'zdm_wr_admin.initial(name)');
SELECT count(*) AS active_migrations FROM zdm.migrations WHERE state = 'active';
SET ROLE zdm_wr_app;
INSERT INTO wr_person (id, name) VALUES (9, 'dorothy');
RESET ROLE;
GRANT USAGE ON SCHEMA zdm_wr_admin TO zdm_wr_owner;
SELECT zdm.begin_add_column('wr_person', 'code', 'text', up => 'zdm_wr_admin.initial(name)',
                            migration => 'wr_admin');
SET ROLE zdm_wr_app;
INSERT INTO wr_person (id, name) VALUES (8, 'katherine');
RESET ROLE;
SELECT id, name, code FROM wr_person WHERE id = 8;
SELECT zdm.abort('wr_admin');

SET client_min_messages = warning;
DROP TABLE wr_pg_generated, wr_pg_default, wr_pg_check, wr_person, wr_open CASCADE;
DROP SCHEMA zdm_wr_priv, zdm_wr_admin CASCADE;
REVOKE CREATE ON SCHEMA public FROM zdm_wr_owner;
DROP ROLE zdm_wr_owner, zdm_wr_app, zdm_wr_late, zdm_wr_writers, zdm_wr_member, zdm_wr_dba,
  zdm_wr_dba_noinherit;
