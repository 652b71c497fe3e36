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
// with every set, so that a cache entry redoes its lookup of the forced migration.
extern unsigned int zdm_forced_relid;
extern const char* zdm_forced_migration;
extern unsigned int zdm_forced_generation;

// zdm's own write, for join operation `operation`, to `relid`, one shape of
// that operation (the join-sync trigger's statement, the backfill's copy):
// while it runs, that operation's join-sync triggers on that table do nothing,
// so that the write never echoes back. Every other operation's triggers, and
// this one's on other tables, sync as usual what the write sets off (a user
// trigger, a foreign-key cascade). The set returns the scope it replaces, for
// the restore however the write ends.
struct ZdmJoinSyncQuiet {
  unsigned int relid;  // 0: none
  long long operation;
};
ZdmJoinSyncQuiet zdm_join_sync_quiet_set(unsigned int relid, long long operation);
void zdm_join_sync_quiet_restore(ZdmJoinSyncQuiet previous);
extern ZdmJoinSyncQuiet zdm_join_sync_quiet;
}
