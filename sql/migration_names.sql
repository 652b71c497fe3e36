-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
DROP SCHEMA IF EXISTS mn_a, mn_b CASCADE;
DROP ROLE IF EXISTS zdm_mn_team_a, zdm_mn_team_b, zdm_mn_alice, zdm_mn_bob;
RESET client_min_messages;
-- Migration names are scoped per owner (#12 item 7): a migration belongs to
-- the role that owned its table at begin, and another owner's migration of
-- the same name never blocks yours. Two teams share the database; alice acts
-- for team A (a member of its owning role), bob for team B.
CREATE ROLE zdm_mn_team_a;
CREATE ROLE zdm_mn_team_b;
CREATE ROLE zdm_mn_alice IN ROLE zdm_mn_team_a;
CREATE ROLE zdm_mn_bob IN ROLE zdm_mn_team_b;
CREATE SCHEMA mn_a AUTHORIZATION zdm_mn_team_a;
CREATE SCHEMA mn_b AUTHORIZATION zdm_mn_team_b;
CREATE TABLE mn_a.person (id int PRIMARY KEY, last_name text);
CREATE TABLE mn_a.pet (id int PRIMARY KEY, name text);
CREATE TABLE mn_b.note (id int PRIMARY KEY, body text);
ALTER TABLE mn_a.person OWNER TO zdm_mn_team_a;
ALTER TABLE mn_a.pet OWNER TO zdm_mn_team_a;
ALTER TABLE mn_b.note OWNER TO zdm_mn_team_b;
INSERT INTO mn_a.person SELECT i, 'name ' || i FROM generate_series(1, 5) i;
INSERT INTO mn_a.pet SELECT i, 'pet ' || i FROM generate_series(1, 3) i;
INSERT INTO mn_b.note SELECT i, 'note ' || i FROM generate_series(1, 4) i;

-- bob takes 'release_42' first.
SET ROLE zdm_mn_bob;
SELECT zdm.begin_rename('mn_b.note', 'body', 'content', migration => 'release_42');
RESET ROLE;

-- alice's 'release_42' is her team's own: begin, add to it, and every call by
-- name acts on it alone.
SET ROLE zdm_mn_alice;
SELECT zdm.begin_rename('mn_a.person', 'last_name', 'surname', migration => 'release_42');
SELECT zdm.begin_create_index('mn_a.pet', ARRAY['name'], migration => 'release_42');
SELECT zdm.run_ddl('CREATE TABLE mn_a.audit (id int)', migration => 'release_42');
SELECT * FROM zdm.pending_statements('release_42');
CALL zdm.backfill('release_42');
SELECT migration, owner, operation, backfill FROM zdm.status() ORDER BY owner, operation;
SELECT zdm.finish('release_42');   -- refused: the index is not built yet
SELECT * FROM zdm.pending_statements('release_42') \gexec
SELECT zdm.finish('release_42');
SELECT zdm.finish('release_42');   -- once only
\d mn_a.person
RESET ROLE;
SELECT name, owner, state FROM zdm.migrations ORDER BY owner, name;

-- bob's is untouched, and still his to finish.
SET ROLE zdm_mn_bob;
CALL zdm.backfill('release_42');
SELECT zdm.finish('release_42');
RESET ROLE;
\d mn_b.note

-- A name is reused only by another owner: alice's finished 'release_42' still
-- holds the name for her team.
SET ROLE zdm_mn_alice;
SELECT zdm.begin_rename('mn_a.person', 'surname', 'family_name', migration => 'release_42');
-- Another team's migration she cannot see is refused as before: by name, it
-- is bob's, and she does not own its table.
RESET ROLE;
SET ROLE zdm_mn_bob;
SELECT zdm.begin_rename('mn_b.note', 'content', 'text_body', migration => 'release_43');
RESET ROLE;
SET ROLE zdm_mn_alice;
SELECT zdm.abort('release_43');
RESET ROLE;

-- A superuser acts for every role: where a name means several migrations, it
-- is told which and how to choose, and nothing changes.
SELECT zdm.begin_rename('mn_a.pet', 'name', 'nickname', migration => 'release_43');
SELECT zdm.abort('release_43');
CALL zdm.backfill('release_43');
SELECT name, owner, state FROM zdm.migrations WHERE name = 'release_43' ORDER BY owner;
SET ROLE zdm_mn_team_a;
SELECT zdm.abort('release_43');
RESET ROLE;
-- With one of them active, that one is meant.
SELECT zdm.abort('release_43');
SELECT name, owner, state FROM zdm.migrations WHERE name = 'release_43' ORDER BY owner;

-- A table handed to another owner during a migration: the new owner's
-- migration of the same name on it is refused (the two would share the
-- table's trigger), with the way out.
SET ROLE zdm_mn_alice;
SELECT zdm.begin_rename('mn_a.pet', 'name', 'label', migration => 'release_44');
RESET ROLE;
ALTER TABLE mn_a.pet OWNER TO zdm_mn_team_b;
GRANT USAGE ON SCHEMA mn_a TO zdm_mn_team_b;
SET ROLE zdm_mn_bob;
SELECT zdm.begin_add_column('mn_a.pet', 'weight', 'int', migration => 'release_44');
RESET ROLE;
SELECT zdm.abort('release_44');

-- zdm.ddl_log names each statement's migration by owner and name, as
-- zdm.migrations does: the two teams' 'release_42' and 'release_43' stay
-- apart, the superuser's begin of a name another role also has open included.
SELECT migration, migration_owner, phase, count(*) AS statements
FROM zdm.ddl_log WHERE migration LIKE 'release\_4_'
GROUP BY migration, migration_owner, phase ORDER BY migration, migration_owner::text, phase;
SELECT count(*) AS without_owner FROM zdm.ddl_log WHERE migration IS NOT NULL AND migration_owner IS NULL;

SET client_min_messages = warning;
DROP SCHEMA mn_a, mn_b CASCADE;
DROP ROLE zdm_mn_alice, zdm_mn_bob, zdm_mn_team_a, zdm_mn_team_b;
