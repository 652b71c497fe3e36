-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- DROP EXTENSION zdm while a migration is open would drop zdm's triggers but
-- keep the column and the CHECK ... NOT VALID begin added, and the catalog
-- abort needs: an event trigger refuses it, as it refuses DROP SCHEMA zdm
-- (which takes the extension along) and DROP OWNED BY the extension's owner.
CREATE TABLE person (id int PRIMARY KEY, last_name text);
INSERT INTO person VALUES (1, 'Lovelace');
SELECT zdm.begin_add_column('person', 'surname', 'text', up => 'last_name', not_null => true,
                            migration => 'surname');
SELECT zdm.begin_rename('person', 'id', 'person_id', migration => 'rename_id');
DROP EXTENSION zdm;
DROP EXTENSION zdm CASCADE;
DROP EXTENSION IF EXISTS pg_nonexistent_extension, zdm CASCADE;
DROP SCHEMA zdm CASCADE;
-- Nothing changed: the trigger is still there and writes still sync.
UPDATE person SET last_name = 'Byron' WHERE id = 1;
SELECT id, last_name, surname FROM person;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'person'::regclass ORDER BY tgname;
-- Other drops are not concerned.
CREATE SCHEMA scratch;
DROP SCHEMA scratch;
-- With one migration finished and one aborted, the drop goes through.
CALL zdm.backfill('surname');
SELECT zdm.finish('surname');
DROP EXTENSION zdm;
SELECT zdm.abort('rename_id');
DROP EXTENSION zdm;
SELECT count(*) AS zdm_triggers FROM pg_trigger WHERE tgrelid = 'person'::regclass;
-- The schema zdm stays behind, empty: PostgreSQL creates the schema a control
-- file names without recording that the extension needs it, and refuses to
-- make an extension a member of its own schema. CREATE EXTENSION reuses it.
SELECT count(*) AS objects_left FROM pg_class WHERE relnamespace = 'zdm'::regnamespace;
CREATE EXTENSION zdm;
ALTER EXTENSION zdm ADD SCHEMA zdm;

-- DROP OWNED BY the role that owns the extension.
SET client_min_messages = warning;
DROP EXTENSION zdm;
RESET client_min_messages;
CREATE ROLE regress_zdm_extension_owner SUPERUSER;
SET ROLE regress_zdm_extension_owner;
CREATE EXTENSION zdm;
RESET ROLE;
SELECT zdm.begin_add_column('person', 'nickname', 'text', migration => 'nickname');
DROP OWNED BY regress_zdm_extension_owner;
DROP OWNED BY regress_zdm_extension_owner, CURRENT_USER;
-- Another role's DROP OWNED is not concerned.
CREATE ROLE regress_zdm_someone;
DROP OWNED BY regress_zdm_someone;
DROP ROLE regress_zdm_someone;
SELECT zdm.abort('nickname');
DROP OWNED BY regress_zdm_extension_owner;
SELECT count(*) AS zdm_installed FROM pg_extension WHERE extname = 'zdm';
DROP ROLE regress_zdm_extension_owner;
DROP TABLE person;

-- The files after this one expect the extension.
CREATE EXTENSION zdm;
