-- ops/not_null_up/check.sql: invariants, one row per check: name|violations|detail.
-- psql variables: phase = window | finished | aborted; seed.
-- The migration: email NOT NULL through email_new = coalesce(email, 'unknown').
\set ON_ERROR_STOP on
SELECT :'phase' = 'window' AS is_window, :'phase' = 'finished' AS is_finished,
       :'phase' = 'aborted' AS is_aborted \gset

\if :is_window
-- Both shapes agree, in both directions: email_new is up(email) (an old-side
-- write, NULLs included), or email is email_new (a new-side write).
SELECT 'window_old_minus_new' AS check, count(*) AS violations, '' AS detail
  FROM (SELECT id, coalesce(email, 'unknown') FROM person
        EXCEPT SELECT id, email_new FROM person) d;
SELECT 'window_new_minus_old', count(*), ''
  FROM (SELECT id, email_new FROM person
        EXCEPT SELECT id, coalesce(email, 'unknown') FROM person) d;
-- Every committed write is on both sides: an old-app value v in email and
-- up(v) in email_new; a new-app value in both.
SELECT 'window_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s (%s), email=%s email_new=%s',
                                 w.id, w.value, w.side, p.email, p.email_new)))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value, side FROM written ORDER BY id, seq DESC) w
  LEFT JOIN person p ON p.id = w.id
 WHERE p.id IS NULL OR p.email IS DISTINCT FROM w.value
    OR p.email_new IS DISTINCT FROM coalesce(w.value, 'unknown');
SELECT 'window_not_valid_check', 1 - count(*), coalesce(string_agg(conname, ','), 'none')
  FROM pg_constraint WHERE conrelid = 'person'::regclass AND contype = 'c' AND NOT convalidated
   AND pg_get_constraintdef(oid) = 'CHECK ((email_new IS NOT NULL)) NOT VALID';
SELECT 'window_row_count', abs(n - expected), format('%s rows, expected %s', n, expected)
  FROM (SELECT (SELECT count(*) FROM person) AS n,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
\quit
\endif

\if :is_finished
\set shape 'id:bigint:true,first_name:text:false,email:text:true'
\set state finished
\else
\set shape 'id:bigint:true,first_name:text:false,email:text:false'
\set state aborted
\endif
SELECT 'final_shape',
       (string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || attnotnull, ',' ORDER BY attnum)
        IS DISTINCT FROM :'shape')::int,
       string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute WHERE attrelid = 'person'::regclass AND attnum > 0 AND NOT attisdropped;
-- No write lost: after finish an old-app NULL reads as 'unknown'; after abort
-- every value is what was written (a NULL stays NULL).
SELECT 'final_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('id %s: wrote %s (%s side), has %s',
                                 w.id, w.value, w.side, coalesce(p.email, 'NULL'))))[1:3], '; '), '')
  FROM (SELECT DISTINCT ON (id) id, value, side FROM written ORDER BY id, seq DESC) w
  LEFT JOIN person p ON p.id = w.id
 WHERE p.id IS NULL
    OR p.email IS DISTINCT FROM CASE WHEN :'phase' = 'finished' THEN coalesce(w.value, 'unknown')
                                     ELSE w.value END;
-- Seeded rows no app wrote: their email, or 'unknown' for a NULL after finish.
SELECT 'final_seed_rows_intact', count(*), ''
  FROM person p
 WHERE p.id <= :seed AND NOT EXISTS (SELECT 1 FROM written w WHERE w.id = p.id)
   AND p.email IS DISTINCT FROM CASE WHEN p.id % 5 = 0
                                     THEN CASE WHEN :'phase' = 'finished' THEN 'unknown' END
                                     ELSE 'p' || p.id || '@x' END;
SELECT 'final_row_count', abs(n - expected), format('%s rows, expected %s', n, expected)
  FROM (SELECT (SELECT count(*) FROM person) AS n,
               :seed + (SELECT count(*) FROM written WHERE kind = 'insert') AS expected) c;
SELECT 'final_no_triggers', count(*), coalesce(string_agg(tgname, ','), '')
  FROM pg_trigger WHERE tgrelid = 'person'::regclass AND NOT tgisinternal;
SELECT 'final_no_checks', count(*), coalesce(string_agg(conname, ','), '')
  FROM pg_constraint WHERE conrelid = 'person'::regclass AND contype = 'c';
SELECT 'final_state', count(*) FILTER (WHERE state IS DISTINCT FROM :'state'),
       coalesce(string_agg(DISTINCT state, ','), 'no migration')
  FROM zdm.status();
