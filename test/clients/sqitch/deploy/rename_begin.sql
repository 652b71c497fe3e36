-- Deploy zdm_client:rename_begin to pg
-- requires: person
-- Adds surname beside last_name, with zdm's dual-write trigger, in one short step.
-- Deploy the new app version (which writes surname) after this change.
-- No migration name: zdm generates one, and the later scripts act on the only open
-- migration (a fixed name could not be deployed again after a revert, since zdm
-- keeps aborted migrations on record).
SELECT zdm.begin_rename('person', 'last_name', 'surname');
