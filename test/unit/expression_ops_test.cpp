// Plans of add_column and drop_column, and the surname case put together.
#include <gtest/gtest.h>

#include <functional>

#include "core/error.hpp"
#include "core/ops/add_column.hpp"
#include "core/ops/drop_column.hpp"
#include "core/ops/rename.hpp"
#include "core/plan.hpp"
#include "support.hpp"

using namespace zdm::core;
using zdm::test::code_of;

namespace {

TableDesc person() {
  TableDesc t;
  t.schema = "public";
  t.name = "person";
  t.columns = {{"id", "bigint", "", true, false, true},
               {"first_name", "text", "", false, false, false},
               {"last_name", "text", "", true, false, false},
               {"nick", "text", "", false, false, false},
               {"shout", "text", "", false, true, false}};
  t.primary_key = {"id"};
  t.constraint_names = {"person_pkey", "surname_not_null"};
  return t;
}

Operation add_surname() {
  AddColumnRequest r;
  r.column = "surname";
  r.type_sql = "text";
  r.up = "last_name";
  r.not_null = true;
  r.default_sql = "'unknown'::text";
  Operation op = add_column::validate(person(), r, {});
  op.migration = "surname";
  return op;
}

Operation drop_last_name() {
  Operation op = drop_column::validate(person(), {"last_name", "surname"}, {});
  op.migration = "surname";
  return op;
}

}  // namespace

TEST(AddColumn, BeginAddsTheColumnWithoutDefaultAndANotValidCheck) {
  Operation op = add_surname();
  EXPECT_EQ(op.check_name, "surname_not_null_2") << "surname_not_null is taken";
  Statements s = begin_statements(person(), op);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "ALTER TABLE \"public\".\"person\" ADD COLUMN \"surname\" text");
  EXPECT_EQ(s[1],
            "ALTER TABLE \"public\".\"person\" ADD CONSTRAINT \"surname_not_null_2\" CHECK "
            "(\"surname\" IS NOT NULL) NOT VALID");
}

TEST(AddColumn, FinishValidatesThenSetsNotNullDropsTheCheckAndSetsTheDefault) {
  TableDesc t = person();
  t.columns.push_back({"surname", "text", "", false, false, false});
  Operation op = add_surname();
  Statements v = finish_validation_statements(t, op);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "ALTER TABLE \"public\".\"person\" VALIDATE CONSTRAINT \"surname_not_null_2\"");
  Statements f = finish_statements(t, op);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], "ALTER TABLE \"public\".\"person\" ALTER COLUMN \"surname\" SET NOT NULL");
  EXPECT_EQ(f[1], "ALTER TABLE \"public\".\"person\" DROP CONSTRAINT \"surname_not_null_2\"");
  EXPECT_EQ(
      f[2],
      "ALTER TABLE \"public\".\"person\" ALTER COLUMN \"surname\" SET DEFAULT 'unknown'::text");
}

TEST(AddColumn, AbortDropsTheColumn) {
  TableDesc t = person();
  t.columns.push_back({"surname", "text", "", false, false, false});
  Statements s = abort_statements(t, add_surname());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0], "ALTER TABLE \"public\".\"person\" DROP COLUMN \"surname\"");
}

TEST(AddColumn, BackfillsRowsStillNullThroughAPlainColumn) {
  TableDesc t = person();
  t.columns.push_back({"surname", "text", "", false, false, false});
  EXPECT_TRUE(needs_backfill(add_surname()));
  BackfillSpec spec = backfill_spec(t, add_surname());
  EXPECT_EQ(spec.touch_column, "first_name") << "a column outside the primary key";
  EXPECT_EQ(spec.needs_work, "t.\"surname\" IS NULL");
  AddColumnRequest no_up{"flag", "boolean", "", false, ""};
  EXPECT_FALSE(needs_backfill(add_column::validate(person(), no_up, {})));
}

