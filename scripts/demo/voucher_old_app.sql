-- The voucher case's "old app" (v1): a voucher is redeemed by a row of the join
-- table used_voucher(user_id, voucher_id); it knows nothing of voucher.user_id.
-- Each transaction picks a voucher (half the time one of the first :hot, where it
-- often meets the new app on the same voucher) and a user, and either redeems the
-- voucher (inserts its join row, unless it has one) or un-redeems it (deletes its
-- join row), then reads its write back: a read that does not return what this app
-- just wrote raises an error, which pgbench reports (and the demo fails).
-- Once the migration has begun, zdm's trigger copies each write to voucher.user_id
-- in the same transaction. A DELETE locks the join row first and then (through the
-- trigger) the voucher row, while the new app locks the voucher row first: when both
-- write one voucher at the same instant they can deadlock, PostgreSQL aborts one of
-- them (SQLSTATE 40P01), and pgbench retries it (--max-tries), as an app would.
-- Variables from demo.sh: -D users=, -D vouchers=, -D hot=.
\set u random(1, :users)
\set v random(1, :vouchers)
\if random(1, 2) = 1
\set v random(1, :hot)
\endif
BEGIN;
\if random(1, 2) = 1
-- Redeem, unless the voucher already is (voucher_id is UNIQUE: one user per voucher).
WITH i AS (INSERT INTO used_voucher (user_id, voucher_id) VALUES (:u::int, :v::int)
           ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) AS n FROM i \gset
\set expect :u
\else
-- Un-redeem.
WITH d AS (DELETE FROM used_voucher WHERE voucher_id = :v::int RETURNING 1)
SELECT count(*) AS n FROM d \gset
\set expect 0
\endif
SELECT CASE WHEN :n::int = 0
              OR coalesce((SELECT user_id FROM used_voucher WHERE voucher_id = :v::int), 0) = :expect::int
            THEN 'ok'
            ELSE ('old app: read-your-write violated on voucher ' || :v::int || ': wrote user '
                  || :expect::int || ', used_voucher has user '
                  || coalesce((SELECT user_id FROM used_voucher WHERE voucher_id = :v::int)::text, 'none'))::int::text
       END AS check_write;
END;
