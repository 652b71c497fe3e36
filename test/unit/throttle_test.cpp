#include <gtest/gtest.h>

#include "core/throttle.hpp"

using namespace zdm::core;

TEST(Throttle, RateSleepAccountsForTheTimeBatchesTook) {
  EXPECT_EQ(rate_sleep_ms(100, 0, 100), 1000);   // 100 rows at 100/s: due after 1 s
  EXPECT_EQ(rate_sleep_ms(100, 400, 100), 600);  // the batch already took 0.4 s
  EXPECT_EQ(rate_sleep_ms(100, 1500, 100), 0);   // slower than the bound: no sleep
  EXPECT_EQ(rate_sleep_ms(0, 0, 100), 0);
  EXPECT_EQ(rate_sleep_ms(5000, 10, 0), 0);  // 0: unbounded
}

TEST(Throttle, LagBoundsDeriveFromMaxLag) {
  EXPECT_EQ(lag_byte_bound(1000), 16L * 1024 * 1024);
  EXPECT_EQ(lag_byte_bound(500), 8L * 1024 * 1024);
  EXPECT_EQ(lag_wait_cap_ms(1000), 60000);    // at least a minute
  EXPECT_EQ(lag_wait_cap_ms(30000), 300000);  // else 10 x max_lag
}

TEST(Throttle, LagReasonNamesTheWorstStandby) {
  EXPECT_FALSE(lag_reason({}, 1000));
  EXPECT_FALSE(lag_reason({{"s1", 0.5, 1024}}, 1000));
  EXPECT_FALSE(lag_reason({{"s1", std::nullopt, std::nullopt}}, 1000));
  auto r = lag_reason({{"s1", 1.5, 0}, {"standby1", 3.2, 0}}, 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "replica lag 3.2 s on standby1 > 1 s");
  // Replay paused: replay_lag stays stale but the WAL distance grows.
  r = lag_reason({{"s2", 0.01, 64L * 1024 * 1024}}, 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "replica lag 64.0 MB of WAL on s2 > 16.0 MB (max_lag 1 s at 16 MB/s)");
  // The lock step's warning names its own setting.
  r = lag_reason({{"s2", 0.01, 64L * 1024 * 1024}}, 1000, "zdm.standby_lag_warning");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r,
            "replica lag 64.0 MB of WAL on s2 > 16.0 MB (zdm.standby_lag_warning 1 s at 16 MB/s)");
}

TEST(Throttle, FormatsDurations) {
  EXPECT_EQ(format_ms(250), "250 ms");
  EXPECT_EQ(format_ms(1000), "1 s");
  EXPECT_EQ(format_ms(1500), "1.5 s");
  EXPECT_EQ(rate_reason(1000), "max_rate 1000 rows/s");
}
