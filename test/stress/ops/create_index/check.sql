-- ops/create_index/check.sql: invariants, one row per check: name|violations|detail.
-- psql variables: phase = window | finished | aborted; seed.
-- The two "shapes" of a create_index are the heap and the index: once the
-- index is built, (id, n) read through it equals (id, n) read from the heap,
-- EXCEPT both ways.
\set ON_ERROR_STOP on
SELECT :'phase' = 'window' AS is_window, :'phase' = 'finished' AS is_finished,
       :'phase' = 'aborted' AS is_aborted \gset
SELECT count(*) > 0 AS has_index FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'item'::regclass AND c.relname = 'item_n_idx' AND i.indisvalid \gset

\if :has_index
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
CREATE TEMP TABLE by_index ON COMMIT DROP AS SELECT id, n FROM item WHERE n >= 0;
SET LOCAL enable_seqscan = on;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_indexonlyscan = off;
SET LOCAL enable_bitmapscan = off;
CREATE TEMP TABLE by_heap ON COMMIT DROP AS SELECT id, n FROM item;
SELECT 'index_minus_heap' AS check, count(*) AS violations, '' AS detail
  FROM (SELECT * FROM by_index EXCEPT SELECT * FROM by_heap) d;
SELECT 'heap_minus_index', count(*), ''
  FROM (SELECT * FROM by_heap EXCEPT SELECT * FROM by_index) d;
COMMIT;
\endif

\if :is_window
SELECT 'window_no_trigger', count(*), coalesce(string_agg(tgname, ','), '')
  FROM pg_trigger WHERE tgrelid = 'item'::regclass AND NOT tgisinternal;
\else
\if :is_finished
SELECT 'final_index_valid', (NOT :'has_index'::boolean)::int, 'item_n_idx';
\else
SELECT 'final_index_gone', :'has_index'::boolean::int, 'item_n_idx';
\endif
SELECT 'final_state', count(*) FILTER (WHERE state IS DISTINCT FROM :'phase'),
       coalesce(string_agg(DISTINCT state, ','), 'no migration')
  FROM zdm.status();
\endif
SELECT 'lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s, has %s', w.id, w.value, i.n)))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value FROM written ORDER BY id, seq DESC) w
  LEFT JOIN item i ON i.id = w.id
 WHERE i.n IS DISTINCT FROM w.value;
SELECT 'row_count', abs(n - expected), format('%s rows, expected %s', n, expected)
  FROM (SELECT (SELECT count(*) FROM item) AS n,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
