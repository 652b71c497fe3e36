-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- Types without a default equality operator (json, xml, point): zdm compares
-- their values by binary image, so rename and alter_type go through begin,
-- backfill and finish like any other type.
CREATE TABLE doc (id int PRIMARY KEY, body json, x xml, p point, note text);
INSERT INTO doc VALUES (1, '{"a": 1}', '<a>1</a>', '(1,2)', 'n'), (2, NULL, NULL, NULL, 'n'),
                       (3, '[1,  2]', '<b/>', '(3,4)', 'n');

SELECT zdm.begin_rename('doc', 'body', 'content', migration => 'r');
SELECT zdm.begin_rename('doc', 'x', 'y', migration => 'r');
SELECT zdm.begin_rename('doc', 'p', 'q', migration => 'r');
INSERT INTO doc (id, body, x, p) VALUES (4, '{"old": true}', '<old/>', '(5,6)');   -- old app
INSERT INTO doc (id, content, y, q) VALUES (5, '{"new": true}', '<new/>', '(7,8)'); -- new app
UPDATE doc SET content = '{"a":  2}', y = '<b>2</b>', q = '(3,5)' WHERE id = 3;     -- new app
SET client_min_messages = warning;
CALL zdm.backfill('r');
RESET client_min_messages;
SELECT id, body::text, content::text, x::text, y::text, p::text, q::text FROM doc ORDER BY id;
SELECT zdm.finish('r');
SELECT id, content::text, y::text, q::text FROM doc ORDER BY id;

SELECT zdm.begin_alter_type('doc', 'content', 'jsonb', migration => 't');
SELECT zdm.begin_alter_type('doc', 'y', 'text', down => 'XMLPARSE(CONTENT y_new)',
                            migration => 't');
SELECT zdm.begin_alter_type('doc', 'q', 'box', down => 'point(q_new)', migration => 't');
INSERT INTO doc (id, content, y, q) VALUES (6, '{"b":  [1, 2]}', '<c/>', '(9,9)');  -- old app
INSERT INTO doc (id, content_new, y_new, q_new) VALUES (7, '{"c": 3}', '<d/>', '(1,1),(1,1)');
UPDATE doc SET note = 'touched' WHERE id = 1;                                        -- old app
SET client_min_messages = warning;
CALL zdm.backfill('t');
SELECT zdm.finish('t');
RESET client_min_messages;
SELECT id, content, pg_typeof(content), y, pg_typeof(y), q, pg_typeof(q) FROM doc ORDER BY id;
DROP TABLE doc;
