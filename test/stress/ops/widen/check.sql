-- ops/widen/check.sql: invariants, one row per check: name|violations|detail.
-- Shared by widen_named and widen_inplace (BASE_OP=widen in their op.env).
-- run.sh fails the run on any row whose violations is not 0.
-- psql variables (set by run.sh):
--   phase = window   (migration open, apps may be running; checked in one snapshot)
--           finished (after zdm.finish())  |  aborted (after zdm.abort())
--   seed  = rows seeded by setup.sql
--   shadow, final (OP_VARS in op.env): the column that holds the new type
--           during the window, and the column's name after finish:
--           widen n_new, n; widen_named (new_name => 'n8') n8, n8;
--           widen_inplace (new_name => 'n') n_new, n.
-- The migration: n integer -> bigint (zdm.begin_alter_type), one migration
-- named 'widen'.
\set ON_ERROR_STOP on
SELECT :'phase' = 'window' AS is_window, :'phase' = 'finished' AS is_finished,
       :'phase' = 'aborted' AS is_aborted \gset

\if :is_window
-- Both shapes agree, in both directions (EXCEPT also catches a NULL on one side).
SELECT 'window_old_minus_new' AS check, count(*) AS violations, '' AS detail
  FROM (SELECT id, n::bigint FROM item EXCEPT SELECT id, :"shadow" FROM item) d;
SELECT 'window_new_minus_old', count(*), ''
  FROM (SELECT id, :"shadow" FROM item EXCEPT SELECT id, n::bigint FROM item) d;
-- Every committed write is visible on both sides (the apps record their writes in
-- the same transaction, so one snapshot sees a consistent pair).
SELECT 'window_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s, n=%s %s=%s',
                                 w.id, w.value, i.n, :'shadow', i.:"shadow")))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value FROM written ORDER BY id, seq DESC) w
  LEFT JOIN item i ON i.id = w.id
 WHERE i.id IS NULL OR i.n IS DISTINCT FROM w.value OR i.:"shadow" IS DISTINCT FROM w.value;
-- The window's shape: n still integer NOT NULL (the old app sees no change),
-- the shadow column bigint, bound by NOT VALID checks (NOT NULL, and n's CHECK).
SELECT 'window_shape',
       (string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || attnotnull, ',' ORDER BY attnum)
        IS DISTINCT FROM 'id:bigint:true,first_name:text:false,n:integer:true,' || :'shadow' || ':bigint:false')::int,
       string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute
 WHERE attrelid = 'item'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT 'window_not_valid_checks', abs(2 - count(*)),
       coalesce(string_agg(conname || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname), 'none')
  FROM pg_constraint
 WHERE conrelid = 'item'::regclass AND contype = 'c' AND NOT convalidated
   AND pg_get_constraintdef(oid) IN ('CHECK ((' || :'shadow' || ' IS NOT NULL)) NOT VALID',
                                     'CHECK ((' || :'shadow' || ' > ''-2147483648''::integer)) NOT VALID');
SELECT 'window_trigger_present', 1 - count(*), 'zdm trigger on item'
  FROM pg_trigger WHERE tgrelid = 'item'::regclass AND NOT tgisinternal;
-- The twin index, once built (pre_finish.sql), is valid.
SELECT 'window_twin_index_valid', count(*) FILTER (WHERE NOT i.indisvalid),
       coalesce(string_agg(c.relname || CASE WHEN i.indisvalid THEN ' valid' ELSE ' INVALID' END, ','), 'not built yet')
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'item'::regclass AND c.relname = 'item_n_idx_zdm_new';
SELECT 'window_row_count', abs(n - expected),
       format('%s rows, expected %s + %s inserts', n, :seed, inserts)
  FROM (SELECT (SELECT count(*) FROM item) AS n,
               (SELECT count(*) FROM written WHERE kind = 'insert') AS inserts,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
\quit
\endif

\if :is_finished
\set type bigint
\set state finished
\set col :final
\else
\set type integer
\set state aborted
\set col n
\endif

-- Shape: id, first_name, and the final column bigint (finished) or n integer
-- (aborted), NOT NULL; no shadow column left.
SELECT 'final_shape',
       (string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || attnotnull, ',' ORDER BY attnum)
        IS DISTINCT FROM 'id:bigint:true,first_name:text:false,' || :'col' || ':' || :'type' || ':true')::int,
       string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute
 WHERE attrelid = 'item'::regclass AND attnum > 0 AND NOT attisdropped;
