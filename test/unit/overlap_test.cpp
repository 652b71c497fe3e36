// Overlapping operations on one column (check_overlaps): an operation that
// changes a column and an index or constraint operation that reads it are
// refused in either order, unless the pair composes; two readers compose.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/ops/add_check.hpp"
#include "core/ops/add_column.hpp"
#include "core/ops/add_foreign_key.hpp"
#include "core/ops/add_unique.hpp"
#include "core/ops/alter_type.hpp"
#include "core/ops/create_index.hpp"
#include "core/ops/drop_column.hpp"
#include "core/ops/drop_constraint.hpp"
#include "core/ops/drop_index.hpp"
#include "core/ops/join.hpp"
#include "core/ops/rename.hpp"
#include "core/ops/set_not_null.hpp"
#include "core/plan.hpp"
#include "support.hpp"

using namespace zdm::core;
using zdm::test::code_of;

namespace {

TableDesc person() {
  TableDesc t;
  t.oid = 30;
  t.schema = "public";
  t.name = "person";
  t.columns = {{"id", "integer", "", true, false, false},
               {"email", "text", "", false, false, false},
               {"name", "text", "", false, false, false},
               {"age", "integer", "", false, false, false},
               {"team_id", "integer", "", false, false, false}};
  t.primary_key = {"id"};
  t.constraint_names = {"person_pkey", "person_age_check"};
  Index name_idx;
  name_idx.name = "person_name_idx";
  name_idx.method = "btree";
  name_idx.keys = {"name"};
  name_idx.uses = {"name"};
  Index pkey;
  pkey.name = "person_pkey";
  pkey.method = "btree";
  pkey.unique = true;
  pkey.constraint = "person_pkey";
  pkey.keys = {"id"};
  pkey.uses = {"id"};
  t.indexes = {pkey, name_idx};
  return t;
}

TableDesc team() {
  TableDesc t;
  t.oid = 40;
  t.schema = "public";
  t.name = "team";
  t.columns = {{"id", "integer", "", true, false, false},
               {"email", "text", "", false, false, false}};
  return t;
}

Operation in(Operation op, const std::string& migration) {
  op.migration = migration;
  return op;
}

// An index on lower(email) WHERE age > 0: src/pg resolves the columns the
// expression and the predicate read.
Operation email_index(const std::string& migration = "idx") {
  CreateIndexRequest r;
  r.name = "person_expr_idx";
  r.keys = {"(lower(email))"};
  r.columns = {"email", "age"};
  r.where = "(age > 0)";
  return in(create_index::validate(person(), r, {}), migration);
}

AlterTypeRequest widen(const std::string& column) {
  AlterTypeRequest r;
  r.column = column;
  r.type_sql = "bigint";
  r.up = column;
  return r;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return std::string(e.what()) + " | " + e.detail() + " | " + e.hint();
  }
  return "no error";
}

}  // namespace

TEST(Overlap, IndexOperationsReadTheirColumns) {
  Operation index = email_index();
  EXPECT_TRUE(index.claimed_columns().empty());
  EXPECT_EQ(index.reads, (std::vector<std::string>{"email", "age"}));
  EXPECT_EQ(drop_index::validate(person(), {"person_name_idx", "", ""}, {}).reads,
            std::vector<std::string>{"name"});
  EXPECT_EQ(drop_constraint::validate(person(), {"person_age_check", {"age"}, ""}, {}).reads,
            std::vector<std::string>{"age"});
  Operation fk = add_foreign_key::validate(person(), team(), {"", {"team_id"}, {"id"}}, {}, {});
  EXPECT_EQ(fk.reads, std::vector<std::string>{"team_id"});
  EXPECT_EQ(fk.ref_relid, 40u);
  EXPECT_EQ(fk.ref_reads, std::vector<std::string>{"id"});
  Operation seen = add_foreign_key::referenced_side(fk);
  EXPECT_EQ(seen.reads, std::vector<std::string>{"id"});
  EXPECT_TRUE(seen.check_name.empty());
}

