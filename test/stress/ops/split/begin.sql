-- ops/split/begin.sql: opens the migration while the old app runs. One
-- migration, three operations: first_name and last_name computed from
-- full_name, and full_name dropped (computed back from the two for the old app).
SELECT zdm.begin_add_column('author', 'first_name', 'text',
                            up => 'split_part(full_name, '' '', 1)',
                            migration => 'split') AS migration;
SELECT zdm.begin_add_column('author', 'last_name', 'text',
                            up => 'nullif(split_part(full_name, '' '', 2), '''')',
                            migration => 'split') AS migration;
SELECT zdm.begin_drop_column('author', 'full_name',
                             down => 'coalesce(first_name || '' '' || last_name, first_name, last_name, '''')',
                             migration => 'split') AS migration;
