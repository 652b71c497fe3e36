-- ops/create_index/setup.sql: the table, seeded, plus the side table the apps
-- record their writes in. psql variables (set by run.sh): seed = rows to seed.
CREATE EXTENSION IF NOT EXISTS zdm;

CREATE TABLE item (
    id         bigint PRIMARY KEY,
    first_name text,                  -- the column the apps' "touch" updates write
    n          integer NOT NULL DEFAULT 0
);
CREATE SEQUENCE item_id_seq START WITH 1;

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

INSERT INTO item (id, first_name, n) SELECT g, 'first_' || g, g * 7 % 100003 FROM generate_series(1, :seed) g;
SELECT setval('item_id_seq', :seed);
VACUUM ANALYZE item;
