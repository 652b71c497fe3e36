-- ops/rename_table/check.sql: invariants, one row per check: name|violations|detail.
-- psql variables: phase = window | finished | aborted; seed.
\set ON_ERROR_STOP on
SELECT :'phase' = 'window' AS is_window, :'phase' = 'finished' AS is_finished,
       :'phase' = 'aborted' AS is_aborted \gset

\if :is_window
-- The old name and the new one show the same rows, in both directions.
SELECT 'window_old_minus_new' AS check, count(*) AS violations, '' AS detail
  FROM (SELECT * FROM person EXCEPT SELECT * FROM people) d;
SELECT 'window_new_minus_old', count(*), ''
  FROM (SELECT * FROM people EXCEPT SELECT * FROM person) d;
SELECT 'window_shape', (string_agg(relname || ':' || relkind::text, ',' ORDER BY relname)
                        IS DISTINCT FROM 'people:r,person:v')::int,
       string_agg(relname || ':' || relkind::text, ',' ORDER BY relname)
  FROM pg_class WHERE relname IN ('person', 'people') AND relnamespace = 'public'::regnamespace;
SELECT 'window_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s, has %s', w.id, w.value, p.v)))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value FROM written ORDER BY id, seq DESC) w
  LEFT JOIN people p ON p.id = w.id
 WHERE p.v IS DISTINCT FROM w.value;
SELECT 'window_row_count', abs(n - expected), format('%s rows, expected %s', n, expected)
  FROM (SELECT (SELECT count(*) FROM people) AS n,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
\quit
\endif

\if :is_finished
\set tbl people
\set shape 'people:r'
\set state finished
\else
\set tbl person
\set shape 'person:r'
\set state aborted
\endif
SELECT 'final_shape', (coalesce(string_agg(relname || ':' || relkind::text, ','), '') IS DISTINCT FROM :'shape')::int,
       coalesce(string_agg(relname || ':' || relkind::text, ','), 'none')
  FROM pg_class WHERE relname IN ('person', 'people') AND relnamespace = 'public'::regnamespace;
SELECT 'final_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s (%s side), has %s',
                                 w.id, w.value, w.side, coalesce(p.v::text, 'no row'))))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value, side FROM written ORDER BY id, seq DESC) w
  LEFT JOIN :tbl p ON p.id = w.id
 WHERE p.v IS DISTINCT FROM w.value;
SELECT 'final_row_count', abs(n - expected), format('%s rows, expected %s', n, expected)
  FROM (SELECT (SELECT count(*) FROM :tbl) AS n,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
SELECT 'final_state', count(*) FILTER (WHERE state IS DISTINCT FROM :'state'),
       coalesce(string_agg(DISTINCT state, ','), 'no migration')
  FROM zdm.status();
