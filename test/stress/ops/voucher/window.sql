-- ops/voucher/window.sql: what both voucher operations check alike, included by
-- voucher/check.sql and voucher_reverse/check.sql (\ir): the ledgers' views, and,
-- in the window (phase = window), that the two shapes hold the same map (the map
-- is the same whichever shape came first). The including file ends the window
-- phase after it: a \quit here would only end this file.
--
-- The ledgers: for each voucher, the entry with the highest seq is its last
-- committed write (see setup.sql), so it says what the voucher must hold now:
-- kind 'delete' -> no voucher and no join row; otherwise the voucher with
-- user_id (NULL: not redeemed), in every shape that exists.
\set ON_ERROR_STOP on
SELECT :'phase' = 'window' AS is_window, :'phase' = 'finished' AS is_finished,
       :'phase' = 'aborted' AS is_aborted \gset

-- Every check reads one snapshot: a write and its ledger entry commit together.
BEGIN ISOLATION LEVEL REPEATABLE READ;
CREATE TEMP VIEW last_write AS
SELECT DISTINCT ON (voucher_id) voucher_id, user_id, kind, seq
  FROM (SELECT seq, voucher_id, user_id, kind FROM ledger_old
        UNION ALL
        SELECT seq, voucher_id, user_id, kind FROM ledger_new) l
 ORDER BY voucher_id, seq DESC;
-- What setup.sql seeded, for the vouchers no app wrote.
CREATE TEMP VIEW seeded AS
SELECT g AS voucher_id, CASE WHEN g % 3 <> 0 THEN g % m.users + 1 END AS user_id
  FROM stress_meta m, generate_series(1, m.vouchers) g;

\if :is_window
-- Both shapes agree, in both directions.
SELECT 'window_join_minus_column' AS check, count(*) AS violations,
       coalesce(array_to_string((array_agg(format('voucher %s user %s', voucher_id, user_id)))[1:3], '; '), '') AS detail
  FROM (SELECT voucher_id, user_id FROM used_voucher
        EXCEPT SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL) d;
SELECT 'window_column_minus_join', count(*),
       coalesce(array_to_string((array_agg(format('voucher %s user %s', id, user_id)))[1:3], '; '), '')
  FROM (SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL
        EXCEPT SELECT voucher_id, user_id FROM used_voucher) d;
-- Every voucher holds its last committed write, in both shapes.
SELECT 'window_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('voucher %s: last %s (seq %s) user %s; voucher %s user_id %s, join row %s',
                                 w.voucher_id, w.kind, w.seq, coalesce(w.user_id::text, 'NULL'),
                                 CASE WHEN v.id IS NULL THEN 'missing' ELSE 'exists' END,
                                 coalesce(v.user_id::text, 'NULL'), coalesce(j.user_id::text, 'none'))))[1:3], '; '), '')
  FROM last_write w
  LEFT JOIN voucher v ON v.id = w.voucher_id
  LEFT JOIN used_voucher j ON j.voucher_id = w.voucher_id
 WHERE CASE WHEN w.kind = 'delete' THEN v.id IS NOT NULL OR j.voucher_id IS NOT NULL
            ELSE v.id IS NULL OR v.user_id IS DISTINCT FROM w.user_id
                 OR j.user_id IS DISTINCT FROM w.user_id END;
-- Vouchers no app wrote hold their seed redemption, in both shapes.
SELECT 'window_seed_rows_intact', count(*),
       coalesce(array_to_string((array_agg(format('voucher %s: seeded %s, voucher user_id %s, join row %s',
                                 s.voucher_id, coalesce(s.user_id::text, 'NULL'),
                                 coalesce(v.user_id::text, CASE WHEN v.id IS NULL THEN 'missing' ELSE 'NULL' END),
                                 coalesce(j.user_id::text, 'none'))))[1:3], '; '), '')
  FROM seeded s
  LEFT JOIN voucher v ON v.id = s.voucher_id
  LEFT JOIN used_voucher j ON j.voucher_id = s.voucher_id
 WHERE NOT EXISTS (SELECT 1 FROM last_write w WHERE w.voucher_id = s.voucher_id)
   AND (v.id IS NULL OR v.user_id IS DISTINCT FROM s.user_id OR j.user_id IS DISTINCT FROM s.user_id);
-- Voucher count: seeded + inserted - deleted (as the apps recorded them).
SELECT 'window_voucher_count', abs(n - expected),
       format('%s vouchers, expected %s', n, expected)
  FROM (SELECT (SELECT count(*) FROM voucher) AS n,
               (SELECT vouchers FROM stress_meta)
               + (SELECT count(*) FROM ledger_old WHERE kind = 'insert')
               + (SELECT count(*) FROM ledger_new WHERE kind = 'insert')
               - (SELECT count(*) FROM ledger_old WHERE kind = 'delete')
               - (SELECT count(*) FROM ledger_new WHERE kind = 'delete') AS expected) c;
-- No redemption names a voucher or a user that does not exist.
SELECT 'window_no_dangling', count(*), coalesce(string_agg(DISTINCT what, ', '), '')
  FROM (SELECT 'join row without voucher' AS what FROM used_voucher j
         WHERE NOT EXISTS (SELECT 1 FROM voucher v WHERE v.id = j.voucher_id)
        UNION ALL
        SELECT 'join row without user' FROM used_voucher j
         WHERE NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = j.user_id)
        UNION ALL
        SELECT 'voucher.user_id without user' FROM voucher v
         WHERE v.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = v.user_id)) d;
SELECT 'window_triggers_present', abs(count(*) - 4),
       coalesce(string_agg(tgrelid::regclass || '.' || tgname, ', ' ORDER BY tgname), 'none')
  FROM pg_trigger
 WHERE tgrelid IN ('voucher'::regclass, 'used_voucher'::regclass) AND NOT tgisinternal;
COMMIT;
\endif
