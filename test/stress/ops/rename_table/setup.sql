-- ops/rename_table/setup.sql: the table before the migration (person, renamed
-- to people by begin.sql), seeded, plus the side table the apps record their
-- writes in. psql variables (set by run.sh): seed = rows to seed.
CREATE EXTENSION IF NOT EXISTS zdm;

CREATE TABLE person (
    id         bigint PRIMARY KEY,
    first_name text,                  -- the column the apps' "touch" updates write
    v          integer NOT NULL DEFAULT 0
);
CREATE SEQUENCE person_id_seq START WITH 1;

-- Every key an app wrote, with the value it wrote, in the same transaction
-- (seq is drawn after the row lock, so it follows the commit order per id).
CREATE TABLE written (
    seq    bigserial PRIMARY KEY,
    client integer NOT NULL,
    id     bigint  NOT NULL,
    value  integer NOT NULL,
    side   text    NOT NULL CHECK (side IN ('old', 'new')),
    kind   text    NOT NULL CHECK (kind IN ('insert', 'update')),
    at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON written (id, seq);

INSERT INTO person (id, first_name, v) SELECT g, 'first_' || g, g % 1000 FROM generate_series(1, :seed) g;
SELECT setval('person_id_seq', :seed);
VACUUM ANALYZE person;
