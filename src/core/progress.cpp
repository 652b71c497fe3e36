#include "core/progress.hpp"

#include <cmath>
#include <cstdio>

namespace zdm::core {

namespace {
constexpr int64_t kSampleEveryUs = 1000LL * 1000;
}

RateWindow::RateWindow(int64_t now_us, int64_t rows) { samples_.push_back({now_us, rows}); }

void RateWindow::add(int64_t now_us, int64_t rows) {
  if (now_us - samples_.back().at_us >= kSampleEveryUs) samples_.push_back({now_us, rows});
  // Keep one sample at least a minute old (the anchor), and what is newer.
  while (samples_.size() > 1 && now_us - samples_[1].at_us >= kRateWindowUs) samples_.pop_front();
}

std::optional<double> RateWindow::per_second(int64_t now_us, int64_t rows) const {
  const int64_t elapsed = now_us - anchor().at_us;
  if (elapsed <= 0) return std::nullopt;
  return static_cast<double>(rows - anchor().rows) * 1e6 / static_cast<double>(elapsed);
}

std::optional<double> eta_seconds(int64_t remaining, double per_second) {
  if (per_second <= 0) return std::nullopt;
  return remaining <= 0 ? 0.0 : static_cast<double>(remaining) / per_second;
}

std::string format_eta(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[64];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%ld s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ld min %02ld s", s / 60, s % 60);
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%ld h %02ld min", s / 3600, s % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%ld d %ld h", s / 86400, s % 86400 / 3600);
  return buf;
}

std::string format_rate(double per_second) {
  char buf[64];
  if (per_second >= 10)
    std::snprintf(buf, sizeof buf, "%.0f rows/s", per_second);
  else
    std::snprintf(buf, sizeof buf, "%.1f rows/s", per_second);
  return buf;
}

}  // namespace zdm::core
