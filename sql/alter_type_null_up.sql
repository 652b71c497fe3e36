-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- alter_type with an `up` that gives NULL a value (coalesce): the old app's
-- writes of NULL get up's value through the trigger, so the rows from before
-- begin that hold NULL must get it from the backfill too. A row left NULL in
-- the converted column passes finish's row check (down of NULL is NULL, the
-- old value), so a backfill that skips it loses up's value silently.
CREATE TABLE atn (id int PRIMARY KEY, qty int, note text);
INSERT INTO atn SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE g END, 'n' || g
  FROM generate_series(1, 30) g;
CREATE TABLE atn_src AS SELECT id, qty FROM atn;

-- One deploy (new_name): the new app reads quantity from begin on.
SELECT zdm.begin_alter_type('atn', 'qty', 'bigint', up => 'coalesce(qty, 0)',
                            new_name => 'quantity', migration => 'atn');
INSERT INTO atn (id, qty) VALUES (100, NULL);              -- old app
INSERT INTO atn_src VALUES (100, NULL);
SELECT id, qty, quantity FROM atn WHERE id IN (3, 100) ORDER BY id;
CALL zdm.backfill('atn');
SELECT zdm.finish('atn');
-- Every row holds up's value: EXCEPT both ways.
(SELECT id, coalesce(qty, 0)::bigint FROM atn_src EXCEPT SELECT id, quantity FROM atn) UNION ALL
(SELECT id, quantity FROM atn EXCEPT SELECT id, coalesce(qty, 0)::bigint FROM atn_src) ORDER BY 1, 2;

-- The shadow column (no new_name), same rule.
CREATE TABLE ats (id int PRIMARY KEY, qty int);
INSERT INTO ats SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE g END FROM generate_series(1, 20) g;
CREATE TABLE ats_src AS SELECT * FROM ats;
SELECT zdm.begin_alter_type('ats', 'qty', 'numeric(12,2)', up => 'coalesce(qty, -1)',
                            migration => 'ats');
CALL zdm.backfill('ats');
SELECT zdm.finish('ats');
(SELECT id, coalesce(qty, -1)::numeric(12,2) FROM ats_src EXCEPT SELECT id, qty FROM ats) UNION ALL
(SELECT id, qty FROM ats EXCEPT SELECT id, coalesce(qty, -1)::numeric(12,2) FROM ats_src) ORDER BY 1, 2;

-- Without up the cast keeps NULL NULL: the backfill still leaves those rows
-- alone (rows converted: the 15 non-NULL ones only).
CREATE TABLE atc (id int PRIMARY KEY, qty int);
INSERT INTO atc SELECT g, CASE WHEN g % 2 = 0 THEN NULL ELSE g END FROM generate_series(1, 30) g;
SELECT zdm.begin_alter_type('atc', 'qty', 'bigint', migration => 'atc');
CALL zdm.backfill('atc');
SELECT rows_done, rows_converted FROM zdm.status() WHERE migration = 'atc';
SELECT zdm.finish('atc');
SELECT count(*) FILTER (WHERE qty IS NULL) AS nulls, count(*) AS total FROM atc;

DROP TABLE atn, atn_src, ats, ats_src, atc;
