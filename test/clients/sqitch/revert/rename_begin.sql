-- Revert zdm_client:rename_begin from pg
-- Leaves person exactly as before: columns, constraints, triggers, data.
SELECT zdm.abort();
