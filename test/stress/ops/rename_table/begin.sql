-- ops/rename_table/begin.sql: while the old app runs, person becomes people;
-- the old name is a view over it through which the old app keeps writing.
SELECT zdm.begin_rename_table('person', 'people', migration => 'rename_table') AS migration;
