-- ops/widen_inplace/begin.sql: opens the migration while the old app runs: n
-- (integer) becomes bigint under the same name (new_name => 'n', allowed
-- because integer -> bigint is a lossless widening). zdm keeps the internal
-- shadow column n_new in sync and swaps it in at finish; both apps write n
-- throughout (the new app under the old type until finish), so the new app
-- needs one deploy. The twin of item_n_idx on n_new is built by
-- pre_finish.sql, before finish.
SELECT zdm.begin_alter_type('item', 'n', 'bigint', migration => 'widen', new_name => 'n')
       AS migration;
