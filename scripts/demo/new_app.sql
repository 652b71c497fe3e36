-- The "new app" (v2): it only knows the column surname, which supersedes last_name.
-- It is deployed right after the migration begins. Same pattern as the old app:
-- update a random existing person and read it back, insert a person and read it back.
-- The new app never writes last_name, although last_name is NOT NULL: zdm's trigger
-- fills it from surname.
\set id random(1, :maxid)
\set r random(1, 1000000000)
BEGIN;
UPDATE person SET surname = 'v2-' || :r WHERE id = :id;
SELECT CASE WHEN surname = 'v2-' || :r THEN 'ok'
            ELSE ('new app: read-your-write violated, got surname=' || coalesce(surname, 'NULL'))::int::text
       END AS check_update
  FROM person WHERE id = :id;
END;
INSERT INTO person (first_name, surname) VALUES ('new-app', 'v2-' || :r) RETURNING id \gset ins_
SELECT CASE WHEN surname = 'v2-' || :r THEN 'ok'
            ELSE ('new app: read-your-write violated, got surname=' || coalesce(surname, 'NULL'))::int::text
       END AS check_insert
  FROM person WHERE id = :ins_id;
