// The plan of join_to_column and column_to_join: preconditions, the triggers
// and statements of each phase, the backfill's SQL and the foreign key moved
// between the two shapes.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/ops/join.hpp"
#include "core/plan.hpp"
#include "core/quote.hpp"
#include "support.hpp"

using namespace zdm::core;
using zdm::test::code_of;

namespace {

Index unique_on(const std::string& name, const std::string& column) {
  Index i;
  i.name = name;
  i.method = "btree";
  i.unique = true;
  i.keys = {column};
  i.uses = {column};
  return i;
}

TableDesc voucher() {
  TableDesc t;
  t.oid = 100;
  t.schema = "public";
  t.name = "voucher";
  t.columns = {{"id", "integer", "", true, false, false}, {"code", "text", "", true, false, false}};
  t.primary_key = {"id"};
  t.indexes = {unique_on("voucher_pkey", "id")};
  t.constraint_names = {"voucher_pkey"};
  t.owner = "app_owner";
  t.privileges = {{"app", "INSERT"}, {"app", "SELECT"}, {"", "SELECT"}};
  return t;
}

TableDesc used_voucher() {
  TableDesc t;
  t.oid = 200;
  t.schema = "public";
  t.name = "used_voucher";
  t.columns = {{"user_id", "integer", "", true, false, false},
               {"voucher_id", "integer", "", true, false, false},
               {"note", "text", "", false, false, false}};
  t.indexes = {unique_on("used_voucher_voucher_id_key", "voucher_id")};
  t.foreign_keys = {{"used_voucher_user_id_fkey",
                     {"user_id"},
                     "REFERENCES public.app_user(id) ON DELETE CASCADE",
                     true,
                     "public.app_user",
                     {"id"}}};
  return t;
}

JoinToColumnRequest redeem_request() { return {"voucher_id", "id", "user_id", "", true}; }

Operation join_to_column() {
  Operation op = join::validate_join_to_column(used_voucher(), voucher(), redeem_request(), {}, {});
  op.id = 7;
  op.migration = "m";
  return op;
}

Operation column_to_join() {
  TableDesc t = voucher();
  t.columns.push_back({"user_id", "integer", "", false, false, false});
  t.foreign_keys = {{"voucher_user_id_fkey",
                     {"user_id"},
                     "REFERENCES public.app_user(id) ON DELETE SET NULL",
                     true,
                     "public.app_user",
                     {"id"}}};
  Operation op = join::validate_column_to_join(t, {"id", "user_id", "used_voucher", "", ""}, {});
  op.id = 8;
  op.migration = "m";
  return op;
}

bool contains(const Statements& statements, const std::string& text) {
  return std::any_of(statements.begin(), statements.end(),
                     [&](const std::string& s) { return s.find(text) != std::string::npos; });
}

}  // namespace

TEST(JoinToColumn, RecordsBothTablesAndTheValueType) {
  Operation op = join_to_column();
  EXPECT_EQ(op.kind, OpKind::JoinToColumn);
  EXPECT_EQ(op.column, "user_id");  // new_column defaults to the value column's name
  EXPECT_EQ(op.type_sql, "integer");
  EXPECT_EQ(op.join_relid, 200u);
  EXPECT_EQ(op.join_key, "voucher_id");
  EXPECT_EQ(op.join_value, "user_id");
  EXPECT_EQ(op.target_key, "id");
  EXPECT_TRUE(needs_backfill(op));
}

TEST(JoinToColumn, ForeignKeyClearsTheColumnInsteadOfDeletingTheTarget) {
  // A join row deleted with its user is a column set to NULL, never a
  // voucher deleted.
  Operation op = join_to_column();
  EXPECT_EQ(op.references_sql, "REFERENCES public.app_user(id) ON DELETE SET NULL");
  EXPECT_EQ(op.check_name, "voucher_user_id_fkey");
  Statements begin = begin_statements(voucher(), op);
  EXPECT_TRUE(contains(begin,
                       "ADD CONSTRAINT \"voucher_user_id_fkey\" FOREIGN KEY (\"user_id\") "
                       "REFERENCES public.app_user(id) ON DELETE SET NULL NOT VALID"));
  Statements validation = finish_validation_statements(voucher(), op);
  ASSERT_EQ(validation.size(), 1u);
  EXPECT_NE(validation[0].find("VALIDATE CONSTRAINT \"voucher_user_id_fkey\""), std::string::npos);
}

