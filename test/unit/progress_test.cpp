#include <gtest/gtest.h>

#include "core/progress.hpp"

using namespace zdm::core;

namespace {
constexpr int64_t kSec = 1000 * 1000;
}

TEST(Progress, RateIsMeasuredFromTheWalksStartDuringTheFirstMinute) {
  RateWindow w(0, 0);
  EXPECT_FALSE(w.per_second(0, 0));
  w.add(10 * kSec, 1000);
  EXPECT_DOUBLE_EQ(*w.per_second(10 * kSec, 1000), 100.0);
  EXPECT_EQ(w.anchor().at_us, 0);
}

TEST(Progress, RateCoversTheLastMinuteOnly) {
  RateWindow w(0, 0);
  // 1000 rows/s for two minutes, then 100 rows/s for a minute.
  int64_t rows = 0;
  for (int s = 1; s <= 120; ++s) w.add(s * kSec, rows += 1000);
  for (int s = 121; s <= 180; ++s) w.add(s * kSec, rows += 100);
  EXPECT_EQ(w.anchor().at_us, 120 * kSec);
  EXPECT_DOUBLE_EQ(*w.per_second(180 * kSec, rows), 100.0);
}

TEST(Progress, SamplesAreAtLeastASecondApart) {
  RateWindow w(0, 0);
  for (int i = 1; i < 1000; ++i) w.add(i * 1000, i);  // 999 batches within a second
  w.add(61 * kSec, 2000);
  // The anchor is still the start: nothing else was sampled a minute ago.
  EXPECT_EQ(w.anchor().at_us, 0);
}

TEST(Progress, EtaAndFormats) {
  EXPECT_FALSE(eta_seconds(100, 0));
  EXPECT_DOUBLE_EQ(*eta_seconds(1000, 100), 10.0);
  EXPECT_DOUBLE_EQ(*eta_seconds(-5, 100), 0.0);  // past the estimate: due now
  EXPECT_EQ(format_eta(44.6), "45 s");
  EXPECT_EQ(format_eta(200), "3 min 20 s");
  EXPECT_EQ(format_eta(7500), "2 h 05 min");
  EXPECT_EQ(format_eta(3 * 86400 + 4 * 3600), "3 d 4 h");
  EXPECT_EQ(format_rate(12345.4), "12345 rows/s");
  EXPECT_EQ(format_rate(0.44), "0.4 rows/s");
}
