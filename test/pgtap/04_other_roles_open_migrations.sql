-- Another role's open migration never gets in the way of the owner's calls
-- without a name (#12 item 7): backfill(), finish() and abort() consider only
-- the migrations the caller can act on. And no other role can take the lock
-- zdm's steps take: a row lock on the migration's catalog row.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(11);

CREATE ROLE alice;
CREATE ROLE mallory;
CREATE SCHEMA app AUTHORIZATION alice;
CREATE SCHEMA mal AUTHORIZATION mallory;

SET ROLE alice;
CREATE TABLE app.people (id integer PRIMARY KEY, last_name text);
INSERT INTO app.people VALUES (1, 'Lovelace'), (2, 'Hopper');
CREATE TABLE app.pets (id integer PRIMARY KEY, name text);
SET ROLE mallory;
CREATE TABLE mal.notes (id integer PRIMARY KEY, body text);
SELECT is(zdm.begin_rename('mal.notes', 'body', 'content', 'mallorys'), 'mallorys',
          'mallory opens a migration of her own table');
SET ROLE alice;
SELECT is(zdm.begin_rename('app.people', 'last_name', 'surname', 'alices'), 'alices',
          'alice opens hers');

-- alice's calls without a name see only her migration.
SELECT lives_ok('CALL zdm.backfill()', 'alice''s backfill() ignores mallory''s open migration');
SELECT is((SELECT backfill FROM zdm.status() WHERE migration = 'alices'), 'done',
          'and backfilled hers');
-- The lock that makes a step "busy" cannot be taken by another role.
SET ROLE mallory;
SELECT throws_ok($$SELECT 1 FROM zdm.migrations WHERE name = 'alices' FOR UPDATE$$, '42501',
                 NULL, 'mallory cannot lock alice''s catalog row FOR UPDATE');
SELECT throws_ok($$SELECT 1 FROM zdm.migrations WHERE name = 'alices' FOR KEY SHARE$$, '42501',
                 NULL, 'nor FOR KEY SHARE');
SELECT throws_ok('SELECT zdm.finish()', '55000',
                 'cannot finish migration "mallorys": its backfill is not complete',
                 'mallory''s finish() picks her own migration, not alice''s');
SET ROLE alice;
-- Two of her own: the error names them, and only them.
SELECT zdm.begin_rename('app.pets', 'name', 'nickname', 'alices_pets');
SELECT throws_ok('SELECT zdm.abort()', '22023',
                 '2 migrations are active; name the one you mean',
                 'with two of her own, abort() asks which');
SELECT lives_ok($$SELECT zdm.abort('alices_pets')$$, 'alice aborts one by name');
SELECT lives_ok('SELECT zdm.finish()', 'alice''s finish() finishes the other');
RESET ROLE;
SELECT is((SELECT state FROM zdm.migrations WHERE name = 'mallorys'), 'active',
          'mallory''s migration is still open');

SELECT * FROM finish();
ROLLBACK;
