#include <gtest/gtest.h>

#include <set>

#include "core/quote.hpp"

using namespace zdm::core;

TEST(QuoteIdent, AlwaysQuotesAndDoublesQuotes) {
  EXPECT_EQ(quote_ident("simple"), "\"simple\"");
  EXPECT_EQ(quote_ident("Mixed Case"), "\"Mixed Case\"");
  EXPECT_EQ(quote_ident("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote_ident("x; DROP TABLE t; --"), "\"x; DROP TABLE t; --\"");
  EXPECT_EQ(quote_ident(""), "\"\"");
}

TEST(QuoteQualified, JoinsWithDot) {
  EXPECT_EQ(quote_qualified("public", "t\"1"), "\"public\".\"t\"\"1\"");
}

// As PostgreSQL's quote_literal(): a plain literal unless a backslash needs
// the escape-string form.
TEST(QuoteLiteral, PlainLiteralDoublesQuotes) {
  EXPECT_EQ(quote_literal("plain"), "'plain'");
  EXPECT_EQ(quote_literal("release_42"), "'release_42'");
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
  EXPECT_EQ(quote_literal(""), "''");
  EXPECT_EQ(quote_literal("'); DROP TABLE x; --"), "'''); DROP TABLE x; --'");
}

TEST(QuoteLiteral, EscapeStringFormOnlyWithABackslash) {
  EXPECT_EQ(quote_literal("back\\slash"), "E'back\\\\slash'");
  EXPECT_EQ(quote_literal("it's \\"), "E'it''s \\\\'");
  EXPECT_EQ(quote_literal("\\'); DROP TABLE x; --"), "E'\\\\''); DROP TABLE x; --'");
}

TEST(FitIdentifier, ShortNamesAreUntouched) {
  EXPECT_EQ(fit_identifier("surname_not_null"), "surname_not_null");
  std::string exactly63(63, 'a');
  EXPECT_EQ(fit_identifier(exactly63), exactly63);
}

TEST(FitIdentifier, LongNamesAreCutWithADistinguishingHash) {
  std::string a = std::string(70, 'x') + "_a";
  std::string b = std::string(70, 'x') + "_b";
  EXPECT_LE(fit_identifier(a).size(), kMaxIdentifierBytes);
  EXPECT_NE(fit_identifier(a), fit_identifier(b));
  EXPECT_EQ(fit_identifier(a), fit_identifier(a));
}

TEST(FitIdentifier, NeverSplitsAUtf8Character) {
  std::string name;
  for (int i = 0; i < 40; i++) name += "\xC3\xA9";  // é, two bytes each
  std::string fitted = fit_identifier(name);
  ASSERT_LE(fitted.size(), kMaxIdentifierBytes);
  std::string head = fitted.substr(0, fitted.find('_'));
  EXPECT_EQ(head.size() % 2, 0u) << "cut in the middle of a character";
}

TEST(ReadableMigrationName, LowercasesAndReplacesOddCharacters) {
  EXPECT_EQ(readable_migration_name({"rename", "person", "last_name", "to", "surname"}),
            "rename_person_last_name_to_surname");
  EXPECT_EQ(readable_migration_name({"rename", "My Table", "a;b\"c"}), "rename_my_table_a_b_c");
  EXPECT_EQ(readable_migration_name({";;;"}), "migration");
  EXPECT_LE(readable_migration_name({std::string(200, 'q')}).size(), kMaxIdentifierBytes);
}

TEST(UniqueName, SkipsTakenCandidates) {
  std::set<std::string> taken{"m", "m_2"};
  auto is_taken = [&](const std::string& n) { return taken.count(n) > 0; };
  EXPECT_EQ(unique_name("m", is_taken), "m_3");
  EXPECT_EQ(unique_name("free", is_taken), "free");
}

TEST(TriggerName, SortsAfterOrdinaryTriggerNames) {
  // BEFORE triggers fire in name order; zdm must see what user triggers set.
  EXPECT_GT(std::string(dual_write_trigger_name()), std::string("set_updated_at"));
  EXPECT_GT(std::string(dual_write_trigger_name()), std::string("zz_audit"));
}

TEST(ImageDistinct, ComparesWholeRowsThroughTheFunction) {
  EXPECT_EQ(zdm::core::image_distinct_sql("t.\"a\"", "t.\"b\""),
            "NOT pg_catalog.record_image_eq(ROW(t.\"a\"), ROW(t.\"b\"))");
}
