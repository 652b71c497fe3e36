-- ops/widen_named/begin.sql: opens the migration while the old app runs: n
-- (integer) becomes bigint under the name n8, for good (new_name): finish
-- drops n and renames nothing, so the new app writes n8 before and after
-- finish with the same statements (one deploy). Default up and down
-- ((n)::bigint and (n8)::integer). The twin of item_n_idx on n8 is built by
-- pre_finish.sql, before finish.
SELECT zdm.begin_alter_type('item', 'n', 'bigint', migration => 'widen', new_name => 'n8')
       AS migration;
