// drop_index, add_foreign_key, add_unique, drop_constraint and
// rename_constraint (#11 items 2-3): what each phase runs, and the refusals.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/ops/add_foreign_key.hpp"
#include "core/ops/add_unique.hpp"
#include "core/ops/alter_type.hpp"
#include "core/ops/drop_column.hpp"
#include "core/ops/drop_constraint.hpp"
#include "core/ops/drop_index.hpp"
#include "core/ops/rename.hpp"
#include "core/plan.hpp"
#include "support.hpp"

using namespace zdm::core;
using zdm::test::code_of;

namespace {

Index index_on(const std::string& name, const std::vector<std::string>& columns, bool unique) {
  Index i;
  i.name = name;
  i.method = "btree";
  i.unique = unique;
  i.keys = columns;
  i.uses = columns;
  return i;
}

TableDesc orders() {
  TableDesc t;
  t.oid = 20;
  t.schema = "public";
  t.name = "orders";
  t.columns = {{"id", "integer", "", true, false, false},
               {"customer_id", "bigint", "", false, false, false},
               {"region", "text", "", true, false, false},
               {"note", "text", "", false, false, false}};
  t.primary_key = {"id"};
  t.constraint_names = {"orders_pkey"};
  Index pkey = index_on("orders_pkey", {"id"}, true);
  pkey.constraint = "orders_pkey";
  t.indexes = {pkey, index_on("orders_note_idx", {"note"}, false)};
  return t;
}

TableDesc customer() {
  TableDesc t;
  t.oid = 10;
  t.schema = "shop";
  t.name = "customer";
  t.columns = {{"id", "integer", "", true, false, false},
               {"region", "text", "", true, false, false}};
  return t;
}

Operation open(Operation op, const std::string& migration) {
  op.migration = migration;
  return op;
}

AddForeignKeyRequest fk_request() {
  AddForeignKeyRequest r;
  r.columns = {"customer_id"};
  r.ref_columns = {"id"};
  r.on_delete = " set   null ";
  return r;
}

}  // namespace

TEST(DropIndex, NothingAtBeginDropAtFinishNothingAtAbort) {
  Operation op = drop_index::validate(orders(), {"orders_note_idx", "", ""}, {});
  EXPECT_EQ(op.kind, OpKind::DropIndex);
  EXPECT_EQ(op.column, "orders_note_idx");
  EXPECT_TRUE(op.claimed_columns().empty());
  EXPECT_FALSE(needs_backfill(op));
  EXPECT_TRUE(begin_statements(orders(), op).empty());
  EXPECT_TRUE(create_dual_write_trigger(orders(), {op}).empty());
  EXPECT_TRUE(concurrent_index_statements(orders(), op).empty());
  EXPECT_TRUE(finish_validation_statements(orders(), op).empty());
  EXPECT_EQ(finish_statements(orders(), op),
            Statements{"DROP INDEX IF EXISTS \"public\".\"orders_note_idx\""});
  EXPECT_TRUE(abort_statements(orders(), op).empty());
}

TEST(DropIndex, Refusals) {
  EXPECT_EQ(code_of([] {
              drop_index::validate(orders(), {"nope", "", ""}, {});
            }),
            ErrorCode::UndefinedObject);
  EXPECT_EQ(code_of([] {
              drop_index::validate(orders(), {"orders_pkey", "orders_pkey", ""}, {});
            }),
            ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([] {
              drop_index::validate(orders(), {"orders_note_idx", "", "constraint fk on t"}, {});
            }),
            ErrorCode::ObjectInUse);
  Operation first = open(drop_index::validate(orders(), {"orders_note_idx", "", ""}, {}), "a");
  EXPECT_EQ(code_of([&] {
              drop_index::validate(orders(), {"orders_note_idx", "", ""}, {first});
            }),
            ErrorCode::ObjectInUse);
  Operation alter =
      open(alter_type::validate(orders(), {"note", "varchar(10)", "note", ""}, {}), "b");
  EXPECT_EQ(code_of([&] {
              drop_index::validate(orders(), {"orders_note_idx", "", ""}, {alter});
            }),
            ErrorCode::ObjectInUse);
  // A drop_column of the column is fine: its finish takes the index along.
  Operation drop = open(drop_column::validate(orders(), {"note", ""}, {}), "c");
  EXPECT_NO_THROW(drop_index::validate(orders(), {"orders_note_idx", "", ""}, {drop}));
}

