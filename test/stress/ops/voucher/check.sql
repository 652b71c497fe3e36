-- ops/voucher/check.sql: invariants, one row per check: name|violations|detail.
-- run.sh fails the run on any row whose violations is not 0.
-- psql variables (set by run.sh):
--   phase = window   (migration open, apps may be running; checked in one snapshot)
--           finished (after zdm.finish())  |  aborted (after zdm.abort())
--   seed  = rows seeded by setup.sql (vouchers: stress_meta.vouchers)
-- The migration: join table used_voucher(user_id, voucher_id) -> voucher.user_id.
\ir window.sql
\if :is_window
\quit
\endif

\if :is_finished
-- finish dropped the join table; the column is the only shape.
SELECT 'final_join_table_gone', (to_regclass('used_voucher') IS NOT NULL)::int, '';
SELECT 'final_shape', (string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
                       IS DISTINCT FROM 'id:true,code:true,user_id:false')::int,
       string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute
 WHERE attrelid = 'voucher'::regclass AND attnum > 0 AND NOT attisdropped;
-- The join table's foreign key to app_user moved to the column, validated.
SELECT 'final_user_fk_validated', 1 - count(*),
       coalesce(string_agg(conname || ' ' || pg_get_constraintdef(oid) || ' validated=' || convalidated, ', '), 'none')
  FROM pg_constraint
 WHERE conrelid = 'voucher'::regclass AND contype = 'f' AND convalidated
   AND confrelid = 'app_user'::regclass;
SELECT 'final_no_triggers', count(*), coalesce(string_agg(tgname, ','), '')
  FROM pg_trigger WHERE tgrelid = 'voucher'::regclass AND NOT tgisinternal;
SELECT 'final_state', count(*) FILTER (WHERE state IS DISTINCT FROM 'finished'),
       coalesce(string_agg(DISTINCT state, ','), 'no migration')
  FROM zdm.status();
-- Every voucher holds its last committed write.
SELECT 'final_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('voucher %s: last %s (seq %s) user %s; voucher %s user_id %s',
                                 w.voucher_id, w.kind, w.seq, coalesce(w.user_id::text, 'NULL'),
                                 CASE WHEN v.id IS NULL THEN 'missing' ELSE 'exists' END,
                                 coalesce(v.user_id::text, 'NULL'))))[1:3], '; '), '')
  FROM last_write w
  LEFT JOIN voucher v ON v.id = w.voucher_id
 WHERE CASE WHEN w.kind = 'delete' THEN v.id IS NOT NULL
            ELSE v.id IS NULL OR v.user_id IS DISTINCT FROM w.user_id END;
SELECT 'final_seed_rows_intact', count(*),
       coalesce(array_to_string((array_agg(format('voucher %s: seeded %s, has %s',
                                 s.voucher_id, coalesce(s.user_id::text, 'NULL'),
                                 coalesce(v.user_id::text, CASE WHEN v.id IS NULL THEN 'missing' ELSE 'NULL' END))))[1:3], '; '), '')
  FROM seeded s
  LEFT JOIN voucher v ON v.id = s.voucher_id
 WHERE NOT EXISTS (SELECT 1 FROM last_write w WHERE w.voucher_id = s.voucher_id)
   AND (v.id IS NULL OR v.user_id IS DISTINCT FROM s.user_id);
-- The window's shapes agreed at the pre_finish snapshot, and every voucher no app
-- wrote after it (no ledger entry the snapshot did not see) still holds what
-- both shapes held then.
SELECT 'final_snapshot_shapes_agreed', count(*),
       coalesce(array_to_string((array_agg(format('voucher %s: column %s, join row %s', voucher_id,
                                 coalesce(column_user::text, 'NULL'), coalesce(join_user::text, 'none'))))[1:3], '; '), '')
  FROM finish_snapshot
 WHERE voucher_id IS NULL OR column_user IS DISTINCT FROM join_user;
