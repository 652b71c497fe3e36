#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/ops/add_check.hpp"
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
               {"age", "integer", "", false, false, false}};
  t.primary_key = {"id"};
  t.constraint_names = {"person_pkey"};
  return t;
}

Operation check_op() {
  Operation op = add_check::validate(person(), {"age_nonneg", "(age >= 0)", {"age"}}, {});
  op.migration = "m";
  return op;
}

}  // namespace

TEST(AddCheck, BeginAddsItNotValidAndNoTrigger) {
  Operation op = check_op();
  EXPECT_EQ(op.kind, OpKind::AddCheck);
  EXPECT_EQ(op.check_name, "age_nonneg");
  EXPECT_TRUE(op.claimed_columns().empty());
  EXPECT_FALSE(needs_backfill(op));
  Statements begin = begin_statements(person(), op);
  ASSERT_EQ(begin.size(), 1u);
  EXPECT_EQ(begin[0],
            "ALTER TABLE \"public\".\"person\" ADD CONSTRAINT \"age_nonneg\" CHECK ((age >= 0)) "
            "NOT VALID");
  EXPECT_TRUE(create_dual_write_trigger(person(), {op}).empty());
  EXPECT_TRUE(trigger_args({op}).empty());
}

TEST(AddCheck, FinishValidatesAbortDrops) {
  Operation op = check_op();
  TableDesc t = person();
  t.constraint_names.push_back("age_nonneg");
  t.checks = {{"age_nonneg", {"age"}, false}};
  Statements v = finish_validation_statements(t, op);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "ALTER TABLE \"public\".\"person\" VALIDATE CONSTRAINT \"age_nonneg\"");
  EXPECT_TRUE(finish_statements(t, op).empty());
  Statements a = abort_statements(t, op);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0], "ALTER TABLE \"public\".\"person\" DROP CONSTRAINT \"age_nonneg\"");
  t.checks[0].validated = true;  // validated already (a finish retried): nothing to do
  EXPECT_TRUE(finish_validation_statements(t, op).empty());
  EXPECT_TRUE(abort_statements(person(), op).empty());  // gone already
}

TEST(AddCheck, ViolationsNameKeys) {
  std::string sql = constraint_violations_sql(person(), check_op());
  EXPECT_NE(sql.find("((age >= 0)) IS FALSE"), std::string::npos);
  EXPECT_NE(sql.find("ORDER BY t.\"id\" LIMIT 10"), std::string::npos);
  TableDesc nokey = person();
  nokey.primary_key.clear();
  EXPECT_NE(constraint_violations_sql(nokey, check_op()).find("t.ctid"), std::string::npos);
}

TEST(AddCheck, Refusals) {
  EXPECT_EQ(code_of([] {
              add_check::validate(person(), {"person_pkey", "true"}, {});
            }),
            ErrorCode::DuplicateObject);
  EXPECT_EQ(code_of([] {
              add_check::validate(person(), {"", "true"}, {});
            }),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([] {
              add_check::validate(person(), {"c", ""}, {});
            }),
            ErrorCode::InvalidParameter);
  Operation rename = rename::validate(person(), {"age", "years"}, {});
  rename.migration = "r";
  EXPECT_EQ(code_of([&] {
              add_check::validate(person(), {"c", "(years > 0)", {"years"}}, {rename});
            }),
            ErrorCode::ObjectInUse);
  Operation open = check_op();
  EXPECT_EQ(code_of([&] {
              add_check::validate(person(), {"age_nonneg", "true"}, {open});
            }),
            ErrorCode::ObjectInUse);
}
