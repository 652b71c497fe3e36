// zdm.run_ddl's linter: which DDL statements take long locks or rewrite the
// table, and what to run instead. src/pg reads the parsed statement into these
// facts (never its text); the verdict is decided here, without a server.
#pragma once

#include <string>
#include <vector>

namespace zdm::core {

// One subcommand of an ALTER TABLE.
struct AlterFacts {
  enum class Kind {
    AddForeignKey,    // ADD [CONSTRAINT] FOREIGN KEY / REFERENCES
    AddCheck,         // ADD [CONSTRAINT] CHECK
    AddIndexBacked,   // ADD PRIMARY KEY / UNIQUE / EXCLUDE
    AddColumn,        // ADD COLUMN
    AlterColumnType,  // ALTER COLUMN ... TYPE
    SetNotNull,       // ALTER COLUMN ... SET NOT NULL
    Rewrite,          // SET TABLESPACE, SET LOGGED/UNLOGGED, SET ACCESS METHOD
    Other,
  };
  Kind kind = Kind::Other;
  std::string column;                     // the column, or the constraint's name when there is one
  bool not_valid = false;                 // AddForeignKey, AddCheck: NOT VALID
  bool using_index = false;               // AddIndexBacked: USING INDEX
  bool type_change_rewrites = false;      // AlterColumnType: the table is rewritten or scanned
  bool has_valid_not_null_check = false;  // SetNotNull: a validated CHECK (c IS NOT NULL)
  bool already_not_null = false;          // SetNotNull: nothing to do
  bool volatile_default = false;          // AddColumn: every row gets a computed value
  bool stored_generated = false;          // AddColumn: GENERATED ... STORED or identity
  bool validates_constraint = false;      // AddColumn: an inline CHECK or REFERENCES
};

struct DdlFacts {
  enum class Kind {
    CreateIndex,
    Reindex,
    AlterTable,
    Vacuum,
    Cluster,
    TransactionControl,
    Other,
  };
  Kind kind = Kind::Other;
  int statements = 1;         // statements in the text: run_ddl runs exactly one
  bool concurrently = false;  // CREATE INDEX / REINDEX CONCURRENTLY
  bool full = false;          // VACUUM FULL
  std::string relation;       // the table named, as written (for messages)
  std::vector<AlterFacts> commands;
};

struct DdlVerdict {
  bool refused = false;
  // Refusals that force cannot override: the statement cannot run inside a
  // function at all (CONCURRENTLY, VACUUM) or is not one statement.
  bool cannot_run_here = false;
  std::string reason;  // "CREATE INDEX without CONCURRENTLY blocks writes ..."
  std::string hint;    // the safe way to get the same result
};

DdlVerdict lint_ddl(const DdlFacts& facts);

}  // namespace zdm::core
