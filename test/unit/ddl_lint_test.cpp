#include <gtest/gtest.h>

#include "core/ddl_lint.hpp"

using namespace zdm::core;

namespace {

DdlFacts alter(AlterFacts command) {
  DdlFacts facts;
  facts.kind = DdlFacts::Kind::AlterTable;
  facts.relation = "public.t";
  facts.commands.push_back(command);
  return facts;
}

AlterFacts command(AlterFacts::Kind kind) {
  AlterFacts c;
  c.kind = kind;
  c.column = "c";
  return c;
}

}  // namespace

TEST(DdlLint, CreateIndexNeedsConcurrentlyWhichCannotRunHere) {
  DdlFacts facts;
  facts.kind = DdlFacts::Kind::CreateIndex;
  DdlVerdict plain = lint_ddl(facts);
  EXPECT_TRUE(plain.refused);
  EXPECT_FALSE(plain.cannot_run_here);  // force may run it
  EXPECT_NE(plain.hint.find("CONCURRENTLY"), std::string::npos);
  facts.concurrently = true;
  DdlVerdict concurrent = lint_ddl(facts);
  EXPECT_TRUE(concurrent.refused);
  EXPECT_TRUE(concurrent.cannot_run_here);  // not even with force
}

TEST(DdlLint, ConstraintsMustBeNotValid) {
  for (AlterFacts::Kind kind : {AlterFacts::Kind::AddForeignKey, AlterFacts::Kind::AddCheck}) {
    AlterFacts c = command(kind);
    EXPECT_TRUE(lint_ddl(alter(c)).refused);
    EXPECT_NE(lint_ddl(alter(c)).hint.find("VALIDATE CONSTRAINT"), std::string::npos);
    c.not_valid = true;
    EXPECT_FALSE(lint_ddl(alter(c)).refused);
  }
}

TEST(DdlLint, UniqueNeedsAnIndexBuiltBefore) {
  AlterFacts c = command(AlterFacts::Kind::AddIndexBacked);
  EXPECT_TRUE(lint_ddl(alter(c)).refused);
  c.using_index = true;
  EXPECT_FALSE(lint_ddl(alter(c)).refused);
}

TEST(DdlLint, TypeChangeRefusedOnlyWhenItRewrites) {
  AlterFacts c = command(AlterFacts::Kind::AlterColumnType);
  EXPECT_FALSE(lint_ddl(alter(c)).refused);
  c.type_change_rewrites = true;
  DdlVerdict v = lint_ddl(alter(c));
  EXPECT_TRUE(v.refused);
  EXPECT_NE(v.hint.find("zdm.begin_alter_type"), std::string::npos);
}

TEST(DdlLint, SetNotNullNeedsAValidCheck) {
  AlterFacts c = command(AlterFacts::Kind::SetNotNull);
  EXPECT_TRUE(lint_ddl(alter(c)).refused);
  c.has_valid_not_null_check = true;
  EXPECT_FALSE(lint_ddl(alter(c)).refused);
  c.has_valid_not_null_check = false;
  c.already_not_null = true;
  EXPECT_FALSE(lint_ddl(alter(c)).refused);
}

TEST(DdlLint, AddColumnRefusedWhenItRewritesOrScans) {
  AlterFacts c = command(AlterFacts::Kind::AddColumn);
  EXPECT_FALSE(lint_ddl(alter(c)).refused);
  c.volatile_default = true;
  EXPECT_TRUE(lint_ddl(alter(c)).refused);
  c.volatile_default = false;
  c.stored_generated = true;
  EXPECT_TRUE(lint_ddl(alter(c)).refused);
  c.stored_generated = false;
  c.validates_constraint = true;
  EXPECT_TRUE(lint_ddl(alter(c)).refused);
}

TEST(DdlLint, OneRefusedSubcommandRefusesTheStatement) {
  DdlFacts facts = alter(command(AlterFacts::Kind::AddColumn));
  facts.commands.push_back(command(AlterFacts::Kind::AddCheck));
  EXPECT_TRUE(lint_ddl(facts).refused);
}

TEST(DdlLint, RewritesAndMaintenance) {
  EXPECT_TRUE(lint_ddl(alter(command(AlterFacts::Kind::Rewrite))).refused);
  DdlFacts facts;
  facts.kind = DdlFacts::Kind::Cluster;
  EXPECT_TRUE(lint_ddl(facts).refused);
  facts.kind = DdlFacts::Kind::Vacuum;
  facts.full = true;
  EXPECT_TRUE(lint_ddl(facts).cannot_run_here);
  facts.kind = DdlFacts::Kind::TransactionControl;
  EXPECT_TRUE(lint_ddl(facts).cannot_run_here);
}

TEST(DdlLint, ExactlyOneStatement) {
  DdlFacts facts;
  facts.statements = 2;
  EXPECT_TRUE(lint_ddl(facts).cannot_run_here);
  facts.statements = 0;
  EXPECT_TRUE(lint_ddl(facts).cannot_run_here);
  facts.statements = 1;
  EXPECT_FALSE(lint_ddl(facts).refused);  // anything else runs, lock-safe
}