TEST(AddColumn, RefusesBadInput) {
  AddColumnRequest exists{"nick", "text", "", false, ""};
  EXPECT_EQ(code_of([&] { add_column::validate(person(), exists, {}); }),
            ErrorCode::DuplicateColumn);
  AddColumnRequest not_null_without_up{"x", "text", "", true, ""};
  EXPECT_EQ(code_of([&] { add_column::validate(person(), not_null_without_up, {}); }),
            ErrorCode::InvalidParameter);
  AddColumnRequest no_type{"x", "", "", false, ""};
  EXPECT_EQ(code_of([&] { add_column::validate(person(), no_type, {}); }),
            ErrorCode::InvalidParameter);
}

TEST(DropColumn, NothingAtBeginNothingToBackfillDropAtFinish) {
  Operation op = drop_last_name();
  EXPECT_TRUE(begin_statements(person(), op).empty());
  EXPECT_FALSE(needs_backfill(op));
  EXPECT_TRUE(abort_statements(person(), op).empty());
  Statements f = finish_statements(person(), op);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0], "ALTER TABLE \"public\".\"person\" DROP COLUMN \"last_name\"");
}

TEST(DropColumn, RefusesBadInput) {
  EXPECT_EQ(code_of([&] {
              drop_column::validate(person(), {"nope", ""}, {});
            }),
            ErrorCode::UndefinedColumn);
  EXPECT_EQ(code_of([&] {
              drop_column::validate(person(), {"id", "1"}, {});
            }),
            ErrorCode::WrongObjectType);
  EXPECT_EQ(code_of([&] {
              drop_column::validate(person(), {"shout", ""}, {});
            }),
            ErrorCode::WrongObjectType);
  // NOT NULL without down: new-side inserts would fail.
  EXPECT_EQ(code_of([&] {
              drop_column::validate(person(), {"last_name", ""}, {});
            }),
            ErrorCode::InvalidParameter);
  EXPECT_NO_THROW(drop_column::validate(person(), {"nick", ""}, {}));
}

TEST(SurnameCase, BothOperationsShareOneTriggerAndClaimDifferentColumns) {
  Operation add = add_surname();
  TableDesc t = person();
  t.columns.push_back({"surname", "text", "", false, false, false});
  Operation drop = drop_column::validate(t, {"last_name", "surname"}, {add});
  drop.migration = "surname";
  EXPECT_EQ(trigger_args({add, drop}),
            (std::vector<std::string>{"add_column", "surname", "", "surname", "last_name", "",
                                      "drop_column", "surname", "last_name", "", "", "surname"}));
  // A second migration may not touch either column while this one is open.
  EXPECT_EQ(code_of([&] {
              rename::validate(t, {"surname", "family_name"}, {add, drop});
            }),
            ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] {
              drop_column::validate(t, {"last_name", "x"}, {add, drop});
            }),
            ErrorCode::ObjectInUse);
  EXPECT_EQ(add.describe(), "add_column surname");
  EXPECT_EQ(drop.describe(), "drop_column last_name");
}

TEST(OpKind, NamesRoundTripAndUnknownNamesAreRefused) {
  for (OpKind k : {OpKind::Rename, OpKind::AddColumn, OpKind::DropColumn, OpKind::AlterType})
    EXPECT_EQ(parse_op_kind(op_kind_name(k)), k);
  EXPECT_EQ(parse_op_kind("alter_type"), OpKind::AlterType);
  EXPECT_THROW(parse_op_kind("explode"), Error);
}

TEST(TriggerArgs, AMigrationsOperationsStandTogether) {
  Operation a1 = add_surname();
  a1.migration = "b_mig";
  Operation other = rename::validate(person(), {"nick", "nickname"}, {});
  other.migration = "a_mig";
  Operation a2 = drop_column::validate(person(), {"first_name", ""}, {});
  a2.migration = "b_mig";
  std::vector<std::string> args = trigger_args({a1, other, a2});
  ASSERT_EQ(args.size(), 18u);
  EXPECT_EQ(args[1], "a_mig");
  EXPECT_EQ(args[7], "b_mig");
  EXPECT_EQ(args[13], "b_mig");
}
