-- rename's finish drops the new copy and gives the old column its name: what
-- was built on the copy during the window would be lost silently, so finish
-- refuses, naming it, and changes nothing.
SET client_min_messages = warning;
DROP TABLE IF EXISTS fd_acc CASCADE;
RESET client_min_messages;
CREATE TABLE fd_acc (id int PRIMARY KEY, login text NOT NULL CHECK (login <> ''));
INSERT INTO fd_acc SELECT g, 'user' || g FROM generate_series(1, 10) g;
SELECT zdm.begin_rename('fd_acc', 'login', 'username', 'fd_r');
SET client_min_messages = warning;
CALL zdm.backfill('fd_r');
RESET client_min_messages;
-- zdm's own NOT VALID checks on the copy (NOT NULL, the CHECK) do not count
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'fd_acc'::regclass ORDER BY 1;

-- an index, a UNIQUE constraint and a CHECK on the new name
CREATE INDEX fd_acc_username_idx ON fd_acc (username);
ALTER TABLE fd_acc ADD CONSTRAINT fd_acc_username_key UNIQUE (username);
ALTER TABLE fd_acc ADD CONSTRAINT fd_acc_username_len CHECK (length(username) < 100);
SELECT zdm.finish('fd_r');
SELECT state FROM zdm.migrations WHERE name = 'fd_r';
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'fd_acc'::regclass ORDER BY 1;

-- a view on the new name: named too, not PostgreSQL's raw "cannot drop column"
DROP INDEX fd_acc_username_idx;
ALTER TABLE fd_acc DROP CONSTRAINT fd_acc_username_key, DROP CONSTRAINT fd_acc_username_len;
CREATE VIEW fd_acc_names AS SELECT id, username FROM fd_acc;
SELECT zdm.finish('fd_r');
DROP VIEW fd_acc_names;

-- built on the old column instead, they follow it to the new name
CREATE UNIQUE INDEX fd_acc_login_key ON fd_acc (login);
SELECT zdm.finish('fd_r');
SELECT pg_get_indexdef('fd_acc_login_key'::regclass);
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'fd_acc'::regclass ORDER BY 1;
INSERT INTO fd_acc (id, username) VALUES (100, 'user1');
DROP TABLE fd_acc;
