#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/state.hpp"

using namespace zdm::core;

TEST(State, RoundTripsNames) {
  for (MigrationState s :
       {MigrationState::Active, MigrationState::Finished, MigrationState::Aborted})
    EXPECT_EQ(parse_state(state_name(s)), s);
  EXPECT_THROW(parse_state("bogus"), Error);
}

TEST(State, ActiveAllowsEverything) {
  for (Action a : {Action::AddOperation, Action::Backfill, Action::Finish, Action::Abort})
    EXPECT_NO_THROW(check_transition("m", MigrationState::Active, a));
}

TEST(State, FinishAfterAbortIsRefusedWithAHint) {
  try {
    check_transition("m1", MigrationState::Aborted, Action::Finish);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidState);
    EXPECT_NE(std::string(e.what()).find("cannot finish migration \"m1\""), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("aborted"), std::string::npos);
    EXPECT_NE(e.hint().find("start a new one"), std::string::npos);
  }
}

TEST(State, EndedMigrationsRefuseEveryAction) {
  for (MigrationState s : {MigrationState::Finished, MigrationState::Aborted})
    for (Action a : {Action::AddOperation, Action::Backfill, Action::Finish, Action::Abort})
      EXPECT_THROW(check_transition("m", s, a), Error);
}

TEST(State, FinishNeedsACompleteBackfill) {
  EXPECT_NO_THROW(check_backfill_complete("m", 0));
  try {
    check_backfill_complete("m", 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidState);
    EXPECT_NE(e.hint().find("CALL zdm.backfill('m')"), std::string::npos);
  }
}

TEST(State, HintsQuoteTheMigrationName) {
  try {
    check_backfill_complete("x'); DROP TABLE victim; --", 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.hint().find("zdm.backfill('x''); DROP TABLE victim; --')"), std::string::npos)
        << e.hint();
  }
}
