// What a backfill batch writes, as the triggers must know it: src/pg/backfill.cpp
// sets the scope around each batch statement, src/trigger reads it. This header
// is all the two share about it, so that neither includes the other.
#pragma once

extern "C" {
// The backfill's writes to `relid` are old-side writes for the operations of
// `migration`, whatever zdm.writer says; every other table, and every other
// migration on this one, follows the ordinary rules. Set around one batch
// statement and cleared by whoever sets it however that statement ends.
// `migration` must stay valid until zdm_force_old_side_clear().
void zdm_force_old_side_set(unsigned int relid, const char* migration);
void zdm_force_old_side_clear(void);

// The scope as the dual-write trigger reads it. zdm_forced_generation changes
// with every set, so that a plan redoes its lookup of the forced migration.
extern unsigned int zdm_forced_relid;
extern const char* zdm_forced_migration;
extern unsigned int zdm_forced_generation;

// Set around zdm's own writes to either shape of a join operation (the
// join-sync trigger's, the backfill's), and reset however the write ends, so
// that a write never echoes back: while it is set the join-sync trigger does
// nothing.
extern bool zdm_join_sync_off;
}
