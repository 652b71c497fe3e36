-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
SET client_min_messages = warning;  -- progress NOTICEs depend on timing
-- The backfill sees every row or refuses: its statements run with
-- row_security = off, so a row-level security policy that would hide rows
-- from it is an error naming the table and the fix, never a silent skip.
CREATE ROLE zdm_rls_owner;
GRANT USAGE, CREATE ON SCHEMA public TO zdm_rls_owner;
SET ROLE zdm_rls_owner;
CREATE TABLE doc (id int PRIMARY KEY, owner name NOT NULL, qty int);
INSERT INTO doc SELECT i, CASE WHEN i % 2 = 0 THEN 'zdm_rls_owner' ELSE 'someone_else' END, i
FROM generate_series(1, 20) i;
SELECT zdm.begin_alter_type('doc', 'qty', 'bigint');
-- The policy arrives after begin (begin itself refuses a FORCE ROW LEVEL
-- SECURITY table): the owner now sees only half of the rows.
CREATE POLICY mine ON doc USING (owner = current_user);
ALTER TABLE doc ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
SELECT count(*) AS visible FROM doc;
CALL zdm.backfill(batch_size => 5);
SELECT backfill, rows_done FROM zdm.status();
-- Inside a transaction block, the same.
BEGIN;
CALL zdm.backfill(batch_size => 5);
ROLLBACK;
-- The fix the hint names: the owner is no longer subject to the policy.
ALTER TABLE doc NO FORCE ROW LEVEL SECURITY;
CALL zdm.backfill(batch_size => 5);
SELECT backfill, rows_done FROM zdm.status();
SELECT count(*) AS unconverted FROM doc WHERE qty_new IS DISTINCT FROM qty;
SELECT zdm.finish();
SELECT count(*) AS rows, count(qty) AS with_qty FROM doc;
DROP TABLE doc;
RESET ROLE;
REVOKE USAGE, CREATE ON SCHEMA public FROM zdm_rls_owner;
DROP ROLE zdm_rls_owner;
