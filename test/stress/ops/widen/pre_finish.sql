-- ops/widen/pre_finish.sql: what the migration tool runs before zdm.finish(),
-- while both apps still write: the index builds zdm.pending_statements() lists
-- (CREATE INDEX CONCURRENTLY, each at top level; psql's \gexec runs them so).
-- Shared by widen_named and widen_inplace (BASE_OP=widen in their op.env).
SELECT * FROM zdm.pending_statements('widen') \gexec
-- None is left.
SELECT CASE WHEN count(*) = 0 THEN 'index builds done'
            ELSE (count(*) || ' statements still pending')::int::text END
  FROM zdm.pending_statements('widen');
