#include <gtest/gtest.h>

#include "core/writer.hpp"

using namespace zdm::core;

TEST(InsertSide, TheFilledSideIsTheSource) {
  EXPECT_EQ(insert_side(WriterSetting::Auto, false, true), Side::New);
  EXPECT_EQ(insert_side(WriterSetting::Auto, true, false), Side::Old);
  EXPECT_EQ(insert_side(WriterSetting::Auto, false, false), Side::Old);
}

TEST(InsertSide, AMismatchedDeclarationNeverDropsTheInsertedValue) {
  // SET zdm.writer = new; INSERT of the old column only: the old side.
  EXPECT_EQ(insert_side(WriterSetting::New, true, false), Side::Old);
  EXPECT_EQ(insert_side(WriterSetting::Old, false, true), Side::New);
}

TEST(InsertSide, NeitherFilledTheDeclaredSideDecides) {
  // The new app inserting a NULL new column on purpose keeps it NULL.
  EXPECT_EQ(insert_side(WriterSetting::New, false, false), Side::New);
  EXPECT_EQ(insert_side(WriterSetting::Old, false, false), Side::Old);
}

TEST(InsertSide, BothFilledTheDeclaredSideDecides) {
  EXPECT_EQ(insert_side(WriterSetting::Auto, true, true), Side::New);
  EXPECT_EQ(insert_side(WriterSetting::New, true, true), Side::New);
  EXPECT_EQ(insert_side(WriterSetting::Old, true, true), Side::Old);
}

constexpr Write None = Write::None, Same = Write::Same, Changed = Write::Changed;

TEST(UpdateSide, WrittenSideIsTheSource) {
  EXPECT_EQ(update_side(WriterSetting::Auto, Changed, None), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::Auto, None, Changed), Side::New);
  // An assigned value counts even when it did not change: SET alias = NULL on
  // a row whose alias is still NULL is a new-side write.
  EXPECT_EQ(update_side(WriterSetting::Auto, None, Same), Side::New);
  EXPECT_EQ(update_side(WriterSetting::Auto, Same, None), Side::Old);
}

TEST(UpdateSide, BothChangedNewWins) {
  EXPECT_EQ(update_side(WriterSetting::Auto, Changed, Changed), Side::New);
  EXPECT_EQ(update_side(WriterSetting::Auto, Same, Same), Side::New);
}

TEST(UpdateSide, BothAssignedOnlyOneChangedThatOneWins) {
  // A MERGE reports the columns of all its UPDATE actions as assigned.
  EXPECT_EQ(update_side(WriterSetting::Auto, Changed, Same), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::Auto, Same, Changed), Side::New);
  EXPECT_EQ(update_side(WriterSetting::Old, Same, Changed), Side::New);
  EXPECT_EQ(update_side(WriterSetting::New, Changed, Same), Side::Old);
}

TEST(UpdateSide, NeitherWrittenRecomputesNewFromOld) {
  EXPECT_EQ(update_side(WriterSetting::Auto, None, None), Side::Old);
}

TEST(UpdateSide, DeclaredSideDecidesWhenBothChanged) {
  EXPECT_EQ(update_side(WriterSetting::Old, Changed, Changed), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::New, Changed, Changed), Side::New);
  EXPECT_EQ(update_side(WriterSetting::Old, Same, Same), Side::Old);
}

TEST(UpdateSide, DeclaredWriterNeverCopiesAnUntouchedSide) {
  // The new app updating another column of a row the backfill has not reached
  // must not copy the still-NULL new side over the old one.
  EXPECT_EQ(update_side(WriterSetting::New, None, None), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::New, Changed, None), Side::Old);
  EXPECT_EQ(update_side(WriterSetting::Old, None, Changed), Side::New);
}

TEST(InsertSideDroppingOnly, ALeftOutDroppedColumnMarksTheNewApp) {
  EXPECT_EQ(insert_side_dropping_only(WriterSetting::Auto, true), Side::New);
  EXPECT_EQ(insert_side_dropping_only(WriterSetting::Auto, false), Side::Old);
  EXPECT_EQ(insert_side_dropping_only(WriterSetting::Old, true), Side::Old);
  EXPECT_EQ(insert_side_dropping_only(WriterSetting::New, false), Side::New);
}

static_assert(insert_side(WriterSetting::Auto, false, true) == Side::New,
              "the rules are constexpr so the trigger pays nothing for them");

TEST(InsertSide, AnAddColumnAloneHasOnlyOldSideValues) {
  // zdm.writer=new on a connection of the old app: the added column is still
  // computed from the row.
  EXPECT_EQ(insert_side(WriterSetting::New, false, false, false), Side::Old);
  EXPECT_EQ(insert_side(WriterSetting::Auto, false, false, false), Side::Old);
  EXPECT_EQ(insert_side(WriterSetting::New, false, true, false), Side::New);
}