TEST(JoinToColumn, DeleteActionsMapBetweenShapes) {
  EXPECT_EQ(join::references_for_column("REFERENCES t(a) ON DELETE CASCADE DEFERRABLE"),
            "REFERENCES t(a) ON DELETE SET NULL DEFERRABLE");
  EXPECT_EQ(join::references_for_column("REFERENCES t(a) ON DELETE SET DEFAULT"),
            "REFERENCES t(a) ON DELETE SET NULL");
  EXPECT_EQ(join::references_for_column("REFERENCES t(a) ON DELETE RESTRICT"),
            "REFERENCES t(a) ON DELETE RESTRICT");
  EXPECT_EQ(join::references_for_column("REFERENCES t(a)"), "REFERENCES t(a)");
  EXPECT_EQ(join::references_for_join("REFERENCES t(a) ON UPDATE CASCADE ON DELETE SET NULL"),
            "REFERENCES t(a) ON UPDATE CASCADE ON DELETE CASCADE");
}

TEST(JoinToColumn, BeginAddsTheColumnAndTriggersThatFireBeforeForeignKeys) {
  Statements begin = begin_statements(voucher(), join_to_column());
  ASSERT_GE(begin.size(), 6u);
  EXPECT_EQ(begin[0], "ALTER TABLE \"public\".\"voucher\" ADD COLUMN \"user_id\" integer");
  // AFTER triggers fire in name order: "0zdm_" sorts before the
  // "RI_ConstraintTrigger_" of the join table's foreign key.
  EXPECT_LT(std::string("0zdm_sync_7"), std::string("RI_ConstraintTrigger_a_1"));
  EXPECT_TRUE(contains(begin,
                       "CREATE TRIGGER \"0zdm_lock_7\" BEFORE INSERT ON "
                       "\"public\".\"used_voucher\""));
  EXPECT_TRUE(contains(begin,
                       "CREATE TRIGGER \"0zdm_sync_7\" AFTER INSERT OR UPDATE OF "
                       "\"voucher_id\", \"user_id\" OR DELETE ON \"public\".\"used_voucher\""));
  EXPECT_TRUE(contains(begin,
                       "CREATE TRIGGER \"0zdm_truncate_7\" AFTER TRUNCATE ON "
                       "\"public\".\"used_voucher\""));
  EXPECT_TRUE(contains(begin,
                       "CREATE TRIGGER \"0zdm_sync_7\" AFTER INSERT OR UPDATE OF \"id\", "
                       "\"user_id\" OR DELETE ON \"public\".\"voucher\""));
  EXPECT_TRUE(contains(begin, "\"zdm\".\"join_sync_trigger\"('target', '7')"));
  // Every trigger fires under session_replication_role = replica too.
  for (const char* s :
       {"ALTER TABLE \"public\".\"used_voucher\" ENABLE ALWAYS TRIGGER \"0zdm_lock_7\"",
        "ALTER TABLE \"public\".\"used_voucher\" ENABLE ALWAYS TRIGGER \"0zdm_sync_7\"",
        "ALTER TABLE \"public\".\"used_voucher\" ENABLE ALWAYS TRIGGER \"0zdm_truncate_7\"",
        "ALTER TABLE \"public\".\"voucher\" ENABLE ALWAYS TRIGGER \"0zdm_sync_7\""})
    EXPECT_TRUE(contains(begin, s)) << s;
}

