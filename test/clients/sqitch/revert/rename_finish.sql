-- Revert zdm_client:rename_finish from pg
DO $$
BEGIN
    RAISE EXCEPTION 'zdm.finish() cannot be undone: the old column name is gone'
        USING HINT = 'Add a new change that renames surname back with zdm.begin_rename().';
END
$$;
