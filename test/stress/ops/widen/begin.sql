-- ops/widen/begin.sql: opens the migration while the old app runs: n (integer)
-- becomes bigint through its shadow column n_new, with the default up and
-- down ((n)::bigint and (n_new)::integer). The twin of item_n_idx on n_new is
-- built by pre_finish.sql, before finish.
SELECT zdm.begin_alter_type('item', 'n', 'bigint', migration => 'widen') AS migration;