TEST(JoinToColumn, FinishDropsTheJoinTableAbortDropsTheColumn) {
  Operation op = join_to_column();
  TableDesc during = voucher();
  during.columns.push_back({"user_id", "integer", "", false, false, false});
  Statements finish = finish_statements(during, op);
  EXPECT_EQ(finish.front(), "DROP TRIGGER IF EXISTS \"0zdm_sync_7\" ON \"public\".\"voucher\"");
  EXPECT_EQ(finish.back(), "DROP TABLE \"public\".\"used_voucher\"");
  EXPECT_FALSE(contains(finish, "DROP COLUMN"));
  Statements abort = abort_statements(during, op);
  EXPECT_TRUE(
      contains(abort, "DROP TRIGGER IF EXISTS \"0zdm_lock_7\" ON \"public\".\"used_voucher\""));
  EXPECT_EQ(abort.back(), "ALTER TABLE \"public\".\"voucher\" DROP COLUMN \"user_id\"");
  EXPECT_FALSE(contains(abort, "DROP TABLE"));
  // The join table already gone: abort still removes the column, and the
  // target's trigger, and touches nothing else.
  op.join_name.clear();
  abort = abort_statements(during, op);
  EXPECT_EQ(abort.size(), 2u);
  // finish of a column that was dropped by hand is refused.
  EXPECT_EQ(code_of([&] { finish_statements(voucher(), join_to_column()); }),
            ErrorCode::UndefinedColumn);
}

TEST(JoinToColumn, Preconditions) {
  JoinToColumnRequest r = redeem_request();
  auto refuse = [&](TableDesc join, TableDesc target, JoinToColumnRequest request) {
    return code_of([&] { join::validate_join_to_column(join, target, request, {}, {}); });
  };
  EXPECT_EQ(refuse(voucher(), voucher(), r), ErrorCode::InvalidParameter);  // one table twice
  TableDesc no_unique = used_voucher();
  no_unique.indexes.clear();
  EXPECT_EQ(refuse(no_unique, voucher(), r), ErrorCode::InvalidState);
  TableDesc partial = used_voucher();
  partial.indexes[0].simple = false;  // a partial or expression index does not prove uniqueness
  EXPECT_EQ(refuse(partial, voucher(), r), ErrorCode::InvalidState);
  TableDesc target_not_unique = voucher();
  target_not_unique.indexes.clear();
  EXPECT_EQ(refuse(used_voucher(), target_not_unique, r), ErrorCode::InvalidState);
  TableDesc nullable = used_voucher();
  nullable.columns[0].not_null = false;
  EXPECT_EQ(refuse(nullable, voucher(), r), ErrorCode::InvalidState);
  JoinToColumnRequest incomparable = r;
  incomparable.key_types_comparable = false;
  EXPECT_EQ(refuse(used_voucher(), voucher(), incomparable), ErrorCode::InvalidParameter);
  JoinToColumnRequest missing = r;
  missing.value_column = "nope";
  EXPECT_EQ(refuse(used_voucher(), voucher(), missing), ErrorCode::UndefinedColumn);
  missing = r;
  missing.target_key = "nope";
  EXPECT_EQ(refuse(used_voucher(), voucher(), missing), ErrorCode::UndefinedColumn);
  JoinToColumnRequest clash = r;
  clash.new_column = "code";
  EXPECT_EQ(refuse(used_voucher(), voucher(), clash), ErrorCode::DuplicateColumn);
  JoinToColumnRequest same = r;
  same.value_column = "voucher_id";
  EXPECT_EQ(refuse(used_voucher(), voucher(), same), ErrorCode::InvalidParameter);
  // Columns another open operation holds, on either table.
  Operation rename;
  rename.kind = OpKind::Rename;
  rename.migration = "other";
  rename.column = "user_id";
  rename.new_column = "uid";
  EXPECT_EQ(
      code_of([&] { join::validate_join_to_column(used_voucher(), voucher(), r, {rename}, {}); }),
      ErrorCode::ObjectInUse);
}

