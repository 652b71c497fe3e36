// The backfill's arguments and its between-batch wait, shared by CALL
// zdm.backfill and the background worker of zdm.backfill_start (both take
// migration, batch_size, pause, max_lag, max_rate in that order).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/throttle.hpp"

#include "common/postgres.hpp"

namespace zdm::pg {

struct BackfillArgs {
  std::optional<std::string> migration;
  int batch_size = 5000;
  long pause_ms = 0;
  // NULL: 1 s while pg_stat_replication has rows, off when it has none.
  std::optional<long> max_lag_ms;
  long max_rate = 0;  // rows/s; 0: unbounded (the SQL NULL)
  bool atomic = true;
};

// Reads and checks arguments 0-4 (migration, batch_size, pause, max_lag,
// max_rate); a NULL, negative or zero value where it makes no sense is an
// ERROR naming the argument. `atomic` comes from the CALL's context.
BackfillArgs read_backfill_args(FunctionCallInfo fcinfo);

// Milliseconds of an interval (a month counts 30 days), for the arguments.
double interval_ms(const Interval* interval);

// The physical standbys of pg_stat_replication (a walsender on a logical slot
// is not one) with their replay_lag and WAL distance. Positions read NULL for
// a role without pg_read_all_stats.
std::vector<zdm::core::StandbyLag> physical_standby_lags();

// Before a step takes ACCESS EXCLUSIVE (begin, finish, abort): a WARNING
// naming the standby whose replay lags more than zdm.standby_lag_warning, with
// a HINT on max_standby_streaming_delay and hot_standby_feedback. It never
// waits and never fails the step.
void warn_lagging_standbys(const std::string& migration, const std::string& phase);

// Sleeps `ms` on the latch, interruptible (cancel, terminate, postmaster death).
void wait_ms(long ms);

// The wait between two batches of one operation's walk: `pause`, then as long
// as max_rate requires (counted from the walk's start, so the batches' own
// time is accounted for), then while a standby lags over max_lag (at most
// core::lag_wait_cap_ms, then a WARNING and the next batch). While it waits
// for max_rate or max_lag, zdm.operations.throttle holds the reason, committed
// through `commit` so other sessions see it in zdm.status(); with no `commit`
// (a CALL inside a transaction block) it waits without showing it. The walk
// clears the column in the transaction of its next batch.
class Throttle {
 public:
  Throttle(const BackfillArgs& args, long op_id, std::function<void()> commit);
  void between_batches(long rows_in_batch);

 private:
  void show(const std::string& reason);
  void wait_for_standbys();

  const BackfillArgs& args_;
  long op_id_;
  std::function<void()> commit_;
  TimestampTz started_;
  TimestampTz last_standby_check_ = 0;  // 0: never checked yet
  long rows_ = 0;
  std::string shown_;
};

}  // namespace zdm::pg
