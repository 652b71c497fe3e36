-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
DROP ROLE IF EXISTS zdm_rls_owner;
DROP ROLE IF EXISTS zdm_rls_admin;
RESET client_min_messages;
-- A table with FORCE ROW LEVEL SECURITY applies its policies to its owner
-- too: the backfill would see only the rows they show, and finish would
-- contract over the rest. begin refuses unless the caller can bypass row
-- security, and says how; nothing changes.
CREATE ROLE zdm_rls_owner;
CREATE ROLE zdm_rls_admin BYPASSRLS IN ROLE zdm_rls_owner;
CREATE TABLE doc (id int PRIMARY KEY, owner name NOT NULL, qty int);
INSERT INTO doc SELECT i, CASE WHEN i % 2 = 0 THEN 'zdm_rls_owner' ELSE 'someone_else' END, i
FROM generate_series(1, 6) i;
ALTER TABLE doc OWNER TO zdm_rls_owner;
ALTER TABLE doc ENABLE ROW LEVEL SECURITY;
ALTER TABLE doc FORCE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON doc USING (owner = current_user);
CREATE TABLE slot (id int PRIMARY KEY, doc_id int NOT NULL UNIQUE REFERENCES doc (id));
ALTER TABLE slot OWNER TO zdm_rls_owner;

SET ROLE zdm_rls_owner;
SELECT count(*) AS visible_to_owner FROM doc;
SELECT zdm.begin_alter_type('doc', 'qty', 'bigint');
SELECT zdm.begin_rename('doc', 'qty', 'quantity');
SELECT zdm.begin_add_column('doc', 'note', 'text');
SELECT zdm.begin_drop_column('doc', 'qty');
SELECT zdm.begin_column_to_join('doc', 'id', 'qty', 'doc_qty');
SELECT zdm.begin_join_to_column('slot', 'doc_id', 'doc', 'id', 'id', 'slot_id');
RESET ROLE;
\d doc
SELECT count(*) AS migrations FROM zdm.migrations;

-- A role with BYPASSRLS (here a member of the owner) may.
SET ROLE zdm_rls_admin;
SELECT zdm.begin_alter_type('doc', 'qty', 'bigint', migration => 'widen');
SET client_min_messages = warning;
CALL zdm.backfill('widen');
RESET client_min_messages;
SELECT count(*) AS converted FROM doc WHERE qty_new IS NOT DISTINCT FROM qty;
SELECT zdm.abort('widen');
RESET ROLE;
-- So may the owner once the table is NO FORCE for the migration.
ALTER TABLE doc NO FORCE ROW LEVEL SECURITY;
SET ROLE zdm_rls_owner;
SELECT zdm.begin_alter_type('doc', 'qty', 'bigint', migration => 'noforce');
SELECT zdm.abort('noforce');
RESET ROLE;
DROP TABLE slot, doc;
DROP ROLE zdm_rls_admin, zdm_rls_owner;