TEST(JoinToColumn, BackfillLocksTargetRowsBeforeReadingTheJoinTable) {
  TableDesc during = voucher();
  during.columns.push_back({"user_id", "integer", "", false, false, false});
  join::BackfillSql sql = join::backfill_sql(used_voucher(), during, join_to_column());
  EXPECT_NE(sql.lock.find("FOR NO KEY UPDATE"), std::string::npos);
  EXPECT_EQ(sql.lock.find("used_voucher"), std::string::npos);  // the lock reads no join row
  EXPECT_NE(sql.copy.find("UPDATE \"public\".\"voucher\" t SET \"user_id\" = w.\"user_id\""),
            std::string::npos);
  // Values compare by binary image (json has no equality operator).
  EXPECT_NE(sql.copy.find(image_distinct_sql("t.\"user_id\"", "w.\"user_id\"")), std::string::npos);
  EXPECT_NE(sql.conflicts.find(image_distinct_sql("t.\"user_id\"", "w.\"user_id\"")),
            std::string::npos);
  EXPECT_NE(sql.first_keys.find("FROM \"public\".\"used_voucher\" w"), std::string::npos);
  EXPECT_EQ(sql.first_keys.find(" > ($1"), std::string::npos);
  EXPECT_NE(sql.next_keys.find("w.\"voucher_id\" > ($1::pg_catalog.text[])[1]::integer"),
            std::string::npos);
  EXPECT_NE(sql.conflicts.find("LEFT JOIN \"public\".\"voucher\" t"), std::string::npos);
  // A conflict is told apart by what the target holds after the copy: no row
  // of the key, or a row with another value.
  EXPECT_NE(sql.conflicts.find("pg_catalog.count(*) FILTER (WHERE t.\"id\" IS NULL)"),
            std::string::npos);
  EXPECT_NE(sql.conflicts.find("FILTER (WHERE t.\"id\" IS NOT NULL)"), std::string::npos);
  // Both keys integer: a batch is a key range, read by one range scan per
  // index, with no list of keys.
  EXPECT_TRUE(sql.by_range);
  EXPECT_NE(sql.lock.find("t.\"id\" >= ($1::pg_catalog.text[])[1]::integer AND t.\"id\" <= "
                          "($2::pg_catalog.text[])[1]::integer"),
            std::string::npos);
  EXPECT_EQ(sql.copy.find("ANY"), std::string::npos);
  TableDesc wide = during;
  wide.columns[0].type_sql = "bigint";
  EXPECT_FALSE(join::backfill_sql(used_voucher(), wide, join_to_column()).by_range);
  std::string diff = join::difference_sql(used_voucher(), during, join_to_column());
  EXPECT_NE(diff.find("EXCEPT"), std::string::npos);
  EXPECT_NE(diff.find("UNION ALL"), std::string::npos);
}

TEST(ColumnToJoin, BeginCreatesTheJoinTableWithTheTargetsPrivileges) {
  Operation op = column_to_join();
  EXPECT_EQ(op.kind, OpKind::ColumnToJoin);
  EXPECT_EQ(op.join_key, "voucher_id");  // <target>_<target_key>
  EXPECT_EQ(op.join_value, "user_id");
  EXPECT_EQ(op.check_name, "used_voucher_voucher_id_key");
  // A column set to NULL with its user is a join row deleted with it.
  EXPECT_EQ(op.references_sql, "REFERENCES public.app_user(id) ON DELETE CASCADE");
  TableDesc t = voucher();
  t.columns.push_back({"user_id", "integer", "", false, false, false});
  Statements begin = begin_statements(t, op);
  EXPECT_EQ(begin[0],
            "CREATE TABLE \"public\".\"used_voucher\" (\"voucher_id\" integer NOT NULL, "
            "\"user_id\" integer NOT NULL, PRIMARY KEY (\"voucher_id\", \"user_id\"), CONSTRAINT "
            "\"used_voucher_voucher_id_key\" UNIQUE (\"voucher_id\"), FOREIGN KEY (\"voucher_id\") "
            "REFERENCES \"public\".\"voucher\" (\"id\") ON DELETE CASCADE, FOREIGN KEY "
            "(\"user_id\") REFERENCES public.app_user(id) ON DELETE CASCADE)");
  EXPECT_TRUE(contains(begin, "ALTER TABLE \"public\".\"used_voucher\" OWNER TO \"app_owner\""));
  EXPECT_TRUE(contains(begin, "GRANT INSERT ON \"public\".\"used_voucher\" TO \"app\""));
  EXPECT_TRUE(contains(begin, "GRANT SELECT ON \"public\".\"used_voucher\" TO PUBLIC"));
  EXPECT_TRUE(contains(begin, "CREATE TRIGGER \"0zdm_lock_8\" BEFORE INSERT"));
  EXPECT_TRUE(contains(begin,
                       "CREATE TRIGGER \"0zdm_sync_8\" AFTER INSERT OR UPDATE OF \"id\", "
                       "\"user_id\" OR DELETE ON \"public\".\"voucher\""));
}

