-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- add_foreign_key and add_unique join an open rename migration: one
-- migration, old and new app writing, one backfill, one finish for all three.
CREATE TABLE cc_team (id int PRIMARY KEY);
CREATE TABLE cc_person (id int PRIMARY KEY, last_name text, email text, team_id int);
INSERT INTO cc_team VALUES (1), (2);
INSERT INTO cc_person VALUES (1, 'Smith', 'a@x', 1), (2, 'Jones', 'b@x', 2), (3, 'Lee', 'b@x', 7);

SELECT zdm.begin_rename('cc_person', 'last_name', 'surname', migration => 'cc');
SELECT zdm.begin_add_foreign_key('cc_person', ARRAY['team_id'], 'cc_team', ARRAY['id'],
                                 migration => 'cc');
SELECT zdm.begin_add_unique('cc_person', ARRAY['email'], migration => 'cc');
SELECT operation, backfill FROM zdm.status() ORDER BY operation;
-- The old app writes last_name, the new app surname; both are bound by the new foreign key.
INSERT INTO cc_person (id, last_name, email, team_id) VALUES (4, 'Old', 'c@x', 1);
INSERT INTO cc_person (id, surname, email, team_id) VALUES (5, 'New', 'd@x', 2);
INSERT INTO cc_person (id, surname, email, team_id) VALUES (6, 'Bad', 'e@x', 9);
CALL zdm.backfill('cc');
-- finish refuses while either constraint has something against it, naming it.
SELECT zdm.finish('cc');
UPDATE cc_person SET email = 'f@x' WHERE id = 3;
SELECT * FROM zdm.pending_statements('cc') \gexec
SELECT zdm.finish('cc');
UPDATE cc_person SET team_id = NULL WHERE id = 3;
SELECT zdm.finish('cc');
SELECT migration, state, operation FROM zdm.status() ORDER BY operation;
SELECT id, surname, email, team_id FROM cc_person ORDER BY id;
SELECT conname, contype, convalidated FROM pg_constraint WHERE conrelid = 'cc_person'::regclass
ORDER BY 1;
SELECT attname FROM pg_attribute WHERE attrelid = 'cc_person'::regclass AND attnum > 0
AND NOT attisdropped ORDER BY attnum;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'cc_person'::regclass AND NOT tgisinternal;
DROP TABLE cc_person, cc_team;
