#include "core/ddl_lint.hpp"

#include "core/quote.hpp"

namespace zdm::core {

namespace {

DdlVerdict refuse(std::string reason, std::string hint) {
  return DdlVerdict{true, false, std::move(reason), std::move(hint)};
}

DdlVerdict cannot_run(std::string reason, std::string hint) {
  return DdlVerdict{true, true, std::move(reason), std::move(hint)};
}

std::string table_of(const DdlFacts& facts) {
  return facts.relation.empty() ? std::string("the table") : facts.relation;
}

DdlVerdict lint_alter(const DdlFacts& facts, const AlterFacts& c) {
  const std::string table = table_of(facts);
  const std::string column = quote_ident(c.column.empty() ? "c" : c.column);
  switch (c.kind) {
    case AlterFacts::Kind::AddForeignKey:
      if (c.not_valid) return {};
      return refuse(
          "ADD FOREIGN KEY without NOT VALID scans " + table +
              " while it holds a SHARE ROW EXCLUSIVE lock on both tables: writes stop for the "
              "whole scan",
          "Add it NOT VALID (new writes are checked at once), then run ALTER TABLE ... "
          "VALIDATE CONSTRAINT in a second zdm.run_ddl: validation lets reads and writes "
          "through.");
    case AlterFacts::Kind::AddCheck:
      if (c.not_valid) return {};
      return refuse("ADD CHECK without NOT VALID scans " + table +
                        " under an ACCESS EXCLUSIVE lock: reads and writes stop for the whole scan",
                    "Add it NOT VALID, then run ALTER TABLE ... VALIDATE CONSTRAINT in a second "
                    "zdm.run_ddl: validation lets reads and writes through.");
    case AlterFacts::Kind::AddIndexBacked:
      if (c.using_index) return {};
      return refuse(
          "ADD PRIMARY KEY, UNIQUE or EXCLUDE builds its index on " + table +
              " under an ACCESS EXCLUSIVE lock: reads and writes stop for the whole build",
          "Build the index first with CREATE UNIQUE INDEX CONCURRENTLY (top-level, not through "
          "zdm.run_ddl), then ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING "
          "INDEX) through zdm.run_ddl.");
    case AlterFacts::Kind::AddColumn:
      if (c.volatile_default || c.stored_generated)
        return refuse("ADD COLUMN " + column +
                          (c.stored_generated ? " as a stored generated or identity column"
                                              : " with a volatile default") +
                          " rewrites " + table +
                          " under an ACCESS EXCLUSIVE lock: reads and writes stop for the "
                          "whole rewrite",
                      "Add the column without a default (or with a constant one), set the "
                      "default in a second statement, and fill existing rows in batches "
                      "(zdm.begin_add_column with up does all three).");
      if (c.validates_constraint)
        return refuse("ADD COLUMN " + column +
                          " with an inline CHECK or REFERENCES validates it "
                          "by scanning " +
                          table + " under the column's lock",
                      "Add the column plain, then add the constraint NOT VALID and validate it "
                      "in a separate statement.");
      return {};
    case AlterFacts::Kind::AlterColumnType:
      if (!c.type_change_rewrites) return {};
      return refuse("ALTER COLUMN " + column + " TYPE rewrites (or scans) " + table +
                        " under an ACCESS EXCLUSIVE lock: reads and writes stop for the whole "
                        "rewrite",
                    "Use zdm.begin_alter_type, which converts the rows in batches while both "
                    "app versions keep writing.");
    case AlterFacts::Kind::SetNotNull:
      if (c.has_valid_not_null_check || c.already_not_null) return {};
      return refuse("SET NOT NULL on " + column + " scans " + table +
                        " under an ACCESS EXCLUSIVE lock: reads and writes stop for the whole "
                        "scan",
                    "First ADD CONSTRAINT ... CHECK (" + column +
                        " IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT it (each through "
                        "zdm.run_ddl); SET NOT NULL then uses the validated check and does not "
                        "scan.");
    case AlterFacts::Kind::Rewrite:
      return refuse("this ALTER TABLE rewrites " + table +
                        " under an ACCESS EXCLUSIVE lock: reads and writes stop for the whole "
                        "rewrite",
                    "Plan it for a maintenance window, or copy the table with an online tool.");
    case AlterFacts::Kind::Other:
      return {};
  }
  return {};
}

}  // namespace

DdlVerdict lint_ddl(const DdlFacts& facts) {
  if (facts.statements != 1)
    return cannot_run(
        "zdm.run_ddl runs exactly one statement, not " + std::to_string(facts.statements),
        "Call zdm.run_ddl once per statement: each is locked, retried and logged "
        "on its own.");
  switch (facts.kind) {
    case DdlFacts::Kind::CreateIndex:
      if (facts.concurrently)
        return cannot_run("CREATE INDEX CONCURRENTLY cannot run inside a function",
                          "Run it top-level from the migration tool, after SET lock_timeout "
                          "(it waits for every open transaction on the table, but blocks no "
                          "writes).");
      return refuse("CREATE INDEX without CONCURRENTLY blocks writes to " + table_of(facts) +
                        " for the whole build",
                    "Run CREATE INDEX CONCURRENTLY top-level from the migration tool (it "
                    "cannot run inside a function).");
    case DdlFacts::Kind::Reindex:
      if (facts.concurrently)
        return cannot_run("REINDEX CONCURRENTLY cannot run inside a function",
                          "Run it top-level from the migration tool.");
      return refuse("REINDEX without CONCURRENTLY blocks writes for the whole rebuild",
                    "Run REINDEX CONCURRENTLY top-level from the migration tool.");
    case DdlFacts::Kind::Vacuum:
      if (facts.full)
        return cannot_run(
            "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock, and "
            "VACUUM cannot run inside a function",
            "Use pg_repack, or plan it for a maintenance window.");
      return cannot_run("VACUUM cannot run inside a function",
                        "Run it top-level; a plain VACUUM takes no lock that stops traffic.");
    case DdlFacts::Kind::Cluster:
      return refuse("CLUSTER rewrites " + table_of(facts) +
                        " under an ACCESS EXCLUSIVE lock: reads and writes stop for the whole "
                        "rewrite",
                    "Use pg_repack, or plan it for a maintenance window.");
    case DdlFacts::Kind::TransactionControl:
      return cannot_run("zdm.run_ddl runs DDL, not transaction control",
                        "Leave BEGIN, COMMIT and SAVEPOINT to the migration tool.");
    case DdlFacts::Kind::AlterTable:
      for (const AlterFacts& c : facts.commands) {
        DdlVerdict v = lint_alter(facts, c);
        if (v.refused) return v;
      }
      return {};
    case DdlFacts::Kind::Other:
      return {};
  }
  return {};
}

}  // namespace zdm::core
