-- ops/split/check.sql: invariants, one row per check: name|violations|detail.
-- run.sh fails the run on any row whose violations is not 0.
-- psql variables (set by run.sh):
--   phase = window   (migration open, apps may be running; checked in one snapshot)
--           finished (after zdm.finish())  |  aborted (after zdm.abort())
--   seed  = rows seeded by setup.sql
-- The migration 'split': add first_name (up split_part(full_name, ' ', 1)), add
-- last_name (up nullif(split_part(full_name, ' ', 2), '')), drop full_name
-- (down coalesce(first_name || ' ' || last_name, first_name, last_name, ''),
-- which equals concat_ws(' ', first_name, last_name)). Every name the apps and the seed
-- write is two words without a space inside either, so the round trip is exact.
\set ON_ERROR_STOP on
SELECT :'phase' = 'window' AS is_window, :'phase' = 'finished' AS is_finished,
       :'phase' = 'aborted' AS is_aborted \gset

\if :is_window
-- Both shapes agree, in both directions (EXCEPT also catches a NULL on one side).
SELECT 'window_old_minus_new' AS check, count(*) AS violations, '' AS detail
  FROM (SELECT id, full_name FROM author
        EXCEPT SELECT id, concat_ws(' ', first_name, last_name) FROM author) d;
SELECT 'window_new_minus_old', count(*), ''
  FROM (SELECT id, concat_ws(' ', first_name, last_name) FROM author
        EXCEPT SELECT id, full_name FROM author) d;
-- The parts are exactly the words (not merely concatenating to the same text).
SELECT 'window_parts_are_words', count(*),
       coalesce(array_to_string((array_agg(format('id %s: full_name=%s first_name=%s last_name=%s',
                                 id, full_name, first_name, last_name)))[1:3], '; '), '')
  FROM author
 WHERE first_name IS DISTINCT FROM split_part(full_name, ' ', 1)
    OR last_name IS DISTINCT FROM split_part(full_name, ' ', 2)
    OR full_name !~ '^[^ ]+ [^ ]+$';
-- Every committed write is visible on both sides (the apps record their writes in
-- the same transaction, so one snapshot sees a consistent pair).
SELECT 'window_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s, full_name=%s first_name=%s last_name=%s',
                                 w.id, w.value, a.full_name, a.first_name, a.last_name)))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value FROM written ORDER BY id, seq DESC) w
  LEFT JOIN author a ON a.id = w.id
 WHERE a.id IS NULL OR a.full_name IS DISTINCT FROM w.value
    OR a.first_name IS DISTINCT FROM split_part(w.value, ' ', 1)
    OR a.last_name IS DISTINCT FROM split_part(w.value, ' ', 2);
-- The window's shape: the old app sees full_name as before; the new columns
-- beside it; the trigger.
SELECT 'window_shape',
       (string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
        IS DISTINCT FROM 'id:true,full_name:false,note:false,first_name:false,last_name:false')::int,
       string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute
 WHERE attrelid = 'author'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT 'window_trigger_present', 1 - count(*), 'zdm trigger on author'
  FROM pg_trigger WHERE tgrelid = 'author'::regclass AND NOT tgisinternal;
SELECT 'window_row_count', abs(n - expected),
       format('%s rows, expected %s + %s inserts', n, :seed, inserts)
  FROM (SELECT (SELECT count(*) FROM author) AS n,
               (SELECT count(*) FROM written WHERE kind = 'insert') AS inserts,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
\quit
\endif

\if :is_finished
\set state finished
-- Shape: id, note, first_name, last_name; full_name is gone.
SELECT 'final_shape', (string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
                       IS DISTINCT FROM 'id:true,note:false,first_name:false,last_name:false')::int,
       string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute
 WHERE attrelid = 'author'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT 'final_full_name_gone', count(*), ''
  FROM pg_attribute
 WHERE attrelid = 'author'::regclass AND attname = 'full_name' AND NOT attisdropped;
-- The final value of a row, as one text comparable with what the apps recorded.
CREATE TEMP VIEW final_value AS
SELECT id, first_name, last_name, concat_ws(' ', first_name, last_name) AS v,
       first_name IS NULL OR last_name IS NULL AS has_null
  FROM author;
\else
\set state aborted
-- Shape: exactly as before begin (run.sh also compares the whole schema).
SELECT 'final_shape', (string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
                       IS DISTINCT FROM 'id:true,full_name:false,note:false')::int,
       string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute
 WHERE attrelid = 'author'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT 'final_same_physical_column', (a.attnum IS DISTINCT FROM m.full_name_attnum)::int,
       format('attnum %s, was %s', a.attnum, m.full_name_attnum)
  FROM stress_meta m
  LEFT JOIN pg_attribute a ON a.attrelid = 'author'::regclass AND a.attname = 'full_name'
                          AND NOT a.attisdropped;
CREATE TEMP VIEW final_value AS
SELECT id, split_part(full_name, ' ', 1) AS first_name,
       split_part(full_name, ' ', 2) AS last_name, full_name AS v, full_name IS NULL AS has_null
  FROM author;
\endif
SELECT 'final_no_triggers', count(*), coalesce(string_agg(tgname, ','), '')
  FROM pg_trigger WHERE tgrelid = 'author'::regclass AND NOT tgisinternal;
SELECT 'final_no_check_constraints', count(*), coalesce(string_agg(conname, ','), '')
  FROM pg_constraint WHERE conrelid = 'author'::regclass AND contype = 'c';
SELECT 'final_state', count(*) FILTER (WHERE state IS DISTINCT FROM :'state'),
       coalesce(string_agg(DISTINCT state, ','), 'no migration')
  FROM zdm.status();

-- No write lost: the latest value each app recorded for an id is in the final
-- column(s), word for word.
SELECT 'final_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s (%s side), has %s',
                                 w.id, w.value, w.side, coalesce(f.v, 'NULL'))))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value, side FROM written ORDER BY id, seq DESC) w
  LEFT JOIN final_value f ON f.id = w.id
 WHERE f.id IS NULL OR f.v IS DISTINCT FROM w.value
    OR f.first_name IS DISTINCT FROM split_part(w.value, ' ', 1)
    OR f.last_name IS DISTINCT FROM split_part(w.value, ' ', 2);
-- Seeded rows that no app wrote still hold their seed value.
SELECT 'final_seed_rows_intact', count(*),
       coalesce(array_to_string((array_agg(format('id %s: has %s', f.id, coalesce(f.v, 'NULL'))))[1:3], '; '), '')
  FROM final_value f
 WHERE f.id <= :seed
   AND (f.v IS DISTINCT FROM 'sf' || f.id || ' sl' || f.id
        OR f.first_name IS DISTINCT FROM 'sf' || f.id OR f.last_name IS DISTINCT FROM 'sl' || f.id)
   AND NOT EXISTS (SELECT 1 FROM written w WHERE w.id = f.id);
-- Row count: seed + every insert the apps recorded.
SELECT 'final_row_count', abs(n - expected),
       format('%s rows, expected %s + %s inserts', n, :seed, inserts)
  FROM (SELECT (SELECT count(*) FROM author) AS n,
               (SELECT count(*) FROM written WHERE kind = 'insert') AS inserts,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
SELECT 'final_no_null_values', count(*), '' FROM final_value WHERE has_null;
