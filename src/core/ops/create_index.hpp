// create_index: one plan for begin, backfill, finish and abort.
//
// Nothing changes for the old app during the window. CREATE INDEX
// CONCURRENTLY cannot run inside a function, so begin only records the index;
// zdm.pending_statements() hands its build to the migration tool (and, after a
// failed build, the DROP INDEX CONCURRENTLY of the invalid leftover first).
// finish refuses until the index exists and is valid, then has nothing to run.
// abort drops the index with a plain DROP INDEX under the runner's lock (brief:
// lock_timeout, retries), since abort is a function too.
//
// Stored as: column_name the index name, up_expr the key list (normalized),
// new_type the access method, not_null whether it is UNIQUE, down_expr the
// predicate (or NULL).
#pragma once

#include "core/plan.hpp"

namespace zdm::core::create_index {

// "<table>_<column>_..._idx" (an expression counts as "expr"), fitted.
std::string default_name(const std::string& table, const std::vector<std::string>& columns);
Operation validate(const TableDesc& table, const CreateIndexRequest& request,
                   const std::vector<Operation>& open_on_table);
std::string build_statement(const TableDesc& table, const Operation& op);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::create_index
