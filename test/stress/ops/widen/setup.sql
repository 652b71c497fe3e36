-- ops/widen/setup.sql: the table before the migration, seeded, plus the side
-- table the apps record their writes in.
-- Shared by widen_named and widen_inplace (BASE_OP=widen in their op.env).
-- psql variables (set by run.sh): seed = rows to seed.
-- n is an integer NOT NULL with a default, a CHECK and an index; the migration
-- widens it to bigint. Seeded values include both ends of the integer range.
CREATE EXTENSION IF NOT EXISTS zdm;

CREATE TABLE item (
    id         bigint PRIMARY KEY,
    first_name text,                  -- the column the apps' "touch" updates write
    n          integer NOT NULL DEFAULT 0 CONSTRAINT item_n_check CHECK (n > -2147483648)
);
CREATE INDEX item_n_idx ON item (n);
-- The apps take new ids from here (the table itself has no default).
CREATE SEQUENCE item_id_seq START WITH 1;

-- Every key an app wrote, with the value it wrote, recorded in the same
-- transaction as the write. seq orders the writes to one row: an app takes the
-- row lock first and only then draws seq, so seq follows the commit order of
-- the writes to any one id.
CREATE TABLE written (
    seq    bigserial PRIMARY KEY,
    client integer NOT NULL,          -- app instance * 1000 + pgbench client_id
    id     bigint  NOT NULL,
    value  bigint  NOT NULL,
    side   text    NOT NULL CHECK (side IN ('old', 'new')),
    kind   text    NOT NULL CHECK (kind IN ('insert', 'update')),
    at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON written (id, seq);

-- The seed value of row g (check.sql repeats this formula).
INSERT INTO item (id, first_name, n)
SELECT g, 'first_' || g,
       CASE g % 1000 WHEN 1 THEN 2147483647 WHEN 2 THEN -2147483647 ELSE g * 7 - 300000 END
  FROM generate_series(1, :seed) g;
SELECT setval('item_id_seq', :seed);

-- What the checks compare against once the migration is over.
CREATE TABLE stress_meta AS
SELECT a.attnum AS n_attnum
  FROM pg_attribute a
 WHERE a.attrelid = 'item'::regclass AND a.attname = 'n';

VACUUM ANALYZE item;
