-- ops/create_index/begin.sql: records an index on n; its CREATE INDEX
-- CONCURRENTLY runs in pre_finish.sql while both apps write.
SELECT zdm.begin_create_index('item', ARRAY['n'], name => 'item_n_idx',
                              migration => 'create_index') AS migration;
