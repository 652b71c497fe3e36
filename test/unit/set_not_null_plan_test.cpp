#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/ops/create_index.hpp"
#include "core/ops/set_not_null.hpp"
#include "core/plan.hpp"
#include "core/verify.hpp"
#include "support.hpp"

using namespace zdm::core;
using zdm::test::code_of;

namespace {

TableDesc person() {
  TableDesc t;
  t.schema = "public";
  t.name = "person";
  t.columns = {{"id", "bigint", "", true, false, true},
               {"email", "text", "", false, false, false},
               {"nick", "text", "", true, false, false}};
  t.primary_key = {"id"};
  t.constraint_names = {"person_pkey"};
  return t;
}

Operation plain_op() {
  Operation op = set_not_null::validate(person(), {"email"}, {});
  op.migration = "m";
  return op;
}

Operation shadow_op() {
  Operation op =
      set_not_null::validate(person(), {"email", true, "COALESCE(email, 'unknown'::text)"}, {});
  op.migration = "m";
  op.down = "email_new";
  return op;
}

}  // namespace

TEST(SetNotNull, WithoutUpANotValidCheckThenSetNotNull) {
  Operation op = plain_op();
  EXPECT_EQ(op.kind, OpKind::SetNotNull);
  EXPECT_EQ(op.check_name, "email_not_null");
  EXPECT_TRUE(op.new_column.empty());
  EXPECT_FALSE(needs_backfill(op));
  EXPECT_FALSE(uses_dual_write_trigger(op));
  EXPECT_EQ(op.claimed_columns(), std::vector<std::string>{"email"});
  Statements begin = begin_statements(person(), op);
  ASSERT_EQ(begin.size(), 1u);
  EXPECT_EQ(begin[0],
            "ALTER TABLE \"public\".\"person\" ADD CONSTRAINT \"email_not_null\" CHECK (\"email\" "
            "IS NOT NULL) NOT VALID");

  TableDesc during = person();
  during.constraint_names.push_back("email_not_null");
  during.checks.push_back({"email_not_null", {"email"}, false});
  Statements validation = finish_validation_statements(during, op);
  ASSERT_EQ(validation.size(), 1u);
  EXPECT_EQ(validation[0],
            "ALTER TABLE \"public\".\"person\" VALIDATE CONSTRAINT \"email_not_null\"");
  Statements finish = finish_statements(during, op);
  ASSERT_EQ(finish.size(), 2u);
  EXPECT_EQ(finish[0], "ALTER TABLE \"public\".\"person\" ALTER COLUMN \"email\" SET NOT NULL");
  EXPECT_EQ(finish[1], "ALTER TABLE \"public\".\"person\" DROP CONSTRAINT \"email_not_null\"");
  Statements abort = abort_statements(during, op);
  ASSERT_EQ(abort.size(), 1u);
  EXPECT_EQ(abort[0], "ALTER TABLE \"public\".\"person\" DROP CONSTRAINT \"email_not_null\"");
  // Nothing to abort once the check is gone; no trigger either way.
  EXPECT_TRUE(abort_statements(person(), op).empty());
  EXPECT_TRUE(create_dual_write_trigger(person(), {op}).empty());
  EXPECT_EQ(verify_sql(during, {op}), "");
}

TEST(SetNotNull, ViolationsCountTheNullsWithKeys) {
  TableDesc during = person();
  during.constraint_names.push_back("email_not_null");
  std::string sql = constraint_violations_sql(during, plain_op());
  EXPECT_NE(sql.find("(\"email\" IS NOT NULL) IS FALSE"), std::string::npos) << sql;
  EXPECT_NE(sql.find("LIMIT 10"), std::string::npos) << sql;
  EXPECT_NE(constraint_violations_sql(during, shadow_op()).find("(\"email_new\" IS NOT NULL)"),
            std::string::npos);
}

TEST(SetNotNull, WithUpAShadowColumnServedAsAlterType) {
  Operation op = shadow_op();
  EXPECT_EQ(op.new_column, "email_new");
  EXPECT_EQ(op.type_sql, "text");
  EXPECT_TRUE(op.not_null);
  EXPECT_EQ(op.check_name, "email_new_not_null");
  EXPECT_TRUE(needs_backfill(op));
  EXPECT_TRUE(uses_dual_write_trigger(op));
  EXPECT_TRUE(has_shadow_column(op));
  EXPECT_EQ(op.claimed_columns(), (std::vector<std::string>{"email", "email_new"}));
  std::vector<std::string> args = trigger_args({op});
  ASSERT_EQ(args.size(), 6u);
  EXPECT_EQ(args[0], "alter_type");
  EXPECT_EQ(args[2], "email");
  EXPECT_EQ(args[3], "email_new");
  EXPECT_EQ(args[5], "email_new");
  Statements begin = begin_statements(person(), op);
  ASSERT_GE(begin.size(), 2u);
  EXPECT_EQ(begin[0], "ALTER TABLE \"public\".\"person\" ADD COLUMN \"email_new\" text");
  EXPECT_EQ(begin[1],
            "ALTER TABLE \"public\".\"person\" ADD CONSTRAINT \"email_new_not_null\" CHECK "
            "(\"email_new\" IS NOT NULL) NOT VALID");
  // NULLs are converted too: up maps them to a value.
  EXPECT_EQ(backfill_spec(person(), op).needs_work, "t.\"email_new\" IS NULL");

  TableDesc during = person();
  during.columns.push_back({"email_new", "text", "", false, false, false});
  during.constraint_names.push_back("email_new_not_null");
  Statements finish = finish_statements(during, op);
  ASSERT_GE(finish.size(), 4u);
  EXPECT_EQ(finish[0], "ALTER TABLE \"public\".\"person\" DROP COLUMN \"email\"");
  EXPECT_EQ(finish[1],
            "ALTER TABLE \"public\".\"person\" RENAME COLUMN \"email_new\" TO \"email\"");
  EXPECT_EQ(finish[2], "ALTER TABLE \"public\".\"person\" ALTER COLUMN \"email\" SET NOT NULL");
  EXPECT_EQ(finish[3], "ALTER TABLE \"public\".\"person\" DROP CONSTRAINT \"email_new_not_null\"");
  EXPECT_NE(verify_sql(during, {op}), "");
  Statements abort = abort_statements(during, op);
  ASSERT_EQ(abort.size(), 1u);
  EXPECT_EQ(abort[0], "ALTER TABLE \"public\".\"person\" DROP COLUMN \"email_new\"");
}

TEST(SetNotNull, Errors) {
  EXPECT_EQ(code_of([] { set_not_null::validate(person(), {"nope"}, {}); }),
            ErrorCode::UndefinedColumn);
  EXPECT_EQ(code_of([] { set_not_null::validate(person(), {"nick"}, {}); }),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([] {
              set_not_null::validate(person(), {"email", true, ""}, {});
            }),
            ErrorCode::InvalidParameter);
  Operation open = plain_op();
  EXPECT_EQ(code_of([&] { set_not_null::validate(person(), {"email"}, {open}); }),
            ErrorCode::ObjectInUse);
  // An index on the column may join it: the column stays.
  CreateIndexRequest index{"person_email_idx", {"\"email\""}, {"email"}, false, "btree", ""};
  EXPECT_EQ(create_index::validate(person(), index, {open}).kind, OpKind::CreateIndex);
  EXPECT_EQ(code_of([&] { create_index::validate(person(), index, {shadow_op()}); }),
            ErrorCode::ObjectInUse);
}
