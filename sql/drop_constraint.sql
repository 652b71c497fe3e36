-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- begin_drop_constraint: nothing changes during the window (the old app may
-- still rely on the constraint); finish drops it; abort does nothing.
-- zdm.rename_constraint renames at once, lock-safe and logged.
CREATE TABLE dc_customer (id int PRIMARY KEY, email text CONSTRAINT dc_email_key UNIQUE,
                          age int CONSTRAINT dc_age_pos CHECK (age > 0));
CREATE TABLE dc_order (id int PRIMARY KEY, customer_id int CONSTRAINT dc_order_customer_fk
                       REFERENCES dc_customer (id));
INSERT INTO dc_customer VALUES (1, 'a', 30);

SELECT zdm.begin_drop_constraint('dc_customer', 'dc_age_pos');
SELECT operation, backfill FROM zdm.status();
-- Still enforced during the window.
INSERT INTO dc_customer VALUES (2, 'b', -1);
SELECT zdm.finish();
INSERT INTO dc_customer VALUES (2, 'b', -1);
SELECT conname FROM pg_constraint WHERE conrelid = 'dc_customer'::regclass ORDER BY 1;

-- abort does nothing.
SELECT zdm.begin_drop_constraint('dc_customer', 'dc_email_key', migration => 'keep');
SELECT zdm.abort('keep');
SELECT conname FROM pg_constraint WHERE conrelid = 'dc_customer'::regclass ORDER BY 1;

-- A primary key that a foreign key references: refused, naming it; dropping
-- the foreign key first (an earlier migration, or the same one) lets it go.
SELECT zdm.begin_drop_constraint('dc_customer', 'dc_customer_pkey');
SELECT zdm.begin_drop_constraint('dc_order', 'dc_order_customer_fk', migration => 'unlink');
SELECT zdm.finish('unlink');
SELECT zdm.begin_drop_constraint('dc_customer', 'dc_customer_pkey', migration => 'pk');
-- finish refuses when, during the window, something came to depend on it.
ALTER TABLE dc_order ADD CONSTRAINT dc_order_customer_fk FOREIGN KEY (customer_id)
  REFERENCES dc_customer (id);
SELECT zdm.finish('pk');
ALTER TABLE dc_order DROP CONSTRAINT dc_order_customer_fk;
SELECT zdm.finish('pk');
SELECT conname, contype FROM pg_constraint WHERE conrelid = 'dc_customer'::regclass ORDER BY 1;

-- rename_constraint: now, logged (under a migration when given); the index of
-- a UNIQUE constraint takes the new name too.
SELECT zdm.rename_constraint('dc_customer', 'dc_email_key', 'dc_customer_email_key');
SELECT conname, conindid::regclass FROM pg_constraint WHERE conrelid = 'dc_customer'::regclass;
SELECT zdm.begin_drop_constraint('dc_order', 'dc_order_pkey', migration => 'open');
SELECT zdm.rename_constraint('dc_customer', 'dc_customer_email_key', 'dc_mail_key', 'open');
SELECT zdm.abort('open');
SELECT migration, phase, statement FROM zdm.ddl_log WHERE phase = 'rename_constraint' ORDER BY id;

-- Errors: each leaves everything as it was.
SELECT zdm.begin_drop_constraint(NULL, 'x');
SELECT zdm.begin_drop_constraint('dc_customer', NULL);
SELECT zdm.begin_drop_constraint('dc_customer', 'nope');
SELECT zdm.begin_drop_constraint('dc_customer', 'dc_mail_key', migration => 'twice');
SELECT zdm.begin_drop_constraint('dc_customer', 'dc_mail_key', migration => 'twice');
SELECT zdm.rename_constraint('dc_customer', 'dc_mail_key', 'x');  -- under migration
SELECT zdm.abort('twice');
SELECT zdm.begin_add_check('dc_customer', 'dc_adult', 'age >= 18', migration => 'adding');
SELECT zdm.begin_drop_constraint('dc_customer', 'dc_adult');      -- being added
SELECT zdm.rename_constraint('dc_customer', 'dc_adult', 'dc_grown');
SELECT zdm.abort('adding');
ALTER TABLE dc_customer ADD CONSTRAINT dc_age_small CHECK (age < 200);
SELECT zdm.begin_alter_type('dc_customer', 'age', 'bigint', migration => 'alter');
SELECT zdm.begin_drop_constraint('dc_customer', 'dc_age_small');  -- rebuilt on the shadow column
SELECT zdm.abort('alter');
SELECT zdm.rename_constraint(NULL, 'a', 'b');
SELECT zdm.rename_constraint('dc_customer', NULL, 'b');
SELECT zdm.rename_constraint('dc_customer', 'dc_mail_key', NULL);
SELECT zdm.rename_constraint('dc_customer', 'nope', 'b');
SELECT zdm.rename_constraint('dc_customer', 'dc_mail_key', 'dc_age_small');
SELECT zdm.rename_constraint('dc_customer', 'dc_mail_key', 'dc_order');    -- a relation's name
SELECT zdm.rename_constraint('dc_customer', 'dc_mail_key', 'dc_mail_key');
SELECT zdm.rename_constraint('dc_customer', 'dc_mail_key', 'x', 'no_such_migration');
CREATE ROLE zdm_dc_other;
SET ROLE zdm_dc_other;
SELECT zdm.begin_drop_constraint('dc_customer', 'dc_mail_key');
SELECT zdm.rename_constraint('dc_customer', 'dc_mail_key', 'x');
RESET ROLE;
DROP ROLE zdm_dc_other;
SELECT conname FROM pg_constraint WHERE conrelid = 'dc_customer'::regclass ORDER BY 1;
SELECT count(*) FROM zdm.migrations WHERE state = 'active';
DROP TABLE dc_order, dc_customer;
