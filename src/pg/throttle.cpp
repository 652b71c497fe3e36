#include "pg/throttle.hpp"

#include <cmath>

#include "common/guc.hpp"
#include "core/error.hpp"
#include "core/throttle.hpp"
#include "pg/boundary.hpp"
#include "pg/registry.hpp"
#include "pg/spi.hpp"
#include "pg/worker.hpp"

namespace zdm::pg {

using zdm::core::Error;
using zdm::core::ErrorCode;

double interval_ms(const Interval* interval) {
  return (interval->time / 1000.0) + (interval->day * 86400000.0) +
         (interval->month * 30.0 * 86400000.0);
}

BackfillArgs read_backfill_args(FunctionCallInfo fcinfo) {
  BackfillArgs a;
  if (!PG_ARGISNULL(0)) {
    text* t = pg_guard([&] { return PG_GETARG_TEXT_PP(0); });
    a.migration = std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  }
  if (PG_ARGISNULL(1)) throw Error(ErrorCode::NullValue, "batch_size must not be NULL");
  a.batch_size = PG_GETARG_INT32(1);
  if (a.batch_size < 1)
    throw Error(ErrorCode::InvalidParameter,
                "batch_size must be at least 1, not " + std::to_string(a.batch_size));
  if (PG_ARGISNULL(2)) throw Error(ErrorCode::NullValue, "pause must not be NULL");
  double pause = interval_ms(PG_GETARG_INTERVAL_P(2));
  if (pause < 0) throw Error(ErrorCode::InvalidParameter, "pause must not be negative");
  a.pause_ms = static_cast<long>(pause);
  if (PG_NARGS() > 3 && !PG_ARGISNULL(3)) {
    double lag = interval_ms(PG_GETARG_INTERVAL_P(3));
    if (lag < 1)
      throw Error(ErrorCode::InvalidParameter,
                  "max_lag must be at least 1 millisecond, not " + zdm::core::format_ms(lag),
                  "It is the replay lag of a standby past which the backfill waits between "
                  "batches.",
                  "Pass a positive interval, e.g. max_lag => '1s', or NULL for the default (1 s "
                  "while standbys are connected, off without).");
    a.max_lag_ms = static_cast<long>(std::min(lag, 7.0 * 86400000.0));
  }
  if (PG_NARGS() > 4 && !PG_ARGISNULL(4)) {
    a.max_rate = PG_GETARG_INT32(4);
    if (a.max_rate < 1)
      throw Error(ErrorCode::InvalidParameter,
                  "max_rate must be at least 1 row per second, not " + std::to_string(a.max_rate),
                  {}, "Pass a positive number of rows per second, or NULL for no bound.");
  }
  a.atomic = true;
  if (fcinfo->context != nullptr && IsA(fcinfo->context, CallContext))
    a.atomic = reinterpret_cast<CallContext*>(fcinfo->context)->atomic;
  return a;
}

// Sleeps `ms`, whatever sets the latch meanwhile (a latch left set by an
// earlier signal would otherwise end the pause at once); only a stop request
// of zdm.backfill_stop, finish or abort ends it early.
void wait_ms(long ms) {
  if (ms <= 0) return;
  pg_guard([&] {
    const TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
    for (;;) {
      const long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);
      if (left <= 0 || zdm_backfill_stop_requested) break;
      (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
                      PG_WAIT_EXTENSION);
      ResetLatch(MyLatch);
      CHECK_FOR_INTERRUPTS();
    }
  });
}

Throttle::Throttle(const BackfillArgs& args, long op_id, std::function<void()> commit)
    : args_(args), op_id_(op_id), commit_(std::move(commit)), started_(GetCurrentTimestamp()) {}

void Throttle::show(const std::string& reason) {
  if (!commit_ || reason == shown_) return;
  record_throttle(op_id_, reason);
  commit_();
  shown_ = reason;
}

namespace {
long ms_since(TimestampTz t) { return static_cast<long>((GetCurrentTimestamp() - t) / 1000); }
}  // namespace

void Throttle::between_batches(long rows_in_batch) {
  shown_.clear();  // the walk's batch cleared the column
  wait_ms(args_.pause_ms);
  rows_ += rows_in_batch;
  long sleep = zdm::core::rate_sleep_ms(rows_, ms_since(started_), args_.max_rate);
  if (sleep > 0) {
    show(zdm::core::rate_reason(args_.max_rate));
    wait_ms(sleep);
  }
  // Reading pg_stat_replication costs about as much as planning a batch:
  // it is read at most every kStandbyCheckIntervalMs, not after every batch.
  if (last_standby_check_ == 0 ||
      ms_since(last_standby_check_) >= zdm::core::kStandbyCheckIntervalMs) {
    wait_for_standbys();
    last_standby_check_ = GetCurrentTimestamp();
  }
}

