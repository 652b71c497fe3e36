#include <gtest/gtest.h>

#include "core/writer.hpp"

using namespace zdm::core;

TEST(InsertSide, AutoInfersFromTheNewSideColumn) {
  EXPECT_EQ(insert_side(WriterSetting::Auto, true), Side::New);
  EXPECT_EQ(insert_side(WriterSetting::Auto, false), Side::Old);
}

TEST(InsertSide, DeclaredSideWins) {
  EXPECT_EQ(insert_side(WriterSetting::Old, true), Side::Old);
  EXPECT_EQ(insert_side(WriterSetting::New, false), Side::New);
}

TEST(UpdateSide, ChangedSideIsTheSource) {
  EXPECT_EQ(update_side(WriterSetting::Auto, true, false), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::Auto, false, true), Side::New);
}

TEST(UpdateSide, BothChangedNewWins) {
  EXPECT_EQ(update_side(WriterSetting::Auto, true, true), Side::New);
}

TEST(UpdateSide, NeitherChangedRecomputesNewFromOld) {
  EXPECT_EQ(update_side(WriterSetting::Auto, false, false), Side::Old);
}

TEST(UpdateSide, DeclaredSideWins) {
  EXPECT_EQ(update_side(WriterSetting::Old, false, true), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::New, true, false), Side::New);
}

static_assert(insert_side(WriterSetting::Auto, true) == Side::New,
              "the rules are constexpr so the trigger pays nothing for them");
