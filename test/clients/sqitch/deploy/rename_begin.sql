-- Deploy zdm_client:rename_begin to pg
-- requires: person
-- Adds surname beside last_name, with zdm's dual-write trigger, in one short step.
-- Deploy the new app version (which writes surname) after this change.
-- No migration name: zdm generates one, and the later scripts act on the only open
-- migration (a fixed name could not be deployed again after a revert, since zdm
-- keeps aborted migrations on record).
SELECT zdm.begin_rename('person', 'last_name', 'surname');
-- first_name becomes NOT NULL in the same migration: CHECK (first_name IS NOT
-- NULL) NOT VALID now (both apps must fill it), VALIDATE and SET NOT NULL at
-- finish. It joins the migration begin_rename just opened.
SELECT zdm.begin_set_not_null('person', 'first_name',
                              migration => (SELECT name FROM zdm.migrations WHERE state = 'active'));
