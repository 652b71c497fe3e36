// The dual-write trigger: one BEFORE INSERT OR UPDATE row trigger per table,
// serving every open operation on it (the backfill's writes are scoped by
// common/backfill_scope.hpp). C-style: no exceptions, no containers.
#pragma once

extern "C" {
// Registers the cache callbacks that invalidate the per-relation entries: relcache (the
// table or its trigger changed) and pg_proc (a function an up or down
// expression calls, perhaps inlined, was replaced).
void zdm_dual_write_init(void);

// The number of tables whose plan this backend caches.
int zdm_dual_write_cache_entries(void);
}