TEST(AddForeignKey, NotValidAtBeginValidateAtFinishDropAtAbort) {
  Operation op = add_foreign_key::validate(orders(), customer(), fk_request(), {}, {});
  EXPECT_EQ(op.kind, OpKind::AddForeignKey);
  EXPECT_EQ(op.check_name, "orders_customer_id_fkey");
  EXPECT_TRUE(op.claimed_columns().empty());
  EXPECT_FALSE(needs_backfill(op));
  EXPECT_TRUE(create_dual_write_trigger(orders(), {op}).empty());
  EXPECT_EQ(begin_statements(orders(), op),
            Statements{"ALTER TABLE \"public\".\"orders\" ADD CONSTRAINT "
                       "\"orders_customer_id_fkey\" FOREIGN KEY (\"customer_id\") REFERENCES "
                       "\"shop\".\"customer\" (\"id\") ON DELETE SET NULL NOT VALID"});
  TableDesc t = orders();
  t.constraint_names.push_back("orders_customer_id_fkey");
  t.foreign_keys = {{"orders_customer_id_fkey",
                     {"customer_id"},
                     "REFERENCES ...",
                     false,
                     "\"shop\".\"customer\"",
                     {"id"}}};
  EXPECT_EQ(finish_validation_statements(t, op),
            Statements{"ALTER TABLE \"public\".\"orders\" VALIDATE CONSTRAINT "
                       "\"orders_customer_id_fkey\""});
  EXPECT_TRUE(finish_statements(t, op).empty());
  EXPECT_EQ(abort_statements(t, op), Statements{"ALTER TABLE \"public\".\"orders\" DROP CONSTRAINT "
                                                "\"orders_customer_id_fkey\""});
  const std::string sql = constraint_violations_sql(t, op);
  EXPECT_NE(sql.find("t.\"customer_id\" IS NOT NULL AND NOT EXISTS (SELECT FROM "
                     "\"shop\".\"customer\" r WHERE r.\"id\" = t.\"customer_id\")"),
            std::string::npos);
  EXPECT_NE(sql.find("ORDER BY t.\"id\" LIMIT 10"), std::string::npos);
  t.foreign_keys[0].validated = true;  // a retried finish: nothing to validate
  EXPECT_TRUE(finish_validation_statements(t, op).empty());
  EXPECT_TRUE(abort_statements(orders(), op).empty());  // gone already
  EXPECT_TRUE(constraint_violations_sql(orders(), op).empty());
}

