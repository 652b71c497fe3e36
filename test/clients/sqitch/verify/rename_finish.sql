-- Verify zdm_client:rename_finish on pg: last_name is gone, surname is NOT NULL.
SELECT 1 / (NOT EXISTS (SELECT 1 FROM pg_attribute
                         WHERE attrelid = 'person'::regclass AND attname = 'last_name'
                           AND NOT attisdropped))::int;
SELECT 1 / attnotnull::int FROM pg_attribute
 WHERE attrelid = 'person'::regclass AND attname = 'surname' AND NOT attisdropped;
