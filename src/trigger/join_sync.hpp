// The join-sync trigger of join_to_column and column_to_join: AFTER row
// triggers on the join table and on the target carry each write to the other
// shape through SPI plans prepared once per backend and kept. C-style: no
// exceptions, no containers.
#pragma once

extern "C" {
// Registers the relcache callback that invalidates cached plans.
void zdm_join_sync_init(void);

// Set around zdm's own writes to either shape (the trigger's, the backfill's)
// and reset in PG_FINALLY, so that a write never echoes back: while it is set
// the join-sync trigger does nothing.
extern bool zdm_join_sync_off;
}