TEST(ColumnToJoin, FinishDropsTheColumnAndTheUniqueAbortDropsTheJoinTable) {
  Operation op = column_to_join();
  TableDesc t = voucher();
  t.columns.push_back({"user_id", "integer", "", false, false, false});
  Statements finish = finish_statements(t, op);
  EXPECT_TRUE(contains(finish,
                       "ALTER TABLE \"public\".\"used_voucher\" DROP CONSTRAINT "
                       "\"used_voucher_voucher_id_key\""));
  EXPECT_EQ(finish.back(), "ALTER TABLE \"public\".\"voucher\" DROP COLUMN \"user_id\"");
  EXPECT_FALSE(contains(finish, "DROP TABLE"));
  Statements abort = abort_statements(t, op);
  EXPECT_EQ(abort.back(), "DROP TABLE \"public\".\"used_voucher\"");
  EXPECT_FALSE(contains(abort, "DROP COLUMN"));
  // The join table dropped by hand holds the only copy of new writes: finish
  // refuses to drop the column.
  op.join_name.clear();
  EXPECT_EQ(code_of([&] { finish_statements(t, op); }), ErrorCode::InvalidState);
}

TEST(ColumnToJoin, BackfillCopiesOnlyRowsWithoutAJoinRow) {
  TableDesc t = voucher();
  t.columns.push_back({"user_id", "integer", "", false, false, false});
  TableDesc j;
  j.schema = "public";
  j.name = "used_voucher";
  j.columns = {{"voucher_id", "integer", "", true, false, false},
               {"user_id", "integer", "", true, false, false}};
  join::BackfillSql sql = join::backfill_sql(j, t, column_to_join());
  EXPECT_NE(sql.lock.find("FOR SHARE"), std::string::npos);
  EXPECT_NE(sql.copy.find("NOT EXISTS"), std::string::npos);
  EXPECT_NE(sql.copy.find("IS NOT NULL"), std::string::npos);
  EXPECT_NE(sql.first_keys.find("FROM \"public\".\"voucher\" w"), std::string::npos);
}

TEST(ColumnToJoin, Preconditions) {
  TableDesc t = voucher();
  t.columns.push_back({"user_id", "integer", "", false, false, false});
  auto refuse = [&](const TableDesc& table, ColumnToJoinRequest request) {
    return code_of([&] { join::validate_column_to_join(table, request, {}); });
  };
  EXPECT_EQ(refuse(t, {"id", "nope", "j", "", ""}), ErrorCode::UndefinedColumn);
  EXPECT_EQ(refuse(t, {"nope", "user_id", "j", "", ""}), ErrorCode::UndefinedColumn);
  EXPECT_EQ(refuse(t, {"id", "id", "j", "", ""}), ErrorCode::InvalidParameter);
  EXPECT_EQ(refuse(t, {"user_id", "id", "j", "", ""}), ErrorCode::InvalidState);  // not unique
  EXPECT_EQ(refuse(t, {"id", "user_id", "", "", ""}), ErrorCode::InvalidParameter);
  EXPECT_EQ(refuse(t, {"id", "user_id", "j", "k", "k"}), ErrorCode::InvalidParameter);
  EXPECT_EQ(refuse(t, {"id", "user_id", std::string(64, 'j'), "", ""}),
            ErrorCode::InvalidParameter);
  TableDesc generated = t;
  generated.columns.back().generated = true;
  EXPECT_EQ(refuse(generated, {"id", "user_id", "j", "", ""}), ErrorCode::FeatureNotSupported);
}

TEST(JoinOperations, AreNotServedByTheDualWriteTrigger) {
  Operation join = join_to_column();
  EXPECT_TRUE(trigger_args({join}).empty());
  EXPECT_TRUE(create_dual_write_trigger(voucher(), {join}).empty());
  TableDesc with_trigger = voucher();
  with_trigger.has_dual_write_trigger = true;
  Statements s = with_dual_write_trigger(with_trigger, {"X"}, {join});
  ASSERT_EQ(s.size(), 2u);  // the old trigger dropped, none recreated for a join operation
  EXPECT_EQ(s[1], "X");
}
