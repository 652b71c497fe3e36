-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- During the window the new column carries the old column's constraints:
-- NOT NULL as CHECK ... NOT VALID, and every CHECK that reads the old column.
-- They bind new writes at once and never fail on rows written before begin.
CREATE TABLE product (
    id int PRIMARY KEY,
    sku text NOT NULL CHECK (sku ~ '^[A-Z]+-[0-9]+$'),
    qty int CHECK (qty >= 0),
    CONSTRAINT sku_not_qty CHECK (sku <> qty::text)
);
INSERT INTO product VALUES (1, 'AB-1', 5), (2, 'CD-2', 0);
SELECT zdm.begin_rename('product', 'sku', 'code');
SELECT conname, pg_get_constraintdef(oid) AS definition, convalidated
FROM pg_constraint WHERE conrelid = 'product'::regclass AND contype = 'c' ORDER BY conname;

-- The new app must respect the same rules.
INSERT INTO product (id, code, qty) VALUES (3, 'bad sku', 1);
INSERT INTO product (id, qty) VALUES (4, 1);               -- old side: NOT NULL on sku
INSERT INTO product (id, code, qty) VALUES (5, 'EF-5', 1);  -- fine
UPDATE product SET code = 'nope' WHERE id = 1;
SELECT id, sku, code, qty FROM product ORDER BY id;

SELECT zdm.abort();
SELECT conname FROM pg_constraint WHERE conrelid = 'product'::regclass ORDER BY conname;
DROP TABLE product;

-- A schema and names that need quoting everywhere.
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Order Lines" ("Line Id" int PRIMARY KEY, "Qty;" int NOT NULL CHECK ("Qty;" > 0));
INSERT INTO "My Schema"."Order Lines" VALUES (1, 2);
SELECT zdm.begin_rename('"My Schema"."Order Lines"', 'Qty;', 'Quantity "x"');
INSERT INTO "My Schema"."Order Lines" ("Line Id", "Quantity ""x""") VALUES (2, 3);
CALL zdm.backfill();
SELECT zdm.finish();
SELECT * FROM "My Schema"."Order Lines" ORDER BY 1;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = '"My Schema"."Order Lines"'::regclass ORDER BY conname;
DROP SCHEMA "My Schema" CASCADE;