TEST(Overlap, ColumnOperationAfterAnOpenIndexIsRefused) {
  const std::vector<Operation> open{email_index()};
  const TableDesc t = person();
  EXPECT_EQ(code_of([&] { rename::validate(t, {"email", "mail"}, open); }), ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] {
              drop_column::validate(t, {"age", ""}, open);
            }),
            ErrorCode::ObjectInUse);  // read by the predicate only
  EXPECT_EQ(code_of([&] { alter_type::validate(t, widen("age"), open); }), ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] {
              set_not_null::validate(t, {"email", true, "coalesce(email, '')"}, open);
            }),
            ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] {
              join::validate_column_to_join(t, {"id", "email", "person_emails", "", ""}, open);
            }),
            ErrorCode::ObjectInUse);
  // NOT NULL without a shadow column composes; so do other columns and a
  // second index on the same one.
  EXPECT_NO_THROW(set_not_null::validate(t, {"email", false, ""}, open));
  EXPECT_NO_THROW(rename::validate(t, {"name", "full_name"}, open));
  CreateIndexRequest second;
  second.name = "person_email_idx";
  second.keys = {"\"email\""};
  second.columns = {"email"};
  EXPECT_NO_THROW(create_index::validate(t, second, open));
  EXPECT_NO_THROW(add_unique::validate(t, {"person_email_key", {"email"}}, open));
}

TEST(Overlap, TheRefusalNamesTheColumnTheMigrationAndWhatToDo) {
  EXPECT_EQ(
      message_of([] {
        drop_column::validate(person(), {"email", ""}, {email_index()});
      }),
      "column \"email\" of table \"public\".\"person\" is already under migration \"idx\" | "
      "That migration's create_index person_expr_idx USING btree ((lower(email))) WHERE (age > 0) "
      "is still open, and reads the column. | Finish or abort migration \"idx\" first.");
}

TEST(Overlap, IndexAfterAnOpenColumnOperationIsRefused) {
  const TableDesc t = person();
  for (const Operation& open : {in(rename::validate(t, {"age", "years"}, {}), "m"),
                                in(drop_column::validate(t, {"age", ""}, {}), "m"),
                                in(alter_type::validate(t, widen("age"), {}), "m")}) {
    CreateIndexRequest where_only;  // age is read by the predicate only
    where_only.name = "i";
    where_only.keys = {"\"name\""};
    where_only.columns = {"name", "age"};
    where_only.where = "(age > 0)";
    EXPECT_EQ(code_of([&] { create_index::validate(t, where_only, {open}); }),
              ErrorCode::ObjectInUse);
    EXPECT_EQ(code_of([&] {
                add_check::validate(t, {"c", "(age > 0)", {"age"}}, {open});
              }),
              ErrorCode::ObjectInUse);
    EXPECT_EQ(code_of([&] {
                add_unique::validate(t, {"u", {"age"}}, {open});
              }),
              ErrorCode::ObjectInUse);
  }
  // set_not_null without up composes with every index and constraint.
  Operation not_null = in(set_not_null::validate(t, {"age", false, ""}, {}), "n");
  EXPECT_NO_THROW(add_check::validate(t, {"c", "(age > 0)", {"age"}}, {not_null}));
  EXPECT_NO_THROW(add_unique::validate(t, {"u", {"age"}}, {not_null}));
}

TEST(Overlap, AnAddedColumnIsIndexedInItsOwnMigrationOnly) {
  const TableDesc t = person();
  Operation add = in(add_column::validate(t, {"nick", "text", "name", false, ""}, {}), "add");
  CreateIndexRequest r;
  r.name = "person_nick_idx";
  r.keys = {"\"nick\""};
  r.columns = {"nick"};
  EXPECT_EQ(code_of([&] { create_index::validate(t, r, {add}); }), ErrorCode::ObjectInUse);
  EXPECT_NE(message_of([&] {
              create_index::validate(t, r, {add});
            }).find("Begin it in the same migration (migration => 'add')"),
            std::string::npos);
  TableDesc added = t;  // as it is once add_column began
  added.columns.push_back({"nick", "text", "", false, false, false});
  AddUniqueRequest u{"person_nick_key", {"nick"}};
  EXPECT_EQ(code_of([&] { add_unique::validate(added, u, {add}); }), ErrorCode::ObjectInUse);
  r.migration = "add";
  u.migration = "add";
  EXPECT_NO_THROW(create_index::validate(added, r, {add}));
  EXPECT_NO_THROW(add_unique::validate(added, u, {add}));
  // A check has no IF EXISTS at abort: refused even in the same migration.
  EXPECT_EQ(code_of([&] {
              add_check::validate(added, {"c", "(nick <> '')", {"nick"}}, {add});
            }),
            ErrorCode::ObjectInUse);
}

