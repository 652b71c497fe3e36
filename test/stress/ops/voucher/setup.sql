-- ops/voucher/setup.sql: vouchers redeemed through a join table, before the
-- migration, seeded, plus the ledgers the apps record their writes in.
-- psql variables (set by run.sh): seed = rows to seed; the voucher count is
-- seed / 10 (a few thousand, so the apps collide on vouchers often), the user
-- count seed / 100. The apps compute the same numbers from -D seed.
CREATE EXTENSION IF NOT EXISTS zdm;

SELECT greatest(:seed / 10, 100) AS vouchers, greatest(:seed / 100, 20) AS users \gset

CREATE TABLE app_user (
    id   integer PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE voucher (
    id   integer PRIMARY KEY,
    code text NOT NULL
);
-- One user per voucher (the UNIQUE is what begin_join_to_column needs).
CREATE TABLE used_voucher (
    user_id    integer NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    voucher_id integer NOT NULL REFERENCES voucher (id),
    PRIMARY KEY (user_id, voucher_id),
    UNIQUE (voucher_id)
);
-- The new app takes new voucher ids from here (the table itself has no default).
CREATE SEQUENCE voucher_id_seq;

-- Each app's ledger: every change of a voucher's redemption it made, recorded in
-- the same transaction, in a statement of its own after the write (so after the
-- triggers it fired). Every write holds a lock that serializes it with every
-- other write of the same voucher until it commits (the voucher row, taken by
-- the write or by zdm's trigger; before begin and after abort, when only the
-- old app writes, the join row and its unique index entry), and seq is drawn
-- after that lock: for each voucher, seq follows the commit order of its writes,
-- across both ledgers (one sequence).
--   user_id: the voucher's user after the write (NULL: not redeemed / deleted)
--   kind:    redeem | unredeem | reassign | insert (a new, redeemed voucher) |
--            delete (the voucher is gone)
CREATE SEQUENCE ledger_seq;
CREATE TABLE ledger_old (
    seq        bigint  PRIMARY KEY DEFAULT nextval('ledger_seq'),
    client     integer NOT NULL,          -- app instance * 1000 + pgbench client_id
    voucher_id integer NOT NULL,
    user_id    integer,
    kind       text    NOT NULL CHECK (kind IN ('redeem', 'unredeem', 'reassign')),
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE ledger_new (
    seq        bigint  PRIMARY KEY DEFAULT nextval('ledger_seq'),
    client     integer NOT NULL,
    voucher_id integer NOT NULL,
    user_id    integer,
    kind       text    NOT NULL
               CHECK (kind IN ('redeem', 'unredeem', 'reassign', 'insert', 'delete')),
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON ledger_old (voucher_id, seq);
CREATE INDEX ON ledger_new (voucher_id, seq);

INSERT INTO app_user SELECT g, 'user_' || g FROM generate_series(1, :users) g;
INSERT INTO voucher SELECT g, 'V' || g FROM generate_series(1, :vouchers) g;
-- Two vouchers in three are redeemed.
INSERT INTO used_voucher (user_id, voucher_id)
SELECT g % :users + 1, g FROM generate_series(1, :vouchers) g WHERE g % 3 <> 0;
SELECT setval('voucher_id_seq', :vouchers);

-- What the checks compare against.
CREATE TABLE stress_meta AS SELECT :vouchers AS vouchers, :users AS users;

VACUUM ANALYZE app_user, voucher, used_voucher;
