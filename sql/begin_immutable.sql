-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- up, down and default_expr must be IMMUTABLE, as the expression of a stored
-- generated column must: zdm computes them in sessions with any TimeZone or
-- DateStyle, and in the backfill. The error names the function, operator or
-- cast that is not, and nothing changes.
CREATE TABLE ev (id int PRIMARY KEY, ts timestamptz, t timestamp, a text, b text);
INSERT INTO ev VALUES (1, '2024-01-01 12:00+00', '2024-01-01 12:00', 'x', 'y');
CREATE FUNCTION public.session_label(text) RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT $1 || current_setting('application_name') $$;

SELECT zdm.begin_alter_type('ev', 'ts', 'timestamp');           -- the cast depends on TimeZone
SELECT zdm.begin_alter_type('ev', 't', 'timestamptz');
SELECT zdm.begin_alter_type('ev', 't', 'text');                 -- the text form: DateStyle
SELECT zdm.begin_alter_type('ev', 'ts', 'timestamp', up => '(ts AT TIME ZONE ''UTC'')');  -- down
SELECT zdm.begin_add_column('ev', 'ab', 'text', up => 'concat_ws('' '', a, b)');
SELECT zdm.begin_add_column('ev', 'later', 'timestamptz', up => 'ts + interval ''1 day''');
SELECT zdm.begin_add_column('ev', 'year', 'text', up => 'to_char(t, ''YYYY'')');
SELECT zdm.begin_add_column('ev', 'day', 'date', up => 'current_date');
SELECT zdm.begin_add_column('ev', 'r', 'float8', up => 'random()');
SELECT zdm.begin_add_column('ev', 'l', 'text', up => 'session_label(a)');
SELECT zdm.begin_add_column('ev', 'created', 'timestamptz', default_expr => 'now()');
SELECT zdm.begin_drop_column('ev', 'b', down => 'a || now()::text');
\d ev
SELECT count(*) AS migrations FROM zdm.migrations;

-- With the time zone named, every session and the backfill agree.
SELECT zdm.begin_alter_type('ev', 'ts', 'timestamp', up => '(ts AT TIME ZONE ''UTC'')',
                            down => '(ts_new AT TIME ZONE ''UTC'')', migration => 'utc');
SELECT up_expr, down_expr FROM zdm.operations WHERE migration = 'utc';
SET TimeZone = 'UTC';
INSERT INTO ev (id, ts) VALUES (2, '2024-01-01 12:00+00');
SET TimeZone = 'America/New_York';
INSERT INTO ev (id, ts) VALUES (3, '2024-01-01 12:00+00');
INSERT INTO ev (id, ts_new) VALUES (4, '2024-01-01 12:00');   -- new app, 12:00 UTC
SET TimeZone = 'Asia/Tokyo';
SET client_min_messages = warning;
CALL zdm.backfill('utc');
RESET client_min_messages;
SET TimeZone = 'UTC';
SELECT id, ts, ts_new FROM ev ORDER BY id;
SELECT zdm.abort('utc');

-- A migration opened by an earlier zdm, which refused only volatile
-- expressions, may hold a stable one: the trigger still compiles it, so the
-- apps' writes keep working until it is finished or aborted.
SELECT zdm.begin_add_column('ev', 'ab', 'text', up => 'a || b', migration => 'old');
DROP TRIGGER zzz_zdm_dual_write ON ev;
CREATE TRIGGER zzz_zdm_dual_write BEFORE INSERT OR UPDATE ON ev FOR EACH ROW
  EXECUTE FUNCTION zdm.dual_write_trigger('add_column', 'old', '', 'ab',
                                          'concat_ws('' '', a, b)', '');
INSERT INTO ev (id, a, b) VALUES (10, 'p', 'q');
SELECT id, ab FROM ev WHERE id = 10;
SELECT zdm.abort('old');
DROP TABLE ev;
DROP FUNCTION public.session_label(text);
