-- Each file starts from a fresh catalog.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS zdm CASCADE;
CREATE EXTENSION zdm;
RESET client_min_messages;
-- A backfill under REPEATABLE READ or SERIALIZABLE is refused up front: its
-- retries (a batch that loses a deadlock or a serialization conflict) would
-- read the same snapshot and could never succeed.
CREATE TABLE iso (id int PRIMARY KEY, v text);
INSERT INTO iso SELECT i, 'v' || i FROM generate_series(1, 10) i;
SELECT zdm.begin_rename('iso', 'v', 'w');
BEGIN ISOLATION LEVEL REPEATABLE READ;
CALL zdm.backfill();
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
CALL zdm.backfill();
ROLLBACK;
-- Outside a transaction block, the CALL's transactions take
-- default_transaction_isolation: the hint names it.
SET default_transaction_isolation = 'repeatable read';
CALL zdm.backfill();
RESET default_transaction_isolation;
SELECT backfill, rows_done FROM zdm.status();
-- READ COMMITTED, in a block or not, runs.
BEGIN ISOLATION LEVEL READ COMMITTED;
SET LOCAL client_min_messages = warning;
CALL zdm.backfill(batch_size => 4);
COMMIT;
SELECT backfill, rows_done FROM zdm.status();
SELECT zdm.finish();
DROP TABLE iso;
