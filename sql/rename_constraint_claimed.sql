-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- zdm.rename_constraint on a column an open operation holds. alter_type (and
-- set_not_null with up) repeats the column's CHECKs and UNIQUE constraints on
-- its shadow column and, at finish, gives the copies the originals' names,
-- finding them by name: a rename during the window would make finish fail
-- half way (no such constraint), or leave a second index behind. So it is
-- refused, as begin_drop_constraint refuses it; a constraint on another
-- column is renamed as before.
\set VERBOSITY default
CREATE TABLE rcc (id int PRIMARY KEY, amount int CONSTRAINT rcc_amount_pos CHECK (amount > 0)
                  CONSTRAINT rcc_amount_key UNIQUE, code int CONSTRAINT rcc_code_pos CHECK (code > 0),
                  email text);
INSERT INTO rcc SELECT g, g, g, 'e' || g FROM generate_series(1, 10) g;
SELECT zdm.begin_alter_type('rcc', 'amount', 'bigint', migration => 'rcc');
SELECT conname FROM pg_constraint WHERE conrelid = 'rcc'::regclass ORDER BY 1;
-- The column's own constraints and their copies on the shadow column: refused.
SELECT zdm.rename_constraint('rcc', 'rcc_amount_pos', 'rcc_amount_positive');
SELECT zdm.rename_constraint('rcc', 'rcc_amount_key', 'rcc_amount_unique');
SELECT zdm.rename_constraint('rcc', 'rcc_amount_pos_amount_new', 'rcc_x');
-- Another column's: renamed.
SELECT zdm.rename_constraint('rcc', 'rcc_code_pos', 'rcc_code_positive');
SELECT * FROM zdm.pending_statements('rcc') \gexec
CALL zdm.backfill('rcc');
SELECT zdm.finish('rcc');
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'rcc'::regclass
  ORDER BY 1;
SELECT indexrelid::regclass::text AS index FROM pg_index WHERE indrelid = 'rcc'::regclass ORDER BY 1;

-- set_not_null with up: the same.
CREATE TABLE rcn (id int PRIMARY KEY, email text CONSTRAINT rcn_email_nonempty CHECK (email <> ''));
INSERT INTO rcn VALUES (1, 'a'), (2, NULL);
SELECT zdm.begin_set_not_null('rcn', 'email', up => 'coalesce(email, ''-'')', migration => 'rcn');
SELECT zdm.rename_constraint('rcn', 'rcn_email_nonempty', 'rcn_email_filled');
CALL zdm.backfill('rcn');
SELECT zdm.finish('rcn');
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'rcn'::regclass
  ORDER BY 1;
SELECT id, email FROM rcn ORDER BY id;
DROP TABLE rcc, rcn;
