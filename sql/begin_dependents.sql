-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- alter_type refuses at begin, not at finish after the whole backfill, a
-- column that other objects read: finish drops the old column. Each object is
-- named, with what to do; nothing changes.
CREATE TABLE price (id int PRIMARY KEY, amount int, label text,
                    doubled int GENERATED ALWAYS AS (amount * 2) STORED);
INSERT INTO price (id, amount, label) VALUES (1, 10, 'a');
CREATE VIEW price_view AS SELECT id, amount FROM price;
SELECT zdm.begin_alter_type('price', 'amount', 'bigint');
DROP VIEW price_view;
CREATE MATERIALIZED VIEW price_mv AS SELECT id, amount FROM price;
CREATE TABLE price_log (id int, amount int);
CREATE RULE price_log_rule AS ON UPDATE TO price
  DO ALSO INSERT INTO price_log VALUES (NEW.id, NEW.amount);
ALTER TABLE price ENABLE ROW LEVEL SECURITY;
CREATE POLICY price_positive ON price USING (amount > 0);
CREATE FUNCTION price_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER price_amount BEFORE UPDATE OF amount ON price
  FOR EACH ROW EXECUTE FUNCTION price_noop();
CREATE STATISTICS price_stats ON id, amount FROM price;
SELECT zdm.begin_alter_type('price', 'amount', 'bigint');
-- Objects on other columns do not matter.
SELECT zdm.begin_alter_type('price', 'label', 'varchar(10)', migration => 'label');
SELECT zdm.abort('label');
-- Only the generated column is left: still refused.
DROP MATERIALIZED VIEW price_mv;
DROP RULE price_log_rule ON price;
DROP POLICY price_positive ON price;
DROP TRIGGER price_amount ON price;
DROP STATISTICS price_stats;
SELECT zdm.begin_alter_type('price', 'amount', 'bigint');
\d price
SELECT count(*) AS migrations FROM zdm.migrations WHERE state = 'active';
ALTER TABLE price DROP COLUMN doubled;
SELECT zdm.begin_alter_type('price', 'amount', 'bigint', migration => 'widen');
SELECT zdm.abort('widen');
DROP TABLE price, price_log;
DROP FUNCTION price_noop();
