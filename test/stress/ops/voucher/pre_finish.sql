-- ops/voucher/pre_finish.sql: run while both apps still write, just before the
-- old app stops and zdm.finish() drops the join table. Keeps, from one snapshot,
-- what both shapes held then (per voucher: the column and the join row) and
-- which ledger entries were committed, so that check.sql can compare the final
-- column with the window's shapes for every voucher no app wrote since.
BEGIN ISOLATION LEVEL REPEATABLE READ;
CREATE TABLE finish_snapshot AS
SELECT v.id AS voucher_id, v.user_id AS column_user, j.user_id AS join_user
  FROM voucher v FULL JOIN used_voucher j ON j.voucher_id = v.id;
CREATE TABLE finish_snapshot_ledger AS
SELECT seq FROM ledger_old UNION ALL SELECT seq FROM ledger_new;
COMMIT;
ALTER TABLE finish_snapshot_ledger ADD PRIMARY KEY (seq);
SELECT format('snapshot: %s vouchers, %s redeemed, %s ledger entries',
              (SELECT count(*) FROM finish_snapshot),
              (SELECT count(*) FROM finish_snapshot WHERE column_user IS NOT NULL),
              (SELECT count(*) FROM finish_snapshot_ledger));
