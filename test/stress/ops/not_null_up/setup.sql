-- ops/not_null_up/setup.sql: the table before the migration, seeded (every
-- 5th email NULL), plus the side table the apps record their writes in.
-- psql variables (set by run.sh): seed = rows to seed.
CREATE EXTENSION IF NOT EXISTS zdm;

CREATE TABLE person (
    id         bigint PRIMARY KEY,
    first_name text,                  -- the column the apps' "touch" updates write
    email      text                   -- becomes NOT NULL: begin_set_not_null with up
);
CREATE SEQUENCE person_id_seq START WITH 1;

-- Every key an app wrote, with the value it wrote (NULL: the old app wrote
-- NULL), in the same transaction; seq follows the commit order per id.
CREATE TABLE written (
    seq    bigserial PRIMARY KEY,
    client integer NOT NULL,
    id     bigint  NOT NULL,
    value  text,
    side   text    NOT NULL CHECK (side IN ('old', 'new')),
    kind   text    NOT NULL CHECK (kind IN ('insert', 'update')),
    at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON written (id, seq);

INSERT INTO person (id, first_name, email)
SELECT g, 'first_' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'p' || g || '@x' END
  FROM generate_series(1, :seed) g;
SELECT setval('person_id_seq', :seed);
VACUUM ANALYZE person;
