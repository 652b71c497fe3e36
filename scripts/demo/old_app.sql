-- The "old app" (v1): it only knows the column last_name.
-- Each transaction updates a random existing person and reads it back, then inserts
-- a new person and reads that back. A read that does not return what this app just
-- wrote raises an error, which pgbench reports and counts (and the demo fails).
\set id random(1, :maxid)
\set r random(1, 1000000000)
BEGIN;
UPDATE person SET last_name = 'v1-' || :r WHERE id = :id;
SELECT CASE WHEN last_name = 'v1-' || :r THEN 'ok'
            ELSE ('old app: read-your-write violated, got last_name=' || coalesce(last_name, 'NULL'))::int::text
       END AS check_update
  FROM person WHERE id = :id;
END;
INSERT INTO person (first_name, last_name) VALUES ('old-app', 'v1-' || :r) RETURNING id \gset ins_
SELECT CASE WHEN last_name = 'v1-' || :r THEN 'ok'
            ELSE ('old app: read-your-write violated, got last_name=' || coalesce(last_name, 'NULL'))::int::text
       END AS check_insert
  FROM person WHERE id = :ins_id;
