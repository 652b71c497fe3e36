-- zdm.run_ddl: one DDL statement through the lock-safe runner, after a linter
-- that refuses (unless force) what takes long locks or rewrites the table.
\set VERBOSITY default
DROP TABLE IF EXISTS rd_t CASCADE;
CREATE TABLE rd_t (id int PRIMARY KEY, a text, v varchar(10), n numeric(10,2), b int,
                   ts timestamp(0), c char(3));
INSERT INTO rd_t SELECT g, 'x', 'y', 1, g, '2024-01-01', 'abc' FROM generate_series(1, 10) g;
DELETE FROM zdm.ddl_log;

-- Refused, each with the safe alternative; nothing changes.
SELECT zdm.run_ddl('CREATE INDEX ON rd_t (a)');
SELECT zdm.run_ddl('CREATE UNIQUE INDEX CONCURRENTLY ON rd_t (b)');
SELECT zdm.run_ddl('REINDEX TABLE rd_t');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD CONSTRAINT b_pos CHECK (b > 0)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD FOREIGN KEY (b) REFERENCES rd_t (id)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD UNIQUE (b)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN b TYPE bigint');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN v TYPE varchar(5)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN n TYPE numeric(12,3)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN a TYPE varchar(20)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN v TYPE varchar(20) USING v || ''''');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN c TYPE char(5)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN a SET NOT NULL');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN created timestamptz DEFAULT clock_timestamp()');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN seq bigserial');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN g int GENERATED ALWAYS AS (b * 2) STORED');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN r int REFERENCES rd_t (id)');
SELECT zdm.run_ddl('ALTER TABLE rd_t SET LOGGED');
SELECT zdm.run_ddl('VACUUM FULL rd_t');
SELECT zdm.run_ddl('VACUUM rd_t');
SELECT zdm.run_ddl('CLUSTER rd_t USING rd_t_pkey');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN ok1 int, ADD CONSTRAINT b_pos CHECK (b > 0)');
-- Not one DDL statement.
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN z int; DROP TABLE rd_t');
SELECT zdm.run_ddl('COMMIT');
SELECT zdm.run_ddl('');
SELECT zdm.run_ddl(NULL);
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN z int', NULL);
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN z int', migration => 'no_such_migration');
-- Nothing of the above ran.
SELECT count(*) AS logged FROM zdm.ddl_log;
SELECT attname FROM pg_attribute WHERE attrelid = 'rd_t'::regclass AND attnum > 0 ORDER BY attnum;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'rd_t'::regclass ORDER BY 1;
SELECT conname FROM pg_constraint WHERE conrelid = 'rd_t'::regclass ORDER BY 1;

-- The safe forms run, and are logged.
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD CONSTRAINT b_pos CHECK (b > 0) NOT VALID');
SELECT zdm.run_ddl('ALTER TABLE rd_t VALIDATE CONSTRAINT b_pos');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD CONSTRAINT b_fk FOREIGN KEY (b) REFERENCES rd_t (id) NOT VALID');
SELECT zdm.run_ddl('ALTER TABLE rd_t VALIDATE CONSTRAINT b_fk');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN v TYPE varchar(20)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN n TYPE numeric(12,2)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN ts TYPE timestamp(3)');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN v TYPE text');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN a SET NOT NULL');  -- the check is not validated yet
SELECT zdm.run_ddl('ALTER TABLE rd_t VALIDATE CONSTRAINT a_nn');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN a SET NOT NULL');
SELECT zdm.run_ddl('ALTER TABLE rd_t ALTER COLUMN a SET NOT NULL');  -- already NOT NULL
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN note text DEFAULT ''none''');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN added date DEFAULT now()');  -- stable: evaluated once
SELECT zdm.run_ddl('COMMENT ON TABLE rd_t IS ''run through zdm''');
-- force runs a refused statement, still lock-safe, with a NOTICE.
SELECT zdm.run_ddl('CREATE INDEX rd_t_a ON rd_t (a)', force => true);
-- PostgreSQL's own errors come through unchanged.
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN note text');
SELECT zdm.run_ddl('ALTER TABLE rd_no_such ADD COLUMN x int');

SELECT migration, phase, statement, attempts FROM zdm.ddl_log ORDER BY id;
SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
 WHERE attrelid = 'rd_t'::regclass AND attnum > 0 ORDER BY attnum;
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'rd_t'::regclass ORDER BY 1;
SELECT obj_description('rd_t'::regclass, 'pg_class');

-- Attached to an open migration, it is logged under it; a finished one refuses.
SELECT zdm.begin_rename('rd_t', 'note', 'remark', 'rd_mig');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN extra int', migration => 'rd_mig');
SELECT migration, phase, statement FROM zdm.ddl_log WHERE phase = 'run_ddl' AND migration IS NOT NULL;
SELECT zdm.abort('rd_mig');
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN extra2 int', migration => 'rd_mig');

-- A role that does not own the table gets PostgreSQL's own refusal.
CREATE ROLE rd_other;
GRANT USAGE ON SCHEMA public TO rd_other;
SET ROLE rd_other;
SELECT zdm.run_ddl('ALTER TABLE rd_t ADD COLUMN x int');
RESET ROLE;
REVOKE USAGE ON SCHEMA public FROM rd_other;
DROP ROLE rd_other;
DROP TABLE rd_t;
