#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/ops/create_index.hpp"
#include "core/ops/drop_table.hpp"
#include "core/ops/rename.hpp"
#include "core/ops/rename_table.hpp"
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
  t.owner = "app_owner";
  t.columns = {{"id", "bigint", "", true, false, true}, {"email", "text", "", false, false, false}};
  t.primary_key = {"id"};
  t.privileges = {{"", "SELECT"}, {"app", "DELETE"}};
  ColumnExtras email;
  email.column = "email";
  email.grants = {{"app", "UPDATE", true}, {"app", "REFERENCES", false}};
  t.extras = {email};
  return t;
}

Operation rename_table_op() {
  Operation op = rename_table::validate(person(), {"people"}, {});
  op.migration = "m";
  return op;
}

Operation with_migration(Operation op, const std::string& migration) {
  op.migration = migration;
  return op;
}

}  // namespace

TEST(RenameTable, BeginRenamesAndPutsAViewWithTheGrantsUnderTheOldName) {
  Operation op = rename_table_op();
  EXPECT_EQ(op.kind, OpKind::RenameTable);
  EXPECT_EQ(op.column, "person");
  EXPECT_EQ(op.new_column, "people");
  EXPECT_TRUE(op.claimed_columns().empty());
  EXPECT_FALSE(needs_backfill(op));
  EXPECT_FALSE(uses_dual_write_trigger(op));
  EXPECT_EQ(op.describe(), "rename_table person -> people");
  Statements begin = begin_statements(person(), op);
  ASSERT_EQ(begin.size(), 6u);
  EXPECT_EQ(begin[0], "ALTER TABLE \"public\".\"person\" RENAME TO \"people\"");
  EXPECT_EQ(begin[1],
            "CREATE VIEW \"public\".\"person\" WITH (security_invoker = true) AS SELECT * FROM "
            "\"public\".\"people\"");
  EXPECT_EQ(begin[2], "ALTER VIEW \"public\".\"person\" OWNER TO \"app_owner\"");
  EXPECT_EQ(begin[3], "GRANT SELECT ON \"public\".\"person\" TO PUBLIC");
  EXPECT_EQ(begin[4], "GRANT DELETE ON \"public\".\"person\" TO \"app\"");
  // A view has no REFERENCES to give.
  EXPECT_EQ(begin[5],
            "GRANT UPDATE (\"email\") ON \"public\".\"person\" TO \"app\" WITH GRANT OPTION");
  EXPECT_TRUE(create_dual_write_trigger(person(), {op}).empty());
}

TEST(RenameTable, FinishDropsTheViewAbortRenamesBack) {
  Operation op = rename_table_op();
  TableDesc renamed = person();
  renamed.name = "people";
  EXPECT_EQ(finish_statements(renamed, op),
            (Statements{"DROP VIEW IF EXISTS \"public\".\"person\""}));
  EXPECT_EQ(abort_statements(renamed, op),
            (Statements{"DROP VIEW IF EXISTS \"public\".\"person\"",
                        "ALTER TABLE \"public\".\"people\" RENAME TO \"person\""}));
  EXPECT_EQ(rename_table::view_name(renamed, op), "\"public\".\"person\"");
  EXPECT_EQ(verify_sql(renamed, {op}), "");
}

TEST(RenameTable, Refusals) {
  EXPECT_EQ(code_of([] { rename_table::validate(person(), {"person"}, {}); }),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([] {
              rename_table::validate(person(), {"people", true}, {});
            }),
            ErrorCode::DuplicateTable);
  EXPECT_EQ(code_of([] {
              rename_table::validate(person(), {"people", false, "r1"}, {});
            }),
            ErrorCode::FeatureNotSupported);
  EXPECT_EQ(code_of([] {
              rename_table::validate(person(), {"people", false, "", false}, {});
            }),
            ErrorCode::FeatureNotSupported);
  EXPECT_EQ(code_of([] {
              rename_table::validate(person(), {"people", false, "", true, "app"}, {});
            }),
            ErrorCode::FeatureNotSupported);
}

TEST(TableOperations, WhatComposesWithRenameTableAndDropTable) {
  const TableDesc t = person();
  Operation rt = rename_table_op();
  // Indexes and constraints join a rename_table.
  Operation index =
      with_migration(create_index::validate(
                         t, {"person_email_idx", {"\"email\""}, {"email"}, false, "btree", ""}, {}),
                     "m");
  check_table_operations(t, index, {rt});
  check_table_operations(t, rt, {index});
  Operation not_null = with_migration(set_not_null::validate(t, {"email"}, {}), "m");
  check_table_operations(t, not_null, {rt});
  // Column changes, a second rename_table, drop_table do not, either order.
  Operation rename = with_migration(rename::validate(t, {"email", "mail"}, {}), "m");
  EXPECT_EQ(code_of([&] { check_table_operations(t, rename, {rt}); }), ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] { rename_table::validate(t, {"people"}, {rename}); }),
            ErrorCode::ObjectInUse);
  Operation shadow =
      with_migration(set_not_null::validate(t, {"email", true, "COALESCE(email, '')"}, {}), "m");
  EXPECT_EQ(code_of([&] { check_table_operations(t, shadow, {rt}); }), ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] { rename_table::validate(t, {"folk"}, {rt}); }), ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] { drop_table::validate(t, {rt}); }), ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] { drop_table::validate(t, {index}); }), ErrorCode::ObjectInUse);
  Operation drop = with_migration(drop_table::validate(t, {}), "d");
  EXPECT_EQ(code_of([&] { check_table_operations(t, index, {drop}); }), ErrorCode::ObjectInUse);
}

TEST(DropTable, NothingAtBeginTheTableGoesAtFinish) {
  Operation op = drop_table::validate(person(), {});
  EXPECT_EQ(op.kind, OpKind::DropTable);
  EXPECT_EQ(op.column, "person");
  EXPECT_TRUE(op.claimed_columns().empty());
  EXPECT_FALSE(needs_backfill(op));
  EXPECT_TRUE(begin_statements(person(), op).empty());
  EXPECT_TRUE(finish_validation_statements(person(), op).empty());
  EXPECT_EQ(finish_statements(person(), op), (Statements{"DROP TABLE \"public\".\"person\""}));
  EXPECT_TRUE(abort_statements(person(), op).empty());
  EXPECT_EQ(parse_op_kind("drop_table"), OpKind::DropTable);
  EXPECT_EQ(parse_op_kind("rename_table"), OpKind::RenameTable);
}
