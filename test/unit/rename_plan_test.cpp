#include <gtest/gtest.h>

#include <functional>

#include "core/backfill.hpp"
#include "core/error.hpp"
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
               {"last_name", "text", "\"pg_catalog\".\"C\"", true, false, false},
               {"full", "text", "", false, true, false}};
  t.checks = {{"person_last_name_check", {"last_name"}},
              {"person_first_name_check", {"first_name"}}};
  t.constraint_names = {"person_pkey", "person_last_name_check", "person_first_name_check",
                        "surname_not_null"};
  return t;
}

Operation rename_op() {
  Operation op = rename::validate(person(), {"last_name", "surname"}, {});
  op.migration = "m";
  return op;
}

}  // namespace

TEST(ValidateRename, AcceptsAPlainRename) {
  Operation op = rename_op();
  EXPECT_EQ(op.kind, OpKind::Rename);
  EXPECT_EQ(op.column, "last_name");
  EXPECT_EQ(op.new_column, "surname");
}

TEST(ValidateRename, RefusesBadInput) {
  TableDesc t = person();
  EXPECT_EQ(code_of([&] { rename::validate(t, {"nope", "x"}, {}); }), ErrorCode::UndefinedColumn);
  EXPECT_EQ(code_of([&] {
              rename::validate(t, {"last_name", "first_name"}, {});
            }),
            ErrorCode::DuplicateColumn);
  EXPECT_EQ(code_of([&] {
              rename::validate(t, {"last_name", "last_name"}, {});
            }),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([&] { rename::validate(t, {"", "x"}, {}); }), ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([&] {
              rename::validate(t, {"last_name", std::string(64, 'n')}, {});
            }),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(code_of([&] { rename::validate(t, {"full", "x"}, {}); }), ErrorCode::WrongObjectType);
}

TEST(ValidateRename, RefusesAColumnAlreadyUnderMigration) {
  Operation open = rename_op();
  open.migration = "first";
  TableDesc t = person();
  t.columns.push_back({"surname", "text", "", false, false, false});
  // The old column again, and a rename of the other migration's new column.
  EXPECT_EQ(code_of([&] {
              rename::validate(t, {"last_name", "family_name"}, {open});
            }),
            ErrorCode::ObjectInUse);
  EXPECT_EQ(code_of([&] {
              rename::validate(t, {"surname", "family_name"}, {open});
            }),
            ErrorCode::ObjectInUse);
  EXPECT_NO_THROW(rename::validate(t, {"first_name", "given_name"}, {open}));
}

TEST(RenameBegin, AddsTheColumnWithTypeCollationAndNotValidChecks) {
  Statements s = begin_statements(person(), rename_op());
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0],
            "ALTER TABLE \"public\".\"person\" ADD COLUMN \"surname\" text COLLATE "
            "\"pg_catalog\".\"C\"");
  // surname_not_null is taken, so the next free name is used.
  EXPECT_EQ(s[1],
            "ALTER TABLE \"public\".\"person\" ADD CONSTRAINT \"surname_not_null_2\" "
            "CHECK (\"surname\" IS NOT NULL) NOT VALID");
  // Only the CHECK that reads last_name is repeated, through the server-side rewrite.
  EXPECT_NE(s[2].find("\"zdm\".\"copy_check_constraint\""), std::string::npos);
  EXPECT_NE(s[2].find("'person_last_name_check'"), std::string::npos);
  EXPECT_NE(s[2].find("'person_last_name_check_surname'"), std::string::npos);
}

TEST(RenameBegin, NullableColumnGetsNoNotNullCheck) {
  Operation op = rename::validate(person(), {"first_name", "given_name"}, {});
  Statements s = begin_statements(person(), op);
  for (const std::string& stmt : s) EXPECT_EQ(stmt.find("IS NOT NULL"), std::string::npos);
}

TEST(RenameFinish, DropsTheCopyAndRenamesTheOriginal) {
  TableDesc t = person();
  t.columns.push_back({"surname", "text", "", false, false, false});
  Statements s = finish_statements(t, rename_op());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "ALTER TABLE \"public\".\"person\" DROP COLUMN \"surname\"");
  EXPECT_EQ(s[1], "ALTER TABLE \"public\".\"person\" RENAME COLUMN \"last_name\" TO \"surname\"");
}

TEST(RenameFinish, RefusesWhenAColumnVanished) {
  EXPECT_EQ(code_of([&] { finish_statements(person(), rename_op()); }), ErrorCode::UndefinedColumn);
}

TEST(RenameAbort, DropsOnlyTheNewColumn) {
  TableDesc t = person();
  t.columns.push_back({"surname", "text", "", false, false, false});
  Statements s = abort_statements(t, rename_op());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0], "ALTER TABLE \"public\".\"person\" DROP COLUMN \"surname\"");
  EXPECT_TRUE(abort_statements(person(), rename_op()).empty());
}

