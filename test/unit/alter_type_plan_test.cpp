// The plan of alter_type: shadow column, index twins built concurrently by the
// migration tool, and the swap at finish.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "core/error.hpp"
#include "core/ops/alter_type.hpp"
#include "core/ops/rename.hpp"
#include "core/plan.hpp"
#include "support.hpp"

using namespace zdm::core;
using zdm::test::code_of;

namespace {

TableDesc acct() {
  TableDesc t;
  t.schema = "public";
  t.name = "acct";
  t.columns = {{"id", "integer", "", true, false, false},
               {"balance", "integer", "", true, false, false},
               {"code", "integer", "", false, false, false},
               {"ref", "integer", "", false, false, false},
               {"ident", "integer", "", true, false, true},
               {"serial_col", "integer", "", true, false, false},
               {"lowered", "text", "", false, false, false}};
  t.primary_key = {"id"};
  t.checks = {{"acct_balance_check", {"balance"}, true}};
  t.constraint_names = {"acct_pkey", "acct_balance_check", "code_unique"};
  Index by_balance;
  by_balance.name = "acct_balance_idx";
  by_balance.method = "btree";
  by_balance.keys = {"balance", "code"};
  by_balance.key_options = {" DESC", ""};
  by_balance.include = {"id"};
  by_balance.uses = {"balance", "code", "id"};
  Index unique_code;
  unique_code.name = "code_unique";
  unique_code.method = "btree";
  unique_code.unique = true;
  unique_code.constraint = "code_unique";
  unique_code.keys = {"code"};
  unique_code.uses = {"code"};
  Index lower_idx;
  lower_idx.name = "acct_lower_idx";
  lower_idx.method = "btree";
  lower_idx.uses = {"lowered"};
  lower_idx.simple = false;
  t.indexes = {by_balance, unique_code, lower_idx};
  t.foreign_key_columns = {"ref"};
  t.defaults = {{"balance", "0"}, {"serial_col", "nextval('acct_serial_col_seq'::regclass)"}};
  return t;
}

Operation widen(const std::string& column) {
  AlterTypeRequest r{column, "bigint", "(" + column + ")::bigint", ""};
  Operation op = alter_type::validate(acct(), r, {});
  op.migration = "widen";
  op.down = "(" + op.new_column + ")::integer";
  return op;
}

}  // namespace

TEST(AlterType, ValidateNamesAShadowColumnAndKeepsNotNullAndDefault) {
  Operation op = widen("balance");
  EXPECT_EQ(op.new_column, "balance_new");
  EXPECT_TRUE(op.not_null);
  EXPECT_EQ(op.check_name, "balance_new_not_null");
  EXPECT_EQ(op.default_sql, "0");
  EXPECT_EQ(op.describe(), "alter_type balance -> bigint (as balance_new)");
}

TEST(AlterType, RefusesWhatItCannotCarryOver) {
  auto alter = [](const std::string& column, const std::string& type) {
    return code_of([&] {
      alter_type::validate(acct(), {column, type, "(" + column + ")::" + type, ""}, {});
    });
  };
  EXPECT_EQ(alter("id", "bigint"), ErrorCode::WrongObjectType);                // primary key
  EXPECT_EQ(alter("ref", "bigint"), ErrorCode::WrongObjectType);               // foreign key
  EXPECT_EQ(alter("ident", "bigint"), ErrorCode::WrongObjectType);             // identity
  EXPECT_EQ(alter("serial_col", "bigint"), ErrorCode::WrongObjectType);        // serial
  EXPECT_EQ(alter("lowered", "varchar(10)"), ErrorCode::FeatureNotSupported);  // expression index
  EXPECT_EQ(alter("balance", "integer"), ErrorCode::InvalidParameter);         // same type
  EXPECT_EQ(alter("nope", "bigint"), ErrorCode::UndefinedColumn);
}

TEST(AlterType, BeginAddsTheShadowWithItsChecks) {
  Statements s = begin_statements(acct(), widen("balance"));
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], "ALTER TABLE \"public\".\"acct\" ADD COLUMN \"balance_new\" bigint");
  EXPECT_EQ(s[1],
            "ALTER TABLE \"public\".\"acct\" ADD CONSTRAINT \"balance_new_not_null\" CHECK "
            "(\"balance_new\" IS NOT NULL) NOT VALID");
  EXPECT_NE(s[2].find("'acct_balance_check_balance_new'"), std::string::npos);
}

