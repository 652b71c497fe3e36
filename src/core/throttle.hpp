// The backfill's between-batch throttle, as pure decisions (src/pg/throttle.cpp
// reads the server and sleeps). Shared by CALL zdm.backfill and the background
// worker of zdm.backfill_start: both walk with the same arguments.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace zdm::core {

// max_lag when the caller passes NULL and standbys are connected: 1 second.
constexpr long kDefaultMaxLagMs = 1000;
// A standby's WAL distance is compared with a byte bound derived from max_lag:
// 16 MB (one default WAL segment) per second of allowed lag, i.e. a standby
// that replays at least 16 MB/s catches up within max_lag.
constexpr long kLagBytesPerSecond = 16L * 1024 * 1024;
// The longest the backfill waits for lagging standbys between two batches:
// 10 x max_lag, at least one minute. Past it, it runs the next batch anyway
// with a WARNING (a standby that is down or stopped must not stall it forever).
constexpr long kMinLagWaitCapMs = 60L * 1000;
// How often, at most, the walk reads the standbys' lag between batches (a tenth
// of the default max_lag): reading pg_stat_replication after every batch cost
// a fifth of a 200-row walk.
constexpr long kStandbyCheckIntervalMs = 100;

long lag_byte_bound(long max_lag_ms);
long lag_wait_cap_ms(long max_lag_ms);

// One row of pg_stat_replication as the throttle sees it.
struct StandbyLag {
  std::string name;                    // application_name, else client address, else pid
  std::optional<double> replay_lag_s;  // replay_lag (NULL when idle or unknown)
  std::optional<long> bytes_behind;    // current WAL lsn - replay_lsn
};

// The reason to wait, e.g. "replica lag 3.2 s on standby1 > 1 s", or nothing
// when every standby is within max_lag (by time and by bytes). The standby
// furthest behind is named; `setting` names the bound in the WAL-distance
// reason ("(max_lag 1 s at 16 MB/s)").
std::optional<std::string> lag_reason(const std::vector<StandbyLag>& standbys, long max_lag_ms,
                                      const std::string& setting = "max_lag");

// How long to sleep before the next batch so that `rows` visited in
// `elapsed_ms` since the walk started stay at or below max_rate rows/s.
long rate_sleep_ms(long rows, long elapsed_ms, long max_rate);
std::string rate_reason(long max_rate);

// "1 s", "250 ms", "1.5 s" for a duration in milliseconds.
std::string format_ms(double ms);

}  // namespace zdm::core
