#include "common/backfill_scope.hpp"

extern "C" {
unsigned int zdm_forced_relid = 0;  // InvalidOid
const char* zdm_forced_migration = nullptr;
unsigned int zdm_forced_generation = 0;
bool zdm_join_sync_off = false;
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
