// set_not_null: one plan for begin, backfill, finish and abort.
//
// Without `up`, the column itself becomes NOT NULL: begin adds CHECK (column
// IS NOT NULL) NOT VALID, so every new write (the old app's too) is bound at
// once; finish counts the rows that still hold NULL (and refuses, naming up to
// 10 keys), VALIDATEs the check under SHARE UPDATE EXCLUSIVE, then SET NOT
// NULL (no scan: PostgreSQL 12+ proves it from the valid check) and drops the
// check. abort drops the check. No trigger, no backfill.
//
// With `up` (the old app still writes NULLs), it is alter_type to the same
// type: a shadow column "<column>_new" that holds `up` (e.g. coalesce(email,
// 'unknown')) under a NOT VALID NOT NULL check, kept in sync by the dual-write
// trigger (the shadow's writes copy back unchanged), backfilled, and swapped
// in at finish, where it becomes NOT NULL for real.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::set_not_null {

Operation validate(const TableDesc& table, const SetNotNullRequest& request,
                   const std::vector<Operation>& open_on_table);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);
// One row: how many rows hold NULL in the column that becomes NOT NULL (the
// shadow column with `up`), and the first 10 of their keys, or NULL.
std::string violations_sql(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::set_not_null