SELECT 'final_matches_snapshot', count(*),
       coalesce(array_to_string((array_agg(format('voucher %s: snapshot %s, has %s', s.voucher_id,
                                 coalesce(s.column_user::text, 'NULL'),
                                 coalesce(v.user_id::text, CASE WHEN v.id IS NULL THEN 'missing' ELSE 'NULL' END))))[1:3], '; '), '')
  FROM finish_snapshot s
  LEFT JOIN voucher v ON v.id = s.voucher_id
 WHERE s.voucher_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM (SELECT seq, voucher_id FROM ledger_old
                                  UNION ALL SELECT seq, voucher_id FROM ledger_new) l
                    WHERE l.voucher_id = s.voucher_id
                      AND NOT EXISTS (SELECT 1 FROM finish_snapshot_ledger f WHERE f.seq = l.seq))
   AND (v.id IS NULL OR v.user_id IS DISTINCT FROM s.column_user);
SELECT 'final_no_dangling', count(*), ''
  FROM voucher v
 WHERE v.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = v.user_id);
\else
-- abort dropped the column; the join table is the only shape (run.sh also
-- compares the whole schema with the one before begin).
SELECT 'final_shape', (string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
                       IS DISTINCT FROM 'id:true,code:true')::int,
       string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
  FROM pg_attribute
 WHERE attrelid = 'voucher'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT 'final_no_triggers', count(*), coalesce(string_agg(tgname, ','), '')
  FROM pg_trigger
 WHERE tgrelid IN ('voucher'::regclass, 'used_voucher'::regclass) AND NOT tgisinternal;
SELECT 'final_state', count(*) FILTER (WHERE state IS DISTINCT FROM 'aborted'),
       coalesce(string_agg(DISTINCT state, ','), 'no migration')
  FROM zdm.status();
-- Every voucher holds its last committed write in the join table: the ones the
-- new app wrote to the column during the window included.
SELECT 'final_lost_writes', count(*),
       coalesce(array_to_string((array_agg(format('voucher %s: last %s (seq %s) user %s; voucher %s, join row %s',
                                 w.voucher_id, w.kind, w.seq, coalesce(w.user_id::text, 'NULL'),
                                 CASE WHEN v.id IS NULL THEN 'missing' ELSE 'exists' END,
                                 coalesce(j.user_id::text, 'none'))))[1:3], '; '), '')
  FROM last_write w
  LEFT JOIN voucher v ON v.id = w.voucher_id
  LEFT JOIN used_voucher j ON j.voucher_id = w.voucher_id
 WHERE CASE WHEN w.kind = 'delete' THEN v.id IS NOT NULL OR j.voucher_id IS NOT NULL
            ELSE v.id IS NULL OR j.user_id IS DISTINCT FROM w.user_id END;
SELECT 'final_seed_rows_intact', count(*),
       coalesce(array_to_string((array_agg(format('voucher %s: seeded %s, join row %s',
                                 s.voucher_id, coalesce(s.user_id::text, 'NULL'),
                                 coalesce(j.user_id::text, 'none'))))[1:3], '; '), '')
  FROM seeded s
  LEFT JOIN voucher v ON v.id = s.voucher_id
  LEFT JOIN used_voucher j ON j.voucher_id = s.voucher_id
 WHERE NOT EXISTS (SELECT 1 FROM last_write w WHERE w.voucher_id = s.voucher_id)
   AND (v.id IS NULL OR j.user_id IS DISTINCT FROM s.user_id);
SELECT 'final_no_dangling', count(*), ''
  FROM used_voucher j
 WHERE NOT EXISTS (SELECT 1 FROM voucher v WHERE v.id = j.voucher_id)
    OR NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = j.user_id);
\endif
SELECT 'final_voucher_count', abs(n - expected),
       format('%s vouchers, expected %s', n, expected)
  FROM (SELECT (SELECT count(*) FROM voucher) AS n,
               (SELECT vouchers FROM stress_meta)
               + (SELECT count(*) FROM ledger_old WHERE kind = 'insert')
               + (SELECT count(*) FROM ledger_new WHERE kind = 'insert')
               - (SELECT count(*) FROM ledger_old WHERE kind = 'delete')
               - (SELECT count(*) FROM ledger_new WHERE kind = 'delete') AS expected) c;
COMMIT;
