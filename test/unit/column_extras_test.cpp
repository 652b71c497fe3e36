// What is attached to a column follows it: privileges, comment, statistics
// target, options, storage and compression.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/ops/alter_type.hpp"
#include "core/ops/common.hpp"
#include "core/ops/rename.hpp"
#include "core/plan.hpp"

using namespace zdm::core;

namespace {

TableDesc acct() {
  TableDesc t;
  t.schema = "public";
  t.name = "acct";
  t.columns = {{"id", "integer", "", true, false, false},
               {"bal", "integer", "", false, false, false},
               {"note", "text", "", false, false, false}};
  t.primary_key = {"id"};
  t.constraint_names = {"acct_pkey"};
  ColumnExtras id;
  id.column = "id";
  id.grants = {{"app", "SELECT", false}};
  id.storage_settable = false;
  ColumnExtras bal;
  bal.column = "bal";
  bal.grants = {{"app", "SELECT", true}, {"app", "UPDATE", false}, {"", "SELECT", false}};
  bal.has_comment = true;
  bal.comment = "it's cents";
  bal.statistics_target = 500;
  bal.options = {{"n_distinct", "-0.5"}};
  bal.storage_settable = false;
  ColumnExtras note;
  note.column = "note";
  note.grants = {{"app", "SELECT", false}, {"we\"ird", "UPDATE", false}};
  note.storage = "EXTERNAL";
  note.compression = "pglz";
  t.extras = {id, bal, note};
  return t;
}

bool has(const Statements& s, const std::string& statement) {
  return std::find(s.begin(), s.end(), statement) != s.end();
}

}  // namespace

TEST(ColumnExtras, CarriedToANewColumnWithQuotedIdentifiers) {
  TableDesc t = acct();
  Statements s = carry_extras(t, t.extras_of("bal"), {}, "bal_new", Carry::FillGaps, false);
  EXPECT_TRUE(has(s,
                  "GRANT SELECT (\"bal_new\") ON \"public\".\"acct\" TO \"app\" WITH GRANT "
                  "OPTION"));
  EXPECT_TRUE(has(s, "GRANT UPDATE (\"bal_new\") ON \"public\".\"acct\" TO \"app\""));
  EXPECT_TRUE(has(s, "GRANT SELECT (\"bal_new\") ON \"public\".\"acct\" TO PUBLIC"));
  EXPECT_TRUE(has(s, "COMMENT ON COLUMN \"public\".\"acct\".\"bal_new\" IS 'it''s cents'"));
  EXPECT_TRUE(
      has(s, "ALTER TABLE \"public\".\"acct\" ALTER COLUMN \"bal_new\" SET STATISTICS 500"));
  EXPECT_TRUE(has(s,
                  "ALTER TABLE \"public\".\"acct\" ALTER COLUMN \"bal_new\" SET "
                  "(\"n_distinct\" = '-0.5')"));
  Statements n = carry_extras(t, t.extras_of("note"), {}, "remark", Carry::FillGaps, true);
  EXPECT_TRUE(has(n, "GRANT UPDATE (\"remark\") ON \"public\".\"acct\" TO \"we\"\"ird\""));
  EXPECT_TRUE(has(n,
                  "ALTER TABLE \"public\".\"acct\" ALTER COLUMN \"remark\" SET STORAGE "
                  "EXTERNAL"));
  EXPECT_TRUE(has(n,
                  "ALTER TABLE \"public\".\"acct\" ALTER COLUMN \"remark\" SET COMPRESSION "
                  "\"pglz\""));
  // A fixed-length PLAIN type takes no storage or compression.
  Statements plain = carry_extras(t, t.extras_of("note"), {}, "n", Carry::FillGaps, false);
  EXPECT_EQ(plain.size(), 2u);
}

TEST(ColumnExtras, FillGapsKeepsTheReceiversOwnAndOverrideReplacesThem) {
  TableDesc t = acct();
  ColumnExtras to;
  to.grants = {{"app", "UPDATE", false}};
  to.has_comment = true;
  to.comment = "mine";
  to.statistics_target = 10;
  Statements fill = carry_extras(t, t.extras_of("bal"), to, "bal", Carry::FillGaps, false);
  EXPECT_EQ(fill.size(), 3u);  // two GRANTs it lacks, n_distinct; no comment, no statistics
  EXPECT_FALSE(has(fill, "GRANT UPDATE (\"bal\") ON \"public\".\"acct\" TO \"app\""));
  Statements over = carry_extras(t, t.extras_of("bal"), to, "bal", Carry::Override, false);
  EXPECT_TRUE(has(over, "COMMENT ON COLUMN \"public\".\"acct\".\"bal\" IS 'it''s cents'"));
  EXPECT_TRUE(has(over, "ALTER TABLE \"public\".\"acct\" ALTER COLUMN \"bal\" SET STATISTICS 500"));
  EXPECT_TRUE(carry_extras(t, {}, {}, "x", Carry::Override, true).empty());
}

TEST(ColumnExtras, AComputedColumnInheritsWhatEveryColumnItReadsGrants) {
  TableDesc t = acct();
  std::vector<ColumnGrant> both = grants_common_to(t, {"id", "bal"});
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(both[0].grantee, "app");
  EXPECT_EQ(both[0].privilege, "SELECT");
  EXPECT_FALSE(both[0].grantable);  // id's SELECT has no grant option
  EXPECT_EQ(grants_common_to(t, {"bal"}).size(), 3u);
  EXPECT_TRUE(grants_common_to(t, {}).empty());
}

TEST(ColumnExtras, RenameAndAlterTypeCarryThemAtBeginAndFinish) {
  TableDesc t = acct();
  Operation rename = rename::validate(t, {"bal", "balance"}, {});
  EXPECT_TRUE(has(begin_statements(t, rename),
                  "GRANT UPDATE (\"balance\") ON \"public\".\"acct\" TO \"app\""));
  // At finish the old physical column keeps the new name and takes what was
  // granted on the new name during the window.
  TableDesc during = t;
  during.columns.push_back({"balance", "integer", "", false, false, false});
  ColumnExtras balance = t.extras_of("bal");
  balance.column = "balance";
  balance.grants.push_back({"audit", "SELECT", false});
  during.extras.push_back(balance);
  Statements finish = finish_statements(during, rename);
  EXPECT_TRUE(has(finish, "GRANT SELECT (\"balance\") ON \"public\".\"acct\" TO \"audit\""));
  EXPECT_FALSE(has(finish, "GRANT UPDATE (\"balance\") ON \"public\".\"acct\" TO \"app\""));

  AlterTypeRequest widen{"bal", "bigint", "bal", ""};
  Operation alter = alter_type::validate(t, widen, {});
  EXPECT_TRUE(has(begin_statements(t, alter),
                  "COMMENT ON COLUMN \"public\".\"acct\".\"bal_new\" IS 'it''s cents'"));
}
