-- The upgrade path: a migration opened under zdm 0.1.0 survives
-- ALTER EXTENSION zdm UPDATE and finishes under 0.2.0, and the updated
-- extension's objects equal a fresh install's (so src/zdm--0.1.0--0.2.0.sql
-- must carry every change made to src/zdm.sql since 0.1.0).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'zdm';
-- Every object of the installed zdm, one line per fact. OIDs never appear, so
-- two installs compare line by line. Column order is not compared (ALTER TABLE
-- ADD COLUMN appends; pg_dump names the columns it restores). A temp function
-- outlives DROP EXTENSION.
CREATE FUNCTION pg_temp.zdm_objects() RETURNS SETOF text LANGUAGE sql AS $fn$
WITH member AS (
    SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'zdm'
), rel AS (
    SELECT c.oid, c.relkind, c.oid::regclass::text AS name FROM member m
    JOIN pg_class c ON c.oid = m.objid WHERE m.classid = 'pg_class'::regclass
)
SELECT 'member ' || (pg_identify_object(m.classid, m.objid, 0)).type || ' '
       || (pg_identify_object(m.classid, m.objid, 0)).identity
       || coalesce(' comment ' || obj_description(m.objid,
                      (SELECT relname FROM pg_class WHERE oid = m.classid)), '') AS line
FROM member m
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' acl ' || coalesce(p.proacl::text, 'default')
       || E'\n' || pg_get_functiondef(p.oid)
FROM member m JOIN pg_proc p ON p.oid = m.objid WHERE m.classid = 'pg_proc'::regclass
UNION ALL
SELECT 'event trigger ' || t.evtname || ' on ' || t.evtevent || ' tags '
       || coalesce(t.evttags::text, 'all') || ' runs ' || t.evtfoid::regprocedure
       || ' enabled ' || t.evtenabled::text
FROM member m JOIN pg_event_trigger t ON t.oid = m.objid
WHERE m.classid = 'pg_event_trigger'::regclass
UNION ALL
SELECT 'relation ' || r.name || ' kind ' || r.relkind::text || ' acl '
       || coalesce((SELECT relacl::text FROM pg_class WHERE oid = r.oid), 'default')
FROM rel r
UNION ALL
SELECT 'column ' || r.name || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
       || coalesce(' comment ' || col_description(r.oid, a.attnum), '')
       || coalesce(' acl ' || a.attacl::text, '')
FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE r.relkind IN ('r', 'v', 'm', 'p')
UNION ALL
SELECT 'constraint ' || r.name || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
FROM rel r JOIN pg_constraint c ON c.conrelid = r.oid
UNION ALL
SELECT 'index ' || r.name || ' ' || pg_get_indexdef(i.indexrelid)
FROM rel r JOIN pg_index i ON i.indrelid = r.oid
UNION ALL
SELECT 'trigger ' || r.name || ' ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
FROM rel r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
UNION ALL
SELECT 'view ' || r.name || ' ' || pg_get_viewdef(r.oid) FROM rel r WHERE r.relkind IN ('v', 'm')
UNION ALL
SELECT 'sequence ' || r.name || ' ' || format_type(s.seqtypid, NULL) || ' ' || s.seqincrement
       || ' ' || s.seqmin || ' ' || s.seqmax || ' owned by '
       || coalesce((SELECT d.refobjid::regclass || '.' || a.attname FROM pg_depend d
                    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                    AND d.deptype = 'a'), 'none')
FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
UNION ALL
SELECT 'policy ' || r.name || ' ' || p.polname || ' ' || p.polcmd::text || ' '
       || coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' '
       || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
FROM rel r JOIN pg_policy p ON p.polrelid = r.oid
UNION ALL
SELECT 'type ' || format_type(t.oid, NULL) || ' ' || t.typtype::text || coalesce(' values ' ||
       (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e
        WHERE e.enumtypid = t.oid), '')
FROM member m JOIN pg_type t ON t.oid = m.objid WHERE m.classid = 'pg_type'::regclass
UNION ALL
SELECT 'config dump ' || c::regclass || ' where ' || coalesce(w, '')
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(c, w) WHERE e.extname = 'zdm'
UNION ALL
SELECT 'schema zdm owner ' || n.nspowner::regrole || ' acl ' || coalesce(n.nspacl::text, 'default')
FROM pg_namespace n WHERE n.nspname = 'zdm'
$fn$;
CREATE TEMP TABLE fresh AS SELECT pg_temp.zdm_objects() AS line;

SET client_min_messages = warning;
DROP EXTENSION zdm CASCADE;
RESET client_min_messages;
CREATE EXTENSION zdm VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'zdm';
CREATE TABLE person (id int PRIMARY KEY, last_name text);
INSERT INTO person SELECT i, 'name ' || i FROM generate_series(1, 10) i;
SELECT zdm.begin_rename('person', 'last_name', 'surname', migration => 'before_update');
INSERT INTO person (id, last_name) VALUES (11, 'old app, 0.1.0');
-- zdm 0.1.0's begin left its trigger firing on origin only (this library's
-- begin makes it ALWAYS): the update makes it ALWAYS, so that it fires in a
-- logical-replication subscriber's apply worker.
ALTER TABLE person ENABLE TRIGGER zzz_zdm_dual_write;

ALTER EXTENSION zdm UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'zdm';
-- The open migration is intact, and both apps keep writing.
SELECT migration, state, operation, table_name FROM zdm.status();
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'person'::regclass;
-- It belongs to its table's owner (names are scoped per owner since 0.2.0).
SELECT o.migration, o.migration_owner = m.owner AND m.owner::oid = c.relowner AS owned_by_table_owner
FROM zdm.operations o JOIN zdm.migrations m ON m.name = o.migration
JOIN pg_class c ON c.oid = o.tbl;
INSERT INTO person (id, surname) VALUES (12, 'new app, 0.2.0');
UPDATE person SET last_name = 'old app, 0.2.0' WHERE id = 1;
CALL zdm.backfill();
SELECT zdm.finish();
SELECT migration, state FROM zdm.status();
-- zdm.ddl_log names the owner: the update fills it in for what 0.1.0 logged
-- (begin), 0.2.0 logs it (finish).
SELECT l.phase, count(*) AS statements, count(*) FILTER (WHERE l.migration_owner = m.owner) AS with_owner
FROM zdm.ddl_log l JOIN zdm.migrations m ON m.name = l.migration
GROUP BY l.phase ORDER BY l.phase;
SELECT * FROM person WHERE id IN (1, 11, 12) ORDER BY id;

-- The updated objects equal a fresh 0.2.0 install's, line by line.
CREATE TEMP TABLE updated AS SELECT pg_temp.zdm_objects() AS line;
SELECT line AS only_in_fresh_install FROM fresh EXCEPT SELECT line FROM updated
ORDER BY 1;
SELECT line AS only_after_update FROM updated EXCEPT SELECT line FROM fresh
ORDER BY 1;
SELECT count(*) > 50 AS compared_enough FROM fresh;

DROP TABLE person;
SET client_min_messages = warning;
DROP EXTENSION zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
