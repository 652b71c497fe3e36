-- Verify zdm_client:person on pg (only what later changes keep)
SELECT id, first_name FROM person WHERE false;
