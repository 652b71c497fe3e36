-- ops/create_index/pre_finish.sql: the build zdm.pending_statements() lists
-- (CREATE INDEX CONCURRENTLY, top level through \gexec), while both apps write.
SELECT * FROM zdm.pending_statements('create_index') \gexec
SELECT CASE WHEN count(*) = 0 THEN 'index builds done'
            ELSE (count(*) || ' statements still pending')::int::text END
  FROM zdm.pending_statements('create_index');
