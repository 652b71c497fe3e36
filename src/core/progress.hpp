// Backfill progress a person can read (#10 item 4): rows/s over the last
// minute and an ETA, as pure arithmetic (src/pg/backfill.cpp samples the walk
// and prints the NOTICE; zdm.status() computes the same from the anchor the
// walk commits with each batch).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace zdm::core {

// The window the rate is measured over.
constexpr int64_t kRateWindowUs = 60LL * 1000 * 1000;
// The NOTICEs show the rate and the ETA from this far into a walk on: a rate
// over a few batches of milliseconds says nothing.
constexpr int64_t kRateShownAfterUs = 10LL * 1000 * 1000;

// Samples of (time, rows visited) at least a second apart, kept for a minute.
// The rate is measured from the anchor: the newest sample at least a minute
// old, else the first one (the walk's start in this session).
class RateWindow {
 public:
  struct Sample {
    int64_t at_us;
    int64_t rows;
  };
  RateWindow(int64_t now_us, int64_t rows);
  void add(int64_t now_us, int64_t rows);
  const Sample& anchor() const { return samples_.front(); }
  // Rows per second from the anchor to (now_us, rows); nothing before any time passed.
  std::optional<double> per_second(int64_t now_us, int64_t rows) const;

 private:
  std::deque<Sample> samples_;
};

// Seconds left for `remaining` rows at `per_second`; nothing when the rate is 0.
std::optional<double> eta_seconds(int64_t remaining, double per_second);

// "45 s", "3 min 20 s", "2 h 05 min", "3 d 4 h".
std::string format_eta(double seconds);

// "12345 rows/s", "0.4 rows/s".
std::string format_rate(double per_second);

}  // namespace zdm::core
