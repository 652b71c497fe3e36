// The dual-write trigger: one BEFORE INSERT OR UPDATE row trigger per table,
// serving every open operation on it. C-style: no exceptions, no containers.
#pragma once

extern "C" {
// Registers the cache callbacks that invalidate cached plans: relcache (the
// table or its trigger changed) and pg_proc (a function an up or down
// expression calls, perhaps inlined, was replaced).
void zdm_dual_write_init(void);

// The backfill's writes to `relid` are old-side writes for the operations of
// `migration`, whatever zdm.writer says; every other table, and every other
// migration on this one, follows the ordinary rules. Set around one batch
// statement and cleared by whoever sets it however that statement ends.
// `migration` must stay valid until zdm_force_old_side_clear().
void zdm_force_old_side_set(unsigned int relid, const char* migration);
void zdm_force_old_side_clear(void);
}
