// The plan builder: for an operation on a described table, the SQL that each
// phase runs. Pure C++; src/pg runs the statements through the lock-safe runner.
#pragma once

#include <string>
#include <vector>

#include "core/model.hpp"

namespace zdm::core {

// How backfill converts one row: a no-op `SET touch = touch` makes the
// dual-write trigger recompute the new side from the old side (backfill is an
// old-side write), restricted to rows for which `needs_work` holds. Both are
// SQL over the table aliased as `t`.
struct BackfillSpec {
  std::string touch_column;
  std::string needs_work;
};

// What one phase does to a table: statements run in order, in one step, under
// one set of locks.
using Statements = std::vector<std::string>;

struct RenameRequest {
  std::string column;
  std::string new_column;
};

// Checks a rename against the table and the operations already open on it and
// returns the operation to record (id and migration are filled in by the caller).
Operation validate_rename(const TableDesc& table, const RenameRequest& request,
                          const std::vector<Operation>& open_on_table);

// The phases of any operation; each dispatches on op.kind to src/core/ops/.
Statements begin_statements(const TableDesc& table, const Operation& op);
Statements finish_statements(const TableDesc& table, const Operation& op);
Statements abort_statements(const TableDesc& table, const Operation& op);
BackfillSpec backfill_spec(const Operation& op);

// The arguments of the dual-write trigger that serves `ops`, in the order the
// trigger parses them: kind, then the kind's columns.
std::vector<std::string> trigger_args(const std::vector<Operation>& ops);

// Surrounds `statements` with the trigger's maintenance: drop the table's
// dual-write trigger, run them, and recreate the trigger for `remaining` (the
// operations still open on the table afterwards), or leave it dropped.
Statements with_dual_write_trigger(const TableDesc& table, Statements statements,
                                   const std::vector<Operation>& remaining);

// Rejects a name that PostgreSQL would silently truncate or cannot store.
void check_identifier(const std::string& what, const std::string& name);

}  // namespace zdm::core
