-- ops/surname/begin.sql: opens the migration while the old app runs. One
-- migration, two operations: a NOT NULL surname computed from last_name, and
-- last_name dropped (computed back from surname for the old app).
SELECT zdm.begin_add_column('person', 'surname', 'text', up => 'last_name', not_null => true,
                            migration => 'surname') AS migration;
SELECT zdm.begin_drop_column('person', 'last_name', down => 'surname',
                             migration => 'surname') AS migration;
