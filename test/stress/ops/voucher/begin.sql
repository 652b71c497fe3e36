-- ops/voucher/begin.sql: opens the migration while the old app runs: the join
-- table used_voucher(user_id, voucher_id) becomes the column voucher.user_id.
SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id',
                                migration => 'voucher') AS migration;
