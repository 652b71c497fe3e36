-- Revert zdm_client:person from pg
-- The zdm extension stays: other tables may have migrations recorded in it.
BEGIN;
DROP TABLE person;
COMMIT;
