// zdm.backfill_start / zdm.backfill_stop: the backfill in a dynamic background
// worker that runs CALL zdm.backfill(...) (the one walk) on its own.
#pragma once

#include <string>

#include "common/postgres.hpp"

extern "C" {
// Set by SIGUSR2 (zdm.backfill_stop, finish, abort) in the worker; the walk
// reads it at each batch boundary and stops there.
extern volatile sig_atomic_t zdm_backfill_stop_requested;
PGDLLEXPORT void zdm_backfill_worker_main(Datum main_arg);
}

namespace zdm::pg {

// Stops the migration's background backfill, if one runs: asks it to stop at
// its next batch boundary, waits a bounded time, then terminates it (its
// batch rolls back; nothing committed is lost). Returns whether one ran.
bool stop_backfill_worker(const std::string& migration);

}  // namespace zdm::pg