TEST(DualWriteTrigger, RecreatedForTheRemainingOperations) {
  TableDesc t = person();
  t.has_dual_write_trigger = true;
  Operation a = rename_op();
  Operation b = rename::validate(t, {"first_name", "given'name"}, {a});
  b.migration = "m2";
  Statements s = with_dual_write_trigger(t, {"X"}, {a, b});
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], "DROP TRIGGER \"zzz_zdm_dual_write\" ON \"public\".\"person\"");
  EXPECT_EQ(s[1], "X");
  EXPECT_EQ(s[2],
            "CREATE TRIGGER \"zzz_zdm_dual_write\" BEFORE INSERT OR UPDATE ON "
            "\"public\".\"person\" FOR EACH ROW EXECUTE FUNCTION \"zdm\".\"dual_write_trigger\"("
            "'rename', 'm', 'last_name', 'surname', '', '', 'rename', 'm2', "
            "'first_name', 'given''name', '', '')");
  EXPECT_EQ(s[3], "ALTER TABLE \"public\".\"person\" ENABLE ALWAYS TRIGGER \"zzz_zdm_dual_write\"");
}

TEST(DualWriteTrigger, DroppedWhenNothingRemainsAndNotDroppedWhenAbsent) {
  TableDesc t = person();
  t.has_dual_write_trigger = true;
  EXPECT_EQ(with_dual_write_trigger(t, {"X"}, {}).size(), 2u);
  t.has_dual_write_trigger = false;
  Statements s = with_dual_write_trigger(t, {"X"}, {rename_op()});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], "X");
}

TEST(Backfill, RenameConvertsOnlyRowsThatDiffer) {
  BackfillSpec spec = backfill_spec(person(), rename_op());
  EXPECT_EQ(spec.touch_column, "last_name");
  // By binary image, so json, xml and point columns need no equality operator.
  EXPECT_EQ(spec.needs_work,
            "NOT pg_catalog.record_image_eq(ROW(t.\"surname\"), ROW(t.\"last_name\"))");
}

TEST(Backfill, KeysetBatchWalksACompositeKeyInOrder) {
  std::vector<KeyColumn> key{{"a", "integer"}, {"b", "text"}};
  BackfillSpec spec = backfill_spec(person(), rename_op());
  std::string first = keyset_batch_end_sql(person(), key, true);
  std::string next = keyset_batch_end_sql(person(), key, false);
  EXPECT_EQ(first.find("$1"), std::string::npos) << "the first batch has no lower bound";
  EXPECT_NE(next.find("(t.\"a\", t.\"b\") > (($1::pg_catalog.text[])[1]::integer, "
                      "($1::pg_catalog.text[])[2]::text)"),
            std::string::npos);
  EXPECT_NE(next.find("ORDER BY t.\"a\", t.\"b\" LIMIT $3"), std::string::npos);
  EXPECT_NE(next.find("ORDER BY b.\"a\" DESC, b.\"b\" DESC LIMIT 1"), std::string::npos);
}

TEST(Backfill, KeysetUpdateIsARangeBetweenTwoConstants) {
  std::vector<KeyColumn> key{{"a", "integer"}, {"b", "text"}};
  BackfillSpec spec = backfill_spec(person(), rename_op());
  std::string first = keyset_update_sql(person(), key, spec, true);
  std::string next = keyset_update_sql(person(), key, spec, false);
  EXPECT_EQ(first.find("$1"), std::string::npos) << "the first batch has no lower bound";
  EXPECT_EQ(next.substr(0, next.find("RETURNING")).find(" FROM "), std::string::npos)
      << "no join: a range of the key's index";
  EXPECT_NE(next.find("(t.\"a\", t.\"b\") <= (($2::pg_catalog.text[])[1]::integer, "
                      "($2::pg_catalog.text[])[2]::text)"),
            std::string::npos);
  // The leading column's own bounds, which the planner estimates from its histogram.
  EXPECT_NE(next.find("t.\"a\" >= ($1::pg_catalog.text[])[1]::integer"), std::string::npos);
  EXPECT_NE(next.find("t.\"a\" <= ($2::pg_catalog.text[])[1]::integer"), std::string::npos);
  EXPECT_NE(next.find("SET \"last_name\" = t.\"last_name\""), std::string::npos);
  EXPECT_NE(next.find(spec.needs_work), std::string::npos);
}

TEST(Backfill, CtidBatchCoversABlockRange) {
  std::string sql = ctid_batch_sql(person(), backfill_spec(person(), rename_op()));
  EXPECT_NE(sql.find("t.ctid >= $1::pg_catalog.tid AND t.ctid < $2::pg_catalog.tid"),
            std::string::npos);
  EXPECT_EQ(block_start_tid(12), "(12,0)");
}
