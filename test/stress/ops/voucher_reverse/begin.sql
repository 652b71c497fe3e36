-- ops/voucher_reverse/begin.sql: opens the migration while the old app runs: the
-- column voucher.user_id becomes the join table used_voucher(voucher_id, user_id).
SELECT zdm.begin_column_to_join('voucher', 'id', 'user_id', 'used_voucher',
                                migration => 'voucher_reverse') AS migration;
