-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
DROP ROLE IF EXISTS zdm_extras_app;
DROP ROLE IF EXISTS zdm_extras_audit;
RESET client_min_messages;
-- Everything attached to a column follows it: column privileges, comment,
-- statistics target, n_distinct, storage and compression. rename's new name and
-- alter_type's shadow column get them at begin (so a role granted the column
-- can use it under either name), add_column's column inherits the privileges
-- a role holds on every column its up reads, and what is granted on either
-- column during the window survives finish.
CREATE ROLE zdm_extras_app;
CREATE ROLE zdm_extras_audit;
CREATE TABLE acct (id int PRIMARY KEY, bal int, note text, body text, code text);
INSERT INTO acct VALUES (1, 100, 'one', 'b1', '7'), (2, 200, 'two', 'b2', '8');
GRANT SELECT (id, bal), UPDATE (bal) ON acct TO zdm_extras_app;
GRANT SELECT (note) ON acct TO zdm_extras_app WITH GRANT OPTION;
GRANT UPDATE (note) ON acct TO zdm_extras_app;
GRANT SELECT (note) ON acct TO PUBLIC;
COMMENT ON COLUMN acct.bal IS 'balance, in cents (it''s signed)';
COMMENT ON COLUMN acct.note IS 'free text';
ALTER TABLE acct ALTER COLUMN bal SET STATISTICS 500;
ALTER TABLE acct ALTER COLUMN bal SET (n_distinct = -0.5);
ALTER TABLE acct ALTER COLUMN body SET STORAGE EXTERNAL;
ALTER TABLE acct ALTER COLUMN body SET COMPRESSION pglz;
ALTER TABLE acct ALTER COLUMN code SET STORAGE MAIN;
CREATE VIEW acct_columns AS
SELECT a.attname, col_description(a.attrelid, a.attnum) AS comment,
       a.attstattarget AS stats,
       (SELECT string_agg(o, ',') FROM unnest(a.attoptions) o WHERE o LIKE 'n\_distinct%') AS options,
       a.attstorage AS storage, a.attcompression AS compression,
       (SELECT string_agg(CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END
                          || ':' || x.privilege_type || CASE WHEN x.is_grantable THEN '*' ELSE '' END,
                          ' ' ORDER BY 1) FROM aclexplode(a.attacl) x) AS grants
FROM pg_attribute a WHERE a.attrelid = 'acct'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;

SELECT zdm.begin_alter_type('acct', 'bal', 'bigint', migration => 'm');
SELECT zdm.begin_alter_type('acct', 'body', 'varchar(100)', migration => 'm');
SELECT zdm.begin_alter_type('acct', 'code', 'int', up => 'code::int', migration => 'm');
SELECT zdm.begin_rename('acct', 'note', 'remark', migration => 'm');
SELECT zdm.begin_add_column('acct', 'bal2', 'bigint', up => 'bal * 2', migration => 'm');
SELECT zdm.begin_add_column('acct', 'label', 'text', up => 'id::text || note', migration => 'm');
SELECT * FROM acct_columns;

-- The app uses both shapes under the grants it had.
SET ROLE zdm_extras_app;
UPDATE acct SET bal_new = 150 WHERE id = 1;        -- new app
UPDATE acct SET bal = 250 WHERE id = 2;            -- old app
UPDATE acct SET remark = 'uno', bal_new = 151 WHERE id = 1;
SELECT id, bal, bal_new, note, remark FROM acct ORDER BY id;
SELECT count(*) AS readable FROM (SELECT bal2, label FROM acct) s;  -- inherited SELECT
RESET ROLE;
-- Granted and set during the window, on either name.
GRANT SELECT (bal) ON acct TO zdm_extras_audit;
GRANT SELECT (remark) ON acct TO zdm_extras_audit;
COMMENT ON COLUMN acct.remark IS 'what the customer wrote';

SET client_min_messages = warning;
CALL zdm.backfill('m');
SELECT zdm.finish('m');
RESET client_min_messages;
SELECT * FROM acct_columns;
SET ROLE zdm_extras_app;
SELECT id, bal, remark FROM acct ORDER BY id;
SELECT count(*) AS readable FROM (SELECT bal2, label FROM acct) s;
UPDATE acct SET bal = bal + 1, remark = 'eins' WHERE id = 1;
RESET ROLE;
SET ROLE zdm_extras_audit;
SELECT bal, remark FROM acct ORDER BY bal;
RESET ROLE;
DROP VIEW acct_columns;
DROP TABLE acct;
DROP ROLE zdm_extras_app, zdm_extras_audit;