TEST(AlterType, IndexTwinsAreBuiltConcurrentlyOnTheShadowColumn) {
  Statements s = concurrent_index_statements(acct(), widen("code"));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0],
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"acct_balance_idx_zdm_new\" ON "
            "\"public\".\"acct\" USING btree (\"balance\" DESC, \"code_new\") INCLUDE (\"id\")");
  EXPECT_EQ(s[1],
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"code_unique_zdm_new\" ON "
            "\"public\".\"acct\" USING btree (\"code_new\")");
  EXPECT_EQ(required_indexes(acct(), widen("code")),
            (std::vector<std::string>{"acct_balance_idx_zdm_new", "code_unique_zdm_new"}));
  Operation rename = rename::validate(acct(), {"code", "code2"}, {});
  EXPECT_TRUE(concurrent_index_statements(acct(), rename).empty());
}

TEST(AlterType, FinishSwapsColumnIndexesAndConstraintsBack) {
  TableDesc t = acct();
  t.columns.push_back({"code_new", "bigint", "", false, false, false});
  Statements f = finish_statements(t, widen("code"));
  EXPECT_EQ(f, (Statements{
                   "ALTER TABLE \"public\".\"acct\" DROP COLUMN \"code\"",
                   "ALTER TABLE \"public\".\"acct\" RENAME COLUMN \"code_new\" TO \"code\"",
                   "ALTER INDEX \"public\".\"acct_balance_idx_zdm_new\" RENAME TO "
                   "\"acct_balance_idx\"",
                   "ALTER INDEX \"public\".\"code_unique_zdm_new\" RENAME TO \"code_unique\"",
                   "ALTER TABLE \"public\".\"acct\" ADD CONSTRAINT \"code_unique\" UNIQUE USING "
                   "INDEX \"code_unique\"",
               }));
}

TEST(AlterType, AbortDropsTheShadowColumn) {
  TableDesc t = acct();
  t.columns.push_back({"balance_new", "bigint", "", false, false, false});
  EXPECT_EQ(abort_statements(t, widen("balance")),
            (Statements{"ALTER TABLE \"public\".\"acct\" DROP COLUMN \"balance_new\""}));
  EXPECT_TRUE(abort_statements(acct(), widen("balance")).empty());
}

TEST(AlterType, TriggerArgumentsCarryBothExpressions) {
  EXPECT_EQ(trigger_args({widen("code")}),
            (std::vector<std::string>{"alter_type", "widen", "code", "code_new", "(code)::bigint",
                                      "(code_new)::integer"}));
}

TEST(AlterType, RefusesAColumnThatOtherObjectsReadAtBegin) {
  TableDesc t = acct();
  t.dependents = {{"code", "view", "view public.code_view"},
                  {"code", "generated column", "generated column twice of table public.acct"},
                  {"balance", "policy", "policy p on table public.acct"}};
  AlterTypeRequest r{"code", "bigint", "(code)::bigint", ""};
  try {
    alter_type::validate(t, r, {});
    ADD_FAILURE() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::ObjectInUse);
    EXPECT_NE(e.detail().find("view public.code_view"), std::string::npos);
    EXPECT_NE(e.detail().find("generated column twice"), std::string::npos);
    EXPECT_NE(e.hint().find("views"), std::string::npos);
    EXPECT_NE(e.hint().find("generated columns"), std::string::npos);
    EXPECT_EQ(e.hint().find("polic"), std::string::npos);
  }
  EXPECT_NO_THROW(alter_type::validate(acct(), r, {}));
}

// new_name: the converted column is created under it and keeps it, so finish
// renames no column (one deploy: the new app's name is the same throughout).
TEST(AlterType, NewNameKeepsTheConvertedColumnsName) {
  AlterTypeRequest r{"code", "bigint", "(code)::bigint", ""};
  r.new_name = "code8";
  Operation op = alter_type::validate(acct(), r, {});
  op.migration = "widen";
  EXPECT_EQ(op.new_column, "code8");
  EXPECT_TRUE(op.keep_new_name);
  TableDesc t = acct();
  t.columns.push_back({"code8", "bigint", "", false, false, false});
  EXPECT_EQ(concurrent_index_statements(t, op)[1],
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"code_unique_zdm_new\" ON "
            "\"public\".\"acct\" USING btree (\"code8\")");
  EXPECT_EQ(finish_statements(t, op),
            (Statements{
                "ALTER TABLE \"public\".\"acct\" DROP COLUMN \"code\"",
                "ALTER INDEX \"public\".\"acct_balance_idx_zdm_new\" RENAME TO "
                "\"acct_balance_idx\"",
                "ALTER INDEX \"public\".\"code_unique_zdm_new\" RENAME TO \"code_unique\"",
                "ALTER TABLE \"public\".\"acct\" ADD CONSTRAINT \"code_unique\" UNIQUE USING "
                "INDEX \"code_unique\"",
            }));
  EXPECT_EQ(abort_statements(t, op),
            (Statements{"ALTER TABLE \"public\".\"acct\" DROP COLUMN \"code8\""}));

  // NOT NULL and the default land on the kept name.
  AlterTypeRequest b{"balance", "bigint", "(balance)::bigint", ""};
  b.new_name = "total";
  Operation total = alter_type::validate(acct(), b, {});
  EXPECT_EQ(total.check_name, "total_not_null");
  t.columns.push_back({"total", "bigint", "", false, false, false});
  Statements f = finish_statements(t, total);
  EXPECT_EQ(f[0], "ALTER TABLE \"public\".\"acct\" DROP COLUMN \"balance\"");
  EXPECT_NE(std::find(f.begin(), f.end(),
                      "ALTER TABLE \"public\".\"acct\" ALTER COLUMN \"total\" SET NOT NULL"),
            f.end());
  EXPECT_NE(std::find(f.begin(), f.end(),
                      "ALTER TABLE \"public\".\"acct\" ALTER COLUMN \"total\" SET DEFAULT 0"),
            f.end());
  for (const std::string& s : f) EXPECT_EQ(s.find("RENAME COLUMN"), std::string::npos) << s;
}

