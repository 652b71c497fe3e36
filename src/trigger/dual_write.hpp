// The dual-write trigger: one BEFORE INSERT OR UPDATE row trigger per table,
// serving every open operation on it. C-style: no exceptions, no containers.
#pragma once

extern "C" {
// Registers the relcache callback that invalidates cached plans.
void zdm_dual_write_init(void);

// Set around zdm's own writes (backfill): they are old-side writes whatever
// zdm.writer says. Reset in PG_FINALLY by whoever sets it.
extern bool zdm_force_old_side;
}
