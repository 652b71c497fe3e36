-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
-- A committing backfill's memory stays flat: each statement's result is
-- copied in a context of its own that is deleted with it, not in SPI's
-- procedure context, which lives as long as the CALL. Sampled during the CALL
-- by a user trigger that fires once per batch.
CREATE TABLE many (id int PRIMARY KEY, v text);
INSERT INTO many SELECT i, 'v' || i FROM generate_series(1, 3000) i;
SELECT zdm.begin_rename('many', 'v', 'w') IS NOT NULL AS begun;
CREATE TABLE memory_sample (n serial, used bigint);
CREATE FUNCTION sample_memory() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO memory_sample (used)
  SELECT sum(used_bytes) FROM pg_backend_memory_contexts;
  RETURN NULL;
END $$;
CREATE TRIGGER sample_memory AFTER UPDATE ON many FOR EACH STATEMENT
EXECUTE FUNCTION sample_memory();
CALL zdm.backfill(batch_size => 3);
-- 1000 batches; before the fix each one left ~1 kB behind (about 1 MB in all).
SELECT count(*) >= 1000 AS sampled_every_batch,
       (SELECT used FROM memory_sample ORDER BY n DESC LIMIT 1)
         - (SELECT used FROM memory_sample WHERE n = 10) < 262144 AS flat
FROM memory_sample;
SELECT count(*) AS unconverted FROM many WHERE w IS DISTINCT FROM v;
SELECT zdm.finish();
DROP TABLE many, memory_sample;
DROP FUNCTION sample_memory();