TEST(AddForeignKey, Refusals) {
  auto with = [](auto change) {
    AddForeignKeyRequest r = fk_request();
    change(r);
    return code_of([&] { add_foreign_key::validate(orders(), customer(), r, {}, {}); });
  };
  EXPECT_EQ(with([](auto& r) { r.columns = {}; }), ErrorCode::InvalidParameter);
  EXPECT_EQ(with([](auto& r) { r.columns = {"nope"}; }), ErrorCode::UndefinedColumn);
  EXPECT_EQ(with([](auto& r) { r.ref_columns = {"nope"}; }), ErrorCode::UndefinedColumn);
  EXPECT_EQ(with([](auto& r) { r.ref_columns = {"id", "region"}; }), ErrorCode::InvalidParameter);
  EXPECT_EQ(with([](auto& r) {
              r.columns = {"customer_id", "customer_id"};
              r.ref_columns = {"id", "region"};
            }),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(with([](auto& r) { r.on_delete = "explode"; }), ErrorCode::InvalidParameter);
  EXPECT_EQ(with([](auto& r) {
              r.columns = {"region"};
              r.ref_columns = {"region"};
            }),
            ErrorCode::InvalidParameter);  // SET NULL on a NOT NULL column
  EXPECT_EQ(with([](auto& r) { r.name = "orders_pkey"; }), ErrorCode::DuplicateObject);
  Operation rename = open(rename::validate(orders(), {"customer_id", "client_id"}, {}), "r");
  EXPECT_EQ(
      code_of([&] { add_foreign_key::validate(orders(), customer(), fk_request(), {rename}, {}); }),
      ErrorCode::ObjectInUse);
  Operation ref_rename = open(rename::validate(customer(), {"id", "key"}, {}), "r");
  EXPECT_EQ(code_of([&] {
              add_foreign_key::validate(orders(), customer(), fk_request(), {}, {ref_rename});
            }),
            ErrorCode::ObjectInUse);
  Operation first =
      open(add_foreign_key::validate(orders(), customer(), fk_request(), {}, {}), "f");
  EXPECT_EQ(code_of([&] {
              AddForeignKeyRequest r = fk_request();
              r.name = "orders_customer_id_fkey";
              add_foreign_key::validate(orders(), customer(), r, {first}, {});
            }),
            ErrorCode::ObjectInUse);
}

TEST(AddUnique, BuildsThroughPendingStatementsAttachesAtFinish) {
  Operation op = add_unique::validate(orders(), {"orders_note_region_key", {"note", "region"}}, {});
  EXPECT_EQ(op.kind, OpKind::AddUnique);
  EXPECT_EQ(add_unique::default_name("orders", {"note", "region"}), "orders_note_region_key");
  EXPECT_TRUE(op.claimed_columns().empty());
  EXPECT_TRUE(begin_statements(orders(), op).empty());
  EXPECT_EQ(concurrent_index_statements(orders(), op),
            Statements{"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"orders_note_region_key\" "
                       "ON \"public\".\"orders\" USING btree (\"note\", \"region\")"});
  EXPECT_EQ(required_indexes(orders(), op), std::vector<std::string>{"orders_note_region_key"});
  EXPECT_EQ(finish_statements(orders(), op),
            Statements{"ALTER TABLE \"public\".\"orders\" ADD CONSTRAINT "
                       "\"orders_note_region_key\" UNIQUE USING INDEX \"orders_note_region_key\""});
  EXPECT_TRUE(abort_statements(orders(), op).empty());  // never built
  TableDesc built = orders();
  built.indexes.push_back(index_on("orders_note_region_key", {"note", "region"}, true));
  EXPECT_EQ(abort_statements(built, op),
            Statements{"DROP INDEX IF EXISTS \"public\".\"orders_note_region_key\""});
  const std::string sql = duplicate_keys_sql(orders(), op);
  EXPECT_NE(sql.find("WHERE ROW(\"note\", \"region\") IS NOT NULL GROUP BY \"note\", \"region\" "
                     "HAVING pg_catalog.count(*) > 1"),
            std::string::npos);
}

TEST(AddUnique, Refusals) {
  EXPECT_EQ(code_of([] {
              add_unique::validate(orders(), {"u", {}}, {});
            }),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([] {
              add_unique::validate(orders(), {"u", {"nope"}}, {});
            }),
            ErrorCode::UndefinedColumn);
  EXPECT_EQ(code_of([] {
              add_unique::validate(orders(), {"u", {"note", "note"}}, {});
            }),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([] {
              add_unique::validate(orders(), {"orders_pkey", {"note"}}, {});
            }),
            ErrorCode::DuplicateObject);
  EXPECT_EQ(code_of([] {
              add_unique::validate(orders(), {"orders_note_idx", {"note"}}, {});
            }),
            ErrorCode::DuplicateTable);
  Operation first = open(add_unique::validate(orders(), {"u", {"note"}}, {}), "a");
  EXPECT_EQ(code_of([&] {
              add_unique::validate(orders(), {"u", {"region"}}, {first});
            }),
            ErrorCode::DuplicateTable);
  Operation drop = open(drop_column::validate(orders(), {"note", ""}, {}), "d");
  EXPECT_EQ(code_of([&] {
              add_unique::validate(orders(), {"v", {"note"}}, {drop});
            }),
            ErrorCode::ObjectInUse);
}

TEST(DropConstraint, NothingAtBeginDropAtFinish) {
  Operation op = drop_constraint::validate(orders(), {"orders_pkey", {"id"}, ""}, {});
  EXPECT_EQ(op.kind, OpKind::DropConstraint);
  EXPECT_TRUE(begin_statements(orders(), op).empty());
  EXPECT_EQ(finish_statements(orders(), op),
            Statements{"ALTER TABLE \"public\".\"orders\" DROP CONSTRAINT \"orders_pkey\""});
  EXPECT_TRUE(abort_statements(orders(), op).empty());
  TableDesc gone = orders();
  gone.constraint_names.clear();  // dropped with its column by another operation
  EXPECT_TRUE(finish_statements(gone, op).empty());
}

TEST(DropConstraint, RefusalsAndRename) {
  EXPECT_EQ(code_of([] {
              drop_constraint::validate(orders(), {"nope", {}, ""}, {});
            }),
            ErrorCode::UndefinedObject);
  EXPECT_EQ(code_of([] {
              drop_constraint::validate(orders(), {"orders_pkey", {"id"}, "constraint f on t"}, {});
            }),
            ErrorCode::ObjectInUse);
  Operation first = open(drop_constraint::validate(orders(), {"orders_pkey", {"id"}, ""}, {}), "a");
  EXPECT_EQ(code_of([&] {
              drop_constraint::validate(orders(), {"orders_pkey", {"id"}, ""}, {first});
            }),
            ErrorCode::ObjectInUse);
  Operation alter =
      open(alter_type::validate(orders(), {"note", "varchar(10)", "note", ""}, {}), "b");
  TableDesc t = orders();
  t.constraint_names.push_back("note_short");
  EXPECT_EQ(code_of([&] {
              drop_constraint::validate(t, {"note_short", {"note"}, ""}, {alter});
            }),
            ErrorCode::ObjectInUse);

  EXPECT_EQ(
      drop_constraint::rename_statement(orders(), {"orders_pkey", {}, ""}, "orders_key", {}),
      "ALTER TABLE \"public\".\"orders\" RENAME CONSTRAINT \"orders_pkey\" TO \"orders_key\"");
  EXPECT_EQ(code_of([] {
              drop_constraint::rename_statement(orders(), {"nope", {}, ""}, "x", {});
            }),
            ErrorCode::UndefinedObject);
  EXPECT_EQ(
      code_of([] {
        drop_constraint::rename_statement(orders(), {"orders_pkey", {}, ""}, "orders_pkey", {});
      }),
      ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([] {
              drop_constraint::rename_statement(orders(), {"orders_pkey", {}, ""},
                                                std::string(64, 'x'), {});
            }),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([&] {
              drop_constraint::rename_statement(orders(), {"orders_pkey", {}, ""}, "k", {first});
            }),
            ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] {
              drop_constraint::rename_statement(t, {"orders_pkey", {}, ""}, "note_short", {});
            }),
            ErrorCode::DuplicateObject);
}
