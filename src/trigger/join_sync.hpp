// The join-sync trigger of join_to_column and column_to_join: AFTER row
// triggers on the join table and on the target carry each write to the other
// shape through statements prepared once per backend and kept. C-style: no
// exceptions, no containers.
#pragma once

extern "C" {
// Registers the relcache callback that invalidates the cached entries.
void zdm_join_sync_init(void);

// The number of triggers whose plan this backend caches.
int zdm_join_sync_cache_entries(void);
}
