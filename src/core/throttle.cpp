#include "core/throttle.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace zdm::core {

long lag_byte_bound(long max_lag_ms) {
  return std::max(1L, static_cast<long>(static_cast<double>(max_lag_ms) *
                                        static_cast<double>(kLagBytesPerSecond) / 1000.0));
}

long lag_wait_cap_ms(long max_lag_ms) {
  constexpr long kLongest = 7L * 24 * 3600 * 1000;  // a week: far past any sensible max_lag
  return std::max(kMinLagWaitCapMs, std::min(max_lag_ms, kLongest) * 10);
}

std::string format_ms(double ms) {
  char buf[64];
  if (ms < 1000)
    std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  else if (std::fmod(ms, 1000) == 0)
    std::snprintf(buf, sizeof buf, "%.0f s", ms / 1000);
  else
    std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
  return buf;
}

namespace {
std::string format_bytes(long bytes) {
  char buf[64];
  if (bytes >= 1024L * 1024)
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024));
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(bytes) / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%ld bytes", bytes);
  return buf;
}
}  // namespace

std::optional<std::string> lag_reason(const std::vector<StandbyLag>& standbys, long max_lag_ms,
                                      const std::string& setting) {
  const long byte_bound = lag_byte_bound(max_lag_ms);
  // The worst offender, by how many times over its bound it is.
  double worst = 1.0;
  std::optional<std::string> reason;
  for (const StandbyLag& s : standbys) {
    if (s.replay_lag_s) {
      double ratio = *s.replay_lag_s * 1000.0 / static_cast<double>(max_lag_ms);
      if (ratio > worst) {
        worst = ratio;
        reason = "replica lag " + format_ms(*s.replay_lag_s * 1000.0) + " on " + s.name + " > " +
                 format_ms(static_cast<double>(max_lag_ms));
      }
    }
    if (s.bytes_behind) {
      double ratio = static_cast<double>(*s.bytes_behind) / static_cast<double>(byte_bound);
      if (ratio > worst) {
        worst = ratio;
        reason = "replica lag " + format_bytes(*s.bytes_behind) + " of WAL on " + s.name + " > " +
                 format_bytes(byte_bound) + " (" + setting + " " +
                 format_ms(static_cast<double>(max_lag_ms)) + " at 16 MB/s)";
      }
    }
  }
  return reason;
}

long rate_sleep_ms(long rows, long elapsed_ms, long max_rate) {
  if (max_rate <= 0 || rows <= 0) return 0;
  const double due_ms = static_cast<double>(rows) * 1000.0 / static_cast<double>(max_rate);
  const double sleep = std::ceil(due_ms - static_cast<double>(elapsed_ms));
  return sleep > 0 ? static_cast<long>(sleep) : 0;
}

std::string rate_reason(long max_rate) {
  return "max_rate " + std::to_string(max_rate) + " rows/s";
}

}  // namespace zdm::core
