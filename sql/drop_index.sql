-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- begin_drop_index: nothing changes during the window (the old app may still
-- rely on the index); finish drops it in its short step; abort does nothing.
CREATE TABLE di_person (id int PRIMARY KEY, email text, name text, CONSTRAINT di_email_key UNIQUE (email));
CREATE INDEX di_name_idx ON di_person (name);
INSERT INTO di_person VALUES (1, 'a', 'x'), (2, 'b', 'y');

SELECT zdm.begin_drop_index('di_name_idx');
SELECT operation, backfill FROM zdm.status();
SELECT * FROM zdm.pending_statements();
-- Nothing changed: the index is there, valid; no trigger.
SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 'di_person'::regclass ORDER BY 1;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'di_person'::regclass;
SELECT zdm.finish();
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'di_person'::regclass ORDER BY 1;
SELECT phase, statement FROM zdm.ddl_log ORDER BY id;

-- abort does nothing: the index stays.
CREATE INDEX di_name_idx ON di_person (name);
SELECT zdm.begin_drop_index('di_name_idx', migration => 'keep');
SELECT zdm.abort('keep');
SELECT to_regclass('di_name_idx');

-- Composition: with the column's drop in one migration (the column's drop
-- takes the index along; finish's DROP INDEX IF EXISTS then finds nothing).
SELECT zdm.begin_drop_column('di_person', 'name', migration => 'both');
SELECT zdm.begin_drop_index('di_name_idx', migration => 'both');
SELECT zdm.finish('both');
SELECT to_regclass('di_name_idx'), count(*) FROM pg_attribute
WHERE attrelid = 'di_person'::regclass AND attname = 'name';

-- finish refuses when, during the window, a foreign key came to need the index.
ALTER TABLE di_person ADD COLUMN code int;
CREATE UNIQUE INDEX di_id2 ON di_person (code);
SELECT zdm.begin_drop_index('di_id2', migration => 'late_fk');
CREATE TABLE di_child (person_code int);
ALTER TABLE di_child ADD CONSTRAINT di_child_fk FOREIGN KEY (person_code) REFERENCES di_person (code);
SELECT zdm.finish('late_fk');
SELECT to_regclass('di_id2');
ALTER TABLE di_child DROP CONSTRAINT di_child_fk;
SELECT zdm.abort('late_fk');

-- Errors: each leaves everything as it was.
SELECT zdm.begin_drop_index(NULL);
SELECT zdm.begin_drop_index('di_person');             -- a table, not an index
SELECT zdm.begin_drop_index('di_person_pkey');        -- backs a PRIMARY KEY
SELECT zdm.begin_drop_index('di_email_key');          -- backs a UNIQUE constraint
SELECT zdm.begin_drop_index('nope');
ALTER TABLE di_child ADD CONSTRAINT di_child_fk FOREIGN KEY (person_code) REFERENCES di_person (code);
SELECT zdm.begin_drop_index('di_id2');                -- a foreign key needs it
DROP TABLE di_child;
SELECT zdm.begin_drop_index('di_id2', migration => 'twice');
SELECT zdm.begin_drop_index('di_id2', migration => 'twice');
SELECT zdm.abort('twice');
SELECT zdm.begin_create_index('di_person', ARRAY['email'], name => 'di_building', migration => 'build');
SELECT zdm.begin_drop_index('di_person_pkey', migration => 'build');
SELECT * FROM zdm.pending_statements('build') \gexec
SELECT zdm.begin_drop_index('di_building');           -- being built: abort that migration
SELECT zdm.abort('build');
SELECT zdm.begin_alter_type('di_person', 'email', 'varchar(20)', migration => 'alter');
SELECT zdm.begin_drop_index('di_email_key', migration => 'alter');
CREATE INDEX di_email_idx ON di_person (email);
SELECT zdm.begin_drop_index('di_email_idx');          -- alter_type rebuilds it on the shadow column
SELECT zdm.abort('alter');
DROP INDEX di_email_idx;
CREATE ROLE zdm_di_other;
SET ROLE zdm_di_other;
SELECT zdm.begin_drop_index('di_id2');
RESET ROLE;
DROP ROLE zdm_di_other;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'di_person'::regclass ORDER BY 1;
SELECT count(*) FROM zdm.migrations WHERE state = 'active';
DROP TABLE di_person;
