-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- begin_add_unique: its CREATE UNIQUE INDEX CONCURRENTLY is a pending
-- statement; a build that fails on duplicates is reported with the duplicate
-- keys and replaced; finish attaches the index as the constraint (ADD
-- CONSTRAINT ... UNIQUE USING INDEX); abort drops the index.
CREATE TABLE au_person (id int PRIMARY KEY, email text, region text, code int);
INSERT INTO au_person VALUES (1, 'a', 'eu', 1), (2, 'b', 'eu', 1), (3, 'b', 'us', 1),
                             (4, NULL, 'us', NULL), (5, NULL, 'us', NULL);

SELECT zdm.begin_add_unique('au_person', ARRAY['email']);
SELECT * FROM zdm.pending_statements();
SELECT operation, backfill FROM zdm.status();
-- Nothing changes before the build: no index, no trigger, duplicates still accepted.
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'au_person'::regclass ORDER BY 1;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'au_person'::regclass;
-- finish names the duplicates (NULLs are never duplicates) before any build.
SELECT zdm.finish();
-- The concurrent build fails on them and leaves an invalid index: finish names them again.
SELECT * FROM zdm.pending_statements() \gexec
SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indexrelid = 'au_person_email_key'::regclass;
SELECT zdm.finish();
-- Fixed; pending_statements drops the failed build first, then builds again.
UPDATE au_person SET email = 'c' WHERE id = 3;
SELECT * FROM zdm.pending_statements();
SELECT * FROM zdm.pending_statements() \gexec
-- From the moment the index is valid, a duplicate write fails.
INSERT INTO au_person VALUES (6, 'a');
SELECT zdm.finish();
SELECT conname, contype, conindid::regclass FROM pg_constraint
WHERE conrelid = 'au_person'::regclass AND contype = 'u';
SELECT phase, statement FROM zdm.ddl_log ORDER BY id;

-- Several columns and a name; abort drops a built index, and a failed one.
SELECT zdm.begin_add_unique('au_person', ARRAY['region', 'code'], name => 'au_rc', migration => 'rc');
SELECT zdm.finish('rc');
SELECT * FROM zdm.pending_statements('rc') \gexec
SELECT zdm.abort('rc');
SELECT to_regclass('au_rc');
SELECT zdm.begin_add_unique('au_person', ARRAY['id', 'code'], migration => 'built');
SELECT * FROM zdm.pending_statements('built') \gexec
SELECT zdm.abort('built');
SELECT to_regclass('au_person_id_code_key');
SELECT zdm.begin_add_unique('au_person', ARRAY['region'], migration => 'never');
SELECT zdm.abort('never');   -- never built: nothing to drop

-- Errors: each leaves everything as it was.
SELECT zdm.begin_add_unique(NULL, ARRAY['email']);
SELECT zdm.begin_add_unique('au_person', NULL);
SELECT zdm.begin_add_unique('au_person', ARRAY[]::name[]);
SELECT zdm.begin_add_unique('au_person', ARRAY['email', NULL]);
SELECT zdm.begin_add_unique('au_person', ARRAY['nope']);
SELECT zdm.begin_add_unique('au_person', ARRAY['email', 'email']);
SELECT zdm.begin_add_unique('au_person', ARRAY['region'], name => 'au_person_pkey');
SELECT zdm.begin_add_unique('au_person', ARRAY['region'], name => 'au_person');   -- a relation's name
SELECT zdm.begin_add_unique('au_person', ARRAY['region'], name => 'twice', migration => 'one');
SELECT zdm.begin_add_unique('au_person', ARRAY['code'], name => 'twice', migration => 'two');
SELECT zdm.abort('one');
SELECT zdm.begin_drop_column('au_person', 'code', migration => 'drop');
SELECT zdm.begin_add_unique('au_person', ARRAY['code']);
SELECT zdm.abort('drop');
CREATE ROLE zdm_au_other;
SET ROLE zdm_au_other;
SELECT zdm.begin_add_unique('au_person', ARRAY['region']);
RESET ROLE;
DROP ROLE zdm_au_other;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'au_person'::regclass ORDER BY 1;
SELECT count(*) FROM zdm.migrations WHERE state = 'active';
DROP TABLE au_person;
