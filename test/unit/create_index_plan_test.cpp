#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/ops/create_index.hpp"
#include "core/ops/drop_column.hpp"
#include "core/plan.hpp"
#include "support.hpp"

using namespace zdm::core;
using zdm::test::code_of;

namespace {

TableDesc person() {
  TableDesc t;
  t.schema = "public";
  t.name = "person";
  t.columns = {{"id", "bigint", "", true, false, false},
               {"email", "text", "", false, false, false}};
  Index pkey;
  pkey.name = "person_pkey";
  pkey.method = "btree";
  pkey.unique = true;
  pkey.keys = {"id"};
  t.indexes = {pkey};
  return t;
}

CreateIndexRequest email_request() {
  CreateIndexRequest r;
  r.name = "person_email_idx";
  r.keys = {"\"email\""};
  r.columns = {"email"};
  r.unique = true;
  return r;
}

}  // namespace

TEST(CreateIndex, BuildsConcurrentlyThroughPendingStatementsOnly) {
  Operation op = create_index::validate(person(), email_request(), {});
  op.migration = "m";
  EXPECT_EQ(op.kind, OpKind::CreateIndex);
  EXPECT_TRUE(op.claimed_columns().empty());
  EXPECT_TRUE(begin_statements(person(), op).empty());
  EXPECT_FALSE(needs_backfill(op));
  EXPECT_EQ(concurrent_index_statements(person(), op),
            Statements{"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"person_email_idx\" ON "
                       "\"public\".\"person\" USING \"btree\" (\"email\")"});
  EXPECT_EQ(required_indexes(person(), op), std::vector<std::string>{"person_email_idx"});
  EXPECT_TRUE(finish_statements(person(), op).empty());
  // No trigger: nothing changes for a write.
  EXPECT_TRUE(create_dual_write_trigger(person(), {op}).empty());
}

TEST(CreateIndex, PartialIndexKeepsItsPredicate) {
  CreateIndexRequest r = email_request();
  r.unique = false;
  r.method = "hash";
  r.where = "(email <> 'q'::text)";
  Operation op = create_index::validate(person(), r, {});
  EXPECT_EQ(concurrent_index_statements(person(), op)[0],
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"person_email_idx\" ON "
            "\"public\".\"person\" USING \"hash\" (\"email\") WHERE (email <> 'q'::text)");
}

TEST(CreateIndex, AbortDropsOnlyWhatWasBuilt) {
  Operation op = create_index::validate(person(), email_request(), {});
  EXPECT_TRUE(abort_statements(person(), op).empty());
  TableDesc built = person();
  Index index;
  index.name = "person_email_idx";
  built.indexes.push_back(index);
  EXPECT_EQ(abort_statements(built, op),
            Statements{"DROP INDEX IF EXISTS \"public\".\"person_email_idx\""});
}

TEST(CreateIndex, RefusesBadRequests) {
  CreateIndexRequest empty = email_request();
  empty.keys.clear();
  EXPECT_EQ(code_of([&] { create_index::validate(person(), empty, {}); }),
            ErrorCode::InvalidParameter);
  CreateIndexRequest taken = email_request();
  taken.name = "person_pkey";
  EXPECT_EQ(code_of([&] { create_index::validate(person(), taken, {}); }),
            ErrorCode::DuplicateTable);
  Operation open = create_index::validate(person(), email_request(), {});
  open.migration = "other";
  EXPECT_EQ(code_of([&] { create_index::validate(person(), email_request(), {open}); }),
            ErrorCode::DuplicateTable);
  Operation dropping = drop_column::validate(person(), {"email", ""}, {});
  dropping.migration = "d";
  CreateIndexRequest on_dropped = email_request();
  on_dropped.name = "x";
  EXPECT_EQ(code_of([&] { create_index::validate(person(), on_dropped, {dropping}); }),
            ErrorCode::ObjectInUse);
}

TEST(CreateIndex, DefaultName) {
  EXPECT_EQ(create_index::default_name("person", {"email", "lower(name)"}),
            "person_email_expr_idx");
  EXPECT_LE(create_index::default_name(std::string(60, 'p'), {"email"}).size(), 63u);
}
