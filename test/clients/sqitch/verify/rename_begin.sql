-- Verify zdm_client:rename_begin on pg: the new app's column is there.
SELECT id, surname FROM person WHERE false;
