#include <gtest/gtest.h>

#include "core/verify.hpp"

using namespace zdm::core;

namespace {

TableDesc person() {
  TableDesc t;
  t.oid = 1;
  t.schema = "public";
  t.name = "person";
  t.primary_key = {"id"};
  t.columns = {{"id", "integer", "", true, false, false},
               {"last_name", "text", "", true, false, false},
               {"surname", "text", "", false, false, false}};
  return t;
}

Operation op(OpKind kind, const std::string& column, const std::string& new_column = {},
             const std::string& up = {}, const std::string& down = {}) {
  Operation o;
  o.kind = kind;
  o.column = column;
  o.new_column = new_column;
  o.up = up;
  o.down = down;
  return o;
}

}  // namespace

TEST(Verify, RenameComparesTheCopyBothWays) {
  std::string sql = verify_sql(person(), {op(OpKind::Rename, "last_name", "surname")});
  EXPECT_NE(sql.find("record_image_eq(ROW(t.\"surname\"), ROW(t.\"last_name\"))"),
            std::string::npos);
  EXPECT_NE(sql.find("FROM \"public\".\"person\" t"), std::string::npos);
  EXPECT_NE(sql.find("LIMIT 10"), std::string::npos);
  EXPECT_NE(sql.find("t.\"id\"::pg_catalog.text"), std::string::npos);
}

TEST(Verify, SurnamePairIsUpConsistentOrDownConsistent) {
  std::string sql = verify_sql(person(), {op(OpKind::AddColumn, "surname", {}, "last_name"),
                                          op(OpKind::DropColumn, "last_name", {}, {}, "surname")});
  EXPECT_NE(sql.find("CAST((last_name) AS text)"), std::string::npos);
  EXPECT_NE(sql.find("CAST((surname) AS text)"), std::string::npos);
  EXPECT_NE(sql.find(") OR ("), std::string::npos);
}

TEST(Verify, AGroupWithAnEmptySideNeedsNoScan) {
  EXPECT_EQ(verify_sql(person(), {op(OpKind::AddColumn, "surname", {}, "last_name")}), "");
  EXPECT_EQ(verify_sql(person(), {op(OpKind::DropColumn, "last_name", {}, {}, "'x'")}), "");
  EXPECT_EQ(verify_sql(person(), {op(OpKind::AddColumn, "surname")}), "");
}

TEST(Verify, NoPrimaryKeyNamesRowsByCtid) {
  TableDesc t = person();
  t.primary_key.clear();
  EXPECT_NE(verify_sql(t, {op(OpKind::Rename, "last_name", "surname")}).find("t.ctid"),
            std::string::npos);
}
