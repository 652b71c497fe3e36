-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- begin_drop_index and begin_drop_constraint of the index that is a
-- published table's replica identity (REPLICA IDENTITY USING INDEX, or the
-- primary key under REPLICA IDENTITY DEFAULT): once it is gone PostgreSQL
-- refuses every UPDATE and DELETE on the table, the old app's and the new
-- app's, so finish would break both. Refused at begin and at finish (a
-- publication may appear during the window), naming the index, the
-- publication and the fix; another identity first lets it go.
\set VERBOSITY default
CREATE TABLE dri (id int PRIMARY KEY, code int NOT NULL, other int NOT NULL, v text);
CREATE UNIQUE INDEX dri_code ON dri (code);
CREATE UNIQUE INDEX dri_other ON dri (other);
INSERT INTO dri SELECT g, g, g, 'v' FROM generate_series(1, 5) g;
SET client_min_messages = error;   -- wal_level's WARNING depends on the server
CREATE PUBLICATION dri_pub FOR TABLE dri;
RESET client_min_messages;

-- The primary key under REPLICA IDENTITY DEFAULT.
SELECT zdm.begin_drop_constraint('dri', 'dri_pkey');
-- An index named by REPLICA IDENTITY USING INDEX.
ALTER TABLE dri REPLICA IDENTITY USING INDEX dri_code;
SELECT zdm.begin_drop_index('dri_code');
SELECT count(*) AS migrations FROM zdm.migrations WHERE name LIKE '%dri%';
-- Now the primary key is no identity: it may go.
SELECT zdm.begin_drop_constraint('dri', 'dri_pkey', migration => 'dri_pk');
SELECT zdm.finish('dri_pk');
UPDATE dri SET v = 'w' WHERE code = 1;

-- A publication that appears during the window: finish refuses.
CREATE TABLE dri2 (id int PRIMARY KEY, v text);
INSERT INTO dri2 VALUES (1, 'a');
SELECT zdm.begin_drop_constraint('dri2', 'dri2_pkey', migration => 'dri2_pk');
SET client_min_messages = error;
CREATE PUBLICATION dri2_pub FOR TABLE dri2 WITH (publish = 'insert, delete');
RESET client_min_messages;
SELECT zdm.finish('dri2_pk');
SELECT conname FROM pg_constraint WHERE conrelid = 'dri2'::regclass;
ALTER TABLE dri2 REPLICA IDENTITY FULL;
SELECT zdm.finish('dri2_pk');
DELETE FROM dri2 WHERE id = 1;

-- The index that was the identity, once another one is: fine.
ALTER TABLE dri REPLICA IDENTITY USING INDEX dri_other;
SELECT zdm.begin_drop_index('dri_code', migration => 'dri_code');
SELECT zdm.finish('dri_code');
UPDATE dri SET v = 'x' WHERE other = 2;
DROP PUBLICATION dri_pub, dri2_pub;
DROP TABLE dri, dri2;
