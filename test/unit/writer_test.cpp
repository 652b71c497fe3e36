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

TEST(UpdateSide, DeclaredSideDecidesWhenBothChanged) {
  EXPECT_EQ(update_side(WriterSetting::Old, true, true), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::New, true, true), Side::New);
}

TEST(UpdateSide, DeclaredWriterNeverCopiesAnUntouchedSide) {
  // The new app updating another column of a row the backfill has not reached
  // must not copy the still-NULL new side over the old one.
  EXPECT_EQ(update_side(WriterSetting::New, false, false), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::New, true, false), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::Old, false, true), Side::New);
}

TEST(InsertSideDroppingOnly, ALeftOutDroppedColumnMarksTheNewApp) {
  EXPECT_EQ(insert_side_dropping_only(WriterSetting::Auto, true), Side::New);
  EXPECT_EQ(insert_side_dropping_only(WriterSetting::Auto, false), Side::Old);
  EXPECT_EQ(insert_side_dropping_only(WriterSetting::Old, true), Side::Old);
  EXPECT_EQ(insert_side_dropping_only(WriterSetting::New, false), Side::New);
}

static_assert(insert_side(WriterSetting::Auto, true) == Side::New,
              "the rules are constexpr so the trigger pays nothing for them");
