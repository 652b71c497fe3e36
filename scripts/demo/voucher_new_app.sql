-- The voucher case's "new app" (v2): a voucher is redeemed by its column user_id;
-- it never reads or writes the join table used_voucher. It is deployed right after
-- the migration begins. Same pattern as the old app: each transaction picks a
-- voucher (half the time one of the first :hot) and a user, and either redeems the
-- voucher (sets user_id where it is NULL) or un-redeems it (sets user_id to NULL
-- where it is set), then reads its write back; a read that does not return what
-- this app just wrote raises an error (and the demo fails).
-- zdm's trigger writes the join row (or deletes it) in the same transaction, so the
-- old app sees every redemption the new app makes. Until the backfill has copied a
-- voucher's redemption, this app reads that voucher as not redeemed (README,
-- "Cross-table operations"). Deadlocks with the old app are retried by pgbench.
-- Variables from demo.sh: -D users=, -D vouchers=, -D hot=.
\set u random(1, :users)
\set v random(1, :vouchers)
\if random(1, 2) = 1
\set v random(1, :hot)
\endif
BEGIN;
\if random(1, 2) = 1
-- Redeem, unless the voucher already is.
WITH w AS (UPDATE voucher SET user_id = :u::int WHERE id = :v::int AND user_id IS NULL RETURNING 1)
SELECT count(*) AS n FROM w \gset
\set expect :u
\else
-- Un-redeem.
WITH w AS (UPDATE voucher SET user_id = NULL WHERE id = :v::int AND user_id IS NOT NULL RETURNING 1)
SELECT count(*) AS n FROM w \gset
\set expect 0
\endif
SELECT CASE WHEN :n::int = 0
              OR coalesce((SELECT user_id FROM voucher WHERE id = :v::int), 0) = :expect::int
            THEN 'ok'
            ELSE ('new app: read-your-write violated on voucher ' || :v::int || ': wrote user '
                  || :expect::int || ', voucher has user_id '
                  || coalesce((SELECT user_id FROM voucher WHERE id = :v::int)::text, 'NULL'))::int::text
       END AS check_write;
END;
