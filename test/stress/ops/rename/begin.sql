-- ops/rename/begin.sql: opens the migration while the old app runs.
SELECT zdm.begin_rename('person', 'last_name', 'surname') AS migration;