TEST(Overlap, ForeignKeysOnBothTables) {
  const TableDesc p = person(), tm = team();
  Operation fk = in(add_foreign_key::validate(p, tm, {"", {"team_id"}, {"id"}}, {}, {}), "fk");
  // On the referencing table: its column.
  EXPECT_EQ(code_of([&] {
              drop_column::validate(p, {"team_id", ""}, {fk});
            }),
            ErrorCode::ObjectInUse);
  // On the referenced table: the referenced column, not a namesake of the
  // referencing table's columns.
  const std::vector<Operation> on_team{add_foreign_key::referenced_side(fk)};
  EXPECT_EQ(code_of([&] {
              rename::validate(tm, {"id", "team_no"}, on_team);
            }),
            ErrorCode::ObjectInUse);
  EXPECT_NO_THROW(rename::validate(tm, {"email", "mail"}, on_team));
  EXPECT_NO_THROW(rename::validate(p, {"email", "mail"}, {fk}));
  // The other way round, on either table.
  Operation ren = in(rename::validate(tm, {"id", "team_no"}, {}), "r");
  EXPECT_EQ(code_of([&] {
              add_foreign_key::validate(p, tm, {"", {"team_id"}, {"id"}}, {}, {ren});
            }),
            ErrorCode::ObjectInUse);
}

TEST(Overlap, DropIndexAndDropConstraint) {
  const TableDesc t = person();
  Operation drop_idx = in(drop_index::validate(t, {"person_name_idx", "", ""}, {}), "di");
  EXPECT_EQ(code_of([&] {
              AlterTypeRequest r;
              r.column = "name";
              r.type_sql = "varchar(10)";
              r.up = "name";
              alter_type::validate(t, r, {drop_idx});
            }),
            ErrorCode::ObjectInUse);
  EXPECT_NO_THROW(drop_column::validate(t, {"name", ""}, {drop_idx}));
  EXPECT_NO_THROW(rename::validate(t, {"name", "full_name"}, {drop_idx}));
  Operation drop_con =
      in(drop_constraint::validate(t, {"person_age_check", {"age"}, ""}, {}), "dc");
  EXPECT_EQ(code_of([&] { alter_type::validate(t, widen("age"), {drop_con}); }),
            ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] {
              rename::validate(t, {"age", "years"}, {drop_con});
            }),
            ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] {
              drop_column::validate(t, {"age", ""}, {drop_con});
            }),
            ErrorCode::ObjectInUse);
  EXPECT_NO_THROW(set_not_null::validate(t, {"age", false, ""}, {drop_con}));
}

TEST(Overlap, ComposesOnColumn) {
  const TableDesc t = person();
  Operation index = email_index("m");
  Operation add = in(add_column::validate(t, {"nick", "text", "", false, ""}, {}), "m");
  EXPECT_TRUE(composes_on_column(add, index));
  EXPECT_FALSE(composes_on_column(in(add, "other"), index));
  Operation drop_idx = in(drop_index::validate(t, {"person_name_idx", "", ""}, {}), "m");
  EXPECT_TRUE(composes_on_column(in(drop_column::validate(t, {"name", ""}, {}), "m"), drop_idx));
  EXPECT_FALSE(composes_on_column(in(alter_type::validate(t, widen("age"), {}), "m"), drop_idx));
  EXPECT_TRUE(
      composes_on_column(in(set_not_null::validate(t, {"email", false, ""}, {}), "m"), index));
  EXPECT_FALSE(composes_on_column(in(rename::validate(t, {"email", "mail"}, {}), "m"), index));
}
