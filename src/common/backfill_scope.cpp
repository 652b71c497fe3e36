#include "common/backfill_scope.hpp"

extern "C" {
unsigned int zdm_forced_relid = 0;  // InvalidOid
const char* zdm_forced_migration = nullptr;
unsigned int zdm_forced_generation = 0;
ZdmJoinSyncQuiet zdm_join_sync_quiet = {0, 0};
}

void zdm_force_old_side_set(unsigned int relid, const char* migration) {
  zdm_forced_migration = migration;
  zdm_forced_relid = relid;
  zdm_forced_generation++;
}

void zdm_force_old_side_clear(void) {
  zdm_forced_relid = 0;
  zdm_forced_migration = nullptr;
}

ZdmJoinSyncQuiet zdm_join_sync_quiet_set(unsigned int relid, long long operation) {
  ZdmJoinSyncQuiet previous = zdm_join_sync_quiet;
  zdm_join_sync_quiet.relid = relid;
  zdm_join_sync_quiet.operation = operation;
  return previous;
}

void zdm_join_sync_quiet_restore(ZdmJoinSyncQuiet previous) { zdm_join_sync_quiet = previous; }