TEST(AlterType, NewNameErrors) {
  auto with_name = [](const std::string& column, const std::string& type,
                      const std::string& new_name) {
    AlterTypeRequest r{column, type, "(" + column + ")::" + type, ""};
    r.new_name = new_name;
    return code_of([&] { alter_type::validate(acct(), r, {}); });
  };
  EXPECT_EQ(with_name("code", "bigint", "balance"), ErrorCode::DuplicateColumn);
  EXPECT_EQ(with_name("code", "bigint", ""), ErrorCode::InvalidParameter);
  EXPECT_EQ(with_name("code", "bigint", std::string(64, 'x')), ErrorCode::InvalidParameter);
  // Its own name: only for a lossless widening.
  EXPECT_EQ(with_name("code", "smallint", "code"), ErrorCode::InvalidParameter);
  AlterTypeRequest r{"code", "bigint", "(code)::bigint", ""};
  r.new_name = "note";  // free
  EXPECT_NO_THROW(alter_type::validate(acct(), r, {}));
  r.new_name = "code";
  Operation op = alter_type::validate(acct(), r, {});
  EXPECT_EQ(op.new_column, "code_new");
  EXPECT_FALSE(op.keep_new_name);
}

TEST(AlterType, LosslessWidenings) {
  EXPECT_TRUE(alter_type::is_lossless_widening("smallint", "integer"));
  EXPECT_TRUE(alter_type::is_lossless_widening("smallint", "bigint"));
  EXPECT_TRUE(alter_type::is_lossless_widening("integer", "bigint"));
  EXPECT_TRUE(alter_type::is_lossless_widening("numeric(8,2)", "numeric(12,2)"));
  EXPECT_TRUE(alter_type::is_lossless_widening("numeric(8,2)", "numeric(8,2)"));
  EXPECT_TRUE(alter_type::is_lossless_widening("character varying(10)", "character varying(20)"));
  EXPECT_TRUE(alter_type::is_lossless_widening("character varying(10)", "character varying"));
  EXPECT_TRUE(alter_type::is_lossless_widening("character varying(10)", "text"));

  EXPECT_FALSE(alter_type::is_lossless_widening("bigint", "integer"));
  EXPECT_FALSE(alter_type::is_lossless_widening("integer", "integer"));
  EXPECT_FALSE(
      alter_type::is_lossless_widening("integer", "numeric"));  // 1.5 would round in the window
  EXPECT_FALSE(alter_type::is_lossless_widening("numeric(8,2)", "numeric(12,4)"));
  EXPECT_FALSE(alter_type::is_lossless_widening("numeric(8,2)", "numeric"));
  EXPECT_FALSE(alter_type::is_lossless_widening("numeric(8,2)", "numeric(6,2)"));
  EXPECT_FALSE(alter_type::is_lossless_widening("numeric", "numeric(12,2)"));
  EXPECT_FALSE(alter_type::is_lossless_widening("character varying(10)", "character varying(5)"));
  EXPECT_FALSE(alter_type::is_lossless_widening("character varying", "text"));
  EXPECT_FALSE(alter_type::is_lossless_widening("text", "character varying(10)"));
  EXPECT_FALSE(
      alter_type::is_lossless_widening("real", "double precision"));  // doubles round in real
  EXPECT_FALSE(
      alter_type::is_lossless_widening("timestamp without time zone", "timestamp with time zone"));
  EXPECT_FALSE(alter_type::is_lossless_widening("timestamp(3) without time zone",
                                                "timestamp(6) without time zone"));
  EXPECT_FALSE(alter_type::is_lossless_widening("public.small", "bigint"));  // a domain: unknown
}