std::vector<zdm::core::StandbyLag> physical_standby_lags() {
  std::vector<Row> rows = query(
      "SELECT COALESCE(NULLIF(r.application_name, ''), r.client_addr::pg_catalog.text, "
      "r.pid::pg_catalog.text), "
      "pg_catalog.date_part('epoch', r.replay_lag)::pg_catalog.text, "
      "pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), "
      "r.replay_lsn)::pg_catalog.int8 "
      "FROM pg_catalog.pg_stat_replication r "
      // Standbys only: a logical consumer (a subscription, a CDC tool) is
      // not one, and replays no lock.
      "WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots s "
      "                  WHERE s.active_pid = r.pid AND s.slot_type = 'logical') "
      // a cascading standby has no current WAL position of its own to compare
      "AND NOT pg_catalog.pg_is_in_recovery()");
  std::vector<zdm::core::StandbyLag> standbys;
  for (const Row& r : rows) {
    zdm::core::StandbyLag s;
    s.name = r[0].value_or("?");
    if (r[1]) s.replay_lag_s = std::stod(*r[1]);
    if (r[2]) s.bytes_behind = std::stol(*r[2]);
    standbys.push_back(s);
  }
  return standbys;
}

void warn_lagging_standbys(const std::string& migration, const std::string& phase) {
  if (zdm_standby_lag_warning_ms <= 0) return;
  std::optional<std::string> reason = zdm::core::lag_reason(
      physical_standby_lags(), zdm_standby_lag_warning_ms, "zdm.standby_lag_warning");
  if (!reason) return;
  const std::string message =
      "zdm: the " + phase +
      (migration.empty() ? std::string() : " of migration \"" + migration + "\"") +
      " takes an ACCESS EXCLUSIVE lock while a standby lags: " + *reason;
  pg_guard([&] {
    ereport(WARNING,
            (errmsg("%s", message.c_str()),
             errdetail("The standby replays the lock when it reaches it: its queries on the table "
                       "then wait behind the replay, and a query holding the table there delays "
                       "the replay up to max_standby_streaming_delay (then it is cancelled)."),
             errhint("Check the standby's replay (pg_stat_replication). On standbys that serve "
                     "the app, keep max_standby_streaming_delay low and hot_standby_feedback on; "
                     "or run this step once the standby has caught up.")));
  });
}

void Throttle::wait_for_standbys() {
  const TimestampTz since = GetCurrentTimestamp();
  TimestampTz last_shown = 0;
  bool noticed = false;
  for (;;) {
    if (zdm_backfill_stop_requested) return;  // the walk stops at this boundary
    std::vector<zdm::core::StandbyLag> standbys = physical_standby_lags();
    if (standbys.empty()) return;  // no standby: max_lag has nothing to watch
    const long max_lag = args_.max_lag_ms.value_or(zdm::core::kDefaultMaxLagMs);
    std::optional<std::string> reason = zdm::core::lag_reason(standbys, max_lag);
    if (!reason) return;
    const long cap = zdm::core::lag_wait_cap_ms(max_lag);
    const long waited = ms_since(since);
    if (waited >= cap) {
      const std::string message = "zdm: the backfill waited " + zdm::core::format_ms(waited) +
                                  " for standbys and goes on: " + *reason;
      pg_guard([&] {
        ereport(WARNING, (errmsg("%s", message.c_str()),
                          errdetail("It waits at most 10 x max_lag (at least 1 minute) between two "
                                    "batches, so a stopped standby cannot stall it."),
                          errhint("Check the standby's replay (pg_stat_replication), or CALL "
                                  "zdm.backfill() with a larger max_lag.")));
      });
      return;
    }
    if (!noticed) {
      pg_guard([&] { ereport(NOTICE, (errmsg("zdm: backfill waits: %s", reason->c_str()))); });
      noticed = true;
    }
    // The reason carries the current lag: refreshed at most once a second.
    if (ms_since(last_shown) >= 1000) {
      show(*reason);
      last_shown = GetCurrentTimestamp();
    }
    wait_ms(std::min(100L, cap - waited));
  }
}

}  // namespace zdm::pg
