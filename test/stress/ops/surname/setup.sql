-- ops/surname/setup.sql: the table before the migration, seeded, plus the side
-- table the apps record their writes in.
-- psql variables (set by run.sh): seed = rows to seed.
CREATE EXTENSION IF NOT EXISTS zdm;

CREATE TABLE person (
    id         bigint PRIMARY KEY,
    first_name text,
    last_name  text NOT NULL
);
-- The apps take new ids from here (the table itself has no default).
CREATE SEQUENCE person_id_seq START WITH 1;

-- Every key an app wrote, with the value it wrote, recorded in the same
-- transaction as the write. seq orders the writes to one row: an app takes the
-- row lock first and only then draws seq, so seq follows the commit order of
-- the writes to any one id.
CREATE TABLE written (
    seq    bigserial PRIMARY KEY,
    client integer NOT NULL,          -- app instance * 1000 + pgbench client_id
    id     bigint  NOT NULL,
    value  text    NOT NULL,
    side   text    NOT NULL CHECK (side IN ('old', 'new')),
    kind   text    NOT NULL CHECK (kind IN ('insert', 'update')),
    at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON written (id, seq);

INSERT INTO person (id, first_name, last_name)
SELECT g, 'first_' || g, 'seed-' || g FROM generate_series(1, :seed) g;
SELECT setval('person_id_seq', :seed);

-- What the checks compare against once the migration is over.
CREATE TABLE stress_meta AS
SELECT a.attnum AS last_name_attnum
  FROM pg_attribute a
 WHERE a.attrelid = 'person'::regclass AND a.attname = 'last_name';

VACUUM ANALYZE person;
