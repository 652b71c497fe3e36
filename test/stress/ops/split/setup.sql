-- ops/split/setup.sql: the table before the migration, seeded, plus the side
-- table the apps record their writes in.
-- psql variables (set by run.sh): seed = rows to seed.
-- Every full_name is two words with no space inside either word, so that
-- full_name -> (first_name, last_name) -> full_name is exact.
CREATE EXTENSION IF NOT EXISTS zdm;

CREATE TABLE author (
    id        bigint PRIMARY KEY,
    full_name text,
    note      text            -- the column the apps' "touch" updates write
);
-- The apps take new ids from here (the table itself has no default).
CREATE SEQUENCE author_id_seq START WITH 1;

-- Every key an app wrote, with the full name it wrote (the new app's
-- first_name || ' ' || last_name), recorded in the same transaction as the
-- write. seq orders the writes to one row: an app takes the row lock first and
-- only then draws seq, so seq follows the commit order of the writes to any one id.
CREATE TABLE written (
    seq    bigserial PRIMARY KEY,
    client integer NOT NULL,          -- app instance * 1000 + pgbench client_id
    id     bigint  NOT NULL,
    value  text    NOT NULL CHECK (value ~ '^[^ ]+ [^ ]+$'),
    side   text    NOT NULL CHECK (side IN ('old', 'new')),
    kind   text    NOT NULL CHECK (kind IN ('insert', 'update')),
    at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON written (id, seq);

INSERT INTO author (id, full_name, note)
SELECT g, 'sf' || g || ' sl' || g, 'seed' FROM generate_series(1, :seed) g;
SELECT setval('author_id_seq', :seed);

-- What the checks compare against once the migration is over.
CREATE TABLE stress_meta AS
SELECT a.attnum AS full_name_attnum
  FROM pg_attribute a
 WHERE a.attrelid = 'author'::regclass AND a.attname = 'full_name';

VACUUM ANALYZE author;