-- The column keeps n's default and CHECK (validated, under its own name).
SELECT 'final_default', (pg_get_expr(d.adbin, d.adrelid) IS DISTINCT FROM '0')::int,
       coalesce(pg_get_expr(d.adbin, d.adrelid), 'no default')
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'item'::regclass AND a.attname = :'col' AND NOT a.attisdropped;
SELECT 'final_check_constraints',
       (coalesce(string_agg(conname || ':' || convalidated, ','), '') IS DISTINCT FROM 'item_n_check:true')::int,
       coalesce(string_agg(conname || ' ' || pg_get_constraintdef(oid) || ' validated=' || convalidated, ', '), 'none')
  FROM pg_constraint WHERE conrelid = 'item'::regclass AND contype = 'c';
-- The index item_n_idx, valid, on the column alone; no twin left.
SELECT 'final_index_on_n',
       (coalesce(string_agg(c.relname || ':' || i.indisvalid || ':' || pg_get_indexdef(i.indexrelid, 1, true), ','), '')
        IS DISTINCT FROM 'item_n_idx:true:' || :'col')::int,
       coalesce(string_agg(pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid, '; '), 'none')
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'item'::regclass AND NOT i.indisprimary;
\if :is_aborted
-- abort keeps n as the same physical column (run.sh also compares the whole
-- schema with the one before begin).
SELECT 'final_same_physical_column', (a.attnum IS DISTINCT FROM m.n_attnum)::int,
       format('attnum %s, was %s', a.attnum, m.n_attnum)
  FROM stress_meta m
  LEFT JOIN pg_attribute a ON a.attrelid = 'item'::regclass AND a.attname = 'n'
                          AND NOT a.attisdropped;
\endif
SELECT 'final_no_triggers', count(*), coalesce(string_agg(tgname, ','), '')
  FROM pg_trigger WHERE tgrelid = 'item'::regclass AND NOT tgisinternal;
SELECT 'final_state', count(*) FILTER (WHERE state IS DISTINCT FROM :'state'),
       coalesce(string_agg(DISTINCT state, ','), 'no migration')
  FROM zdm.status();

-- No write lost: the latest value each app recorded for an id is in the column.
SELECT 'final_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s (%s side), has %s',
                                 w.id, w.value, w.side, coalesce(i.:"col"::text, 'NULL'))))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value, side FROM written ORDER BY id, seq DESC) w
  LEFT JOIN item i ON i.id = w.id
 WHERE i.:"col" IS DISTINCT FROM w.value;
-- Seeded rows that no app wrote still hold their seed value.
SELECT 'final_seed_rows_intact', count(*), ''
  FROM item i
 WHERE i.id <= :seed
   AND i.:"col" IS DISTINCT FROM CASE i.id % 1000 WHEN 1 THEN 2147483647 WHEN 2 THEN -2147483647
                                 ELSE i.id * 7 - 300000 END
   AND NOT EXISTS (SELECT 1 FROM written w WHERE w.id = i.id);
-- Row count: seed + every insert the apps recorded.
SELECT 'final_row_count', abs(n - expected),
       format('%s rows, expected %s + %s inserts', n, :seed, inserts)
  FROM (SELECT (SELECT count(*) FROM item) AS n,
               (SELECT count(*) FROM written WHERE kind = 'insert') AS inserts,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
SELECT 'final_no_null_values', count(*), '' FROM item WHERE :"col" IS NULL;
