-- ops/surname/check.sql: invariants, one row per check: name|violations|detail.
-- run.sh fails the run on any row whose violations is not 0.
-- psql variables (set by run.sh):
--   phase = window   (migration open, apps may be running; checked in one snapshot)
--           finished (after zdm.finish())  |  aborted (after zdm.abort())
--   seed  = rows seeded by setup.sql
-- The migration: add surname (up => last_name, NOT NULL) + drop last_name
-- (down => surname), one migration named 'surname'.
\set ON_ERROR_STOP on
SELECT :'phase' = 'window' AS is_window, :'phase' = 'finished' AS is_finished,
       :'phase' = 'aborted' AS is_aborted \gset

\if :is_window
-- Both shapes agree, in both directions (EXCEPT also catches a NULL on one side).
SELECT 'window_old_minus_new' AS check, count(*) AS violations, '' AS detail
  FROM (SELECT id, last_name FROM person EXCEPT SELECT id, surname FROM person) d;
SELECT 'window_new_minus_old', count(*), ''
  FROM (SELECT id, surname FROM person EXCEPT SELECT id, last_name FROM person) d;
-- Every committed write is visible on both sides (the apps record their writes in
-- the same transaction, so one snapshot sees a consistent pair).
SELECT 'window_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s, last_name=%s surname=%s',
                                 w.id, w.value, p.last_name, p.surname)))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value FROM written ORDER BY id, seq DESC) w
  LEFT JOIN person p ON p.id = w.id
 WHERE p.id IS NULL OR p.last_name IS DISTINCT FROM w.value
    OR p.surname IS DISTINCT FROM w.value;
-- The window's shape: both columns, last_name still NOT NULL (the old app sees no
-- change), surname bound by a NOT VALID check, and the trigger.
SELECT 'window_shape',
       (string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
        IS DISTINCT FROM 'id:true,first_name:false,last_name:true,surname:false')::int,
       string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute
 WHERE attrelid = 'person'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT 'window_not_null_check', 1 - count(*),
       coalesce(string_agg(conname || ' ' || pg_get_constraintdef(oid), ','), 'none')
  FROM pg_constraint
 WHERE conrelid = 'person'::regclass AND contype = 'c' AND NOT convalidated
   AND pg_get_constraintdef(oid) = 'CHECK ((surname IS NOT NULL)) NOT VALID';
SELECT 'window_trigger_present', 1 - count(*), 'zdm trigger on person'
  FROM pg_trigger WHERE tgrelid = 'person'::regclass AND NOT tgisinternal;
SELECT 'window_row_count', abs(n - expected),
       format('%s rows, expected %s + %s inserts', n, :seed, inserts)
  FROM (SELECT (SELECT count(*) FROM person) AS n,
               (SELECT count(*) FROM written WHERE kind = 'insert') AS inserts,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
\quit
\endif

-- After finish or abort: the final column.
\if :is_finished
\set col surname
\set state finished
\else
\set col last_name
\set state aborted
\endif

-- Shape: id, first_name, <col> NOT NULL; the other column is gone.
SELECT 'final_shape', (string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
                       IS DISTINCT FROM 'id:true,first_name:false,' || :'col' || ':true')::int,
       string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute
 WHERE attrelid = 'person'::regclass AND attnum > 0 AND NOT attisdropped;
\if :is_aborted
-- abort keeps last_name as the same physical column (run.sh also compares the
-- whole schema with the one before begin).
SELECT 'final_same_physical_column', (a.attnum IS DISTINCT FROM m.last_name_attnum)::int,
       format('attnum %s, was %s', a.attnum, m.last_name_attnum)
  FROM stress_meta m
  LEFT JOIN pg_attribute a ON a.attrelid = 'person'::regclass AND a.attname = 'last_name'
                          AND NOT a.attisdropped;
\else
-- finish drops last_name and leaves surname as a real NOT NULL (checked in
-- final_shape), with its check constraint gone (final_no_check_constraints).
SELECT 'final_last_name_gone', count(*), ''
  FROM pg_attribute
 WHERE attrelid = 'person'::regclass AND attname = 'last_name' AND NOT attisdropped;
\endif
SELECT 'final_no_triggers', count(*), coalesce(string_agg(tgname, ','), '')
  FROM pg_trigger WHERE tgrelid = 'person'::regclass AND NOT tgisinternal;
SELECT 'final_no_check_constraints', count(*), coalesce(string_agg(conname, ','), '')
  FROM pg_constraint WHERE conrelid = 'person'::regclass AND contype = 'c';
SELECT 'final_state', count(*) FILTER (WHERE state IS DISTINCT FROM :'state'),
       coalesce(string_agg(DISTINCT state, ','), 'no migration')
  FROM zdm.status();

-- No write lost: the latest value each app recorded for an id is in the final column.
SELECT 'final_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s (%s side), has %s',
                                 w.id, w.value, w.side, coalesce(p.v, 'NULL'))))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value, side FROM written ORDER BY id, seq DESC) w
  LEFT JOIN (SELECT id, :"col" AS v FROM person) p ON p.id = w.id
 WHERE p.v IS DISTINCT FROM w.value;
-- Seeded rows that no app wrote still hold their seed value.
SELECT 'final_seed_rows_intact', count(*), ''
  FROM person p
 WHERE p.id <= :seed AND p.:"col" IS DISTINCT FROM 'seed-' || p.id
   AND NOT EXISTS (SELECT 1 FROM written w WHERE w.id = p.id);
-- Row count: seed + every insert the apps recorded.
SELECT 'final_row_count', abs(n - expected),
       format('%s rows, expected %s + %s inserts', n, :seed, inserts)
  FROM (SELECT (SELECT count(*) FROM person) AS n,
               (SELECT count(*) FROM written WHERE kind = 'insert') AS inserts,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
SELECT 'final_no_null_values', count(*), '' FROM person WHERE :"col" IS NULL;
