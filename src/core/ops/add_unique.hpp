// add_unique: one plan for begin, backfill, finish and abort.
//
// A UNIQUE constraint built without a long lock: begin only records it;
// zdm.pending_statements() hands the migration tool its CREATE UNIQUE INDEX
// CONCURRENTLY (CIC cannot run inside a function), and, after a failed build
// (duplicates, a cancel), the DROP INDEX CONCURRENTLY of the invalid leftover
// first. finish refuses while the index is not valid, naming the duplicate keys
// when there are any, then attaches it: ALTER TABLE ... ADD CONSTRAINT ...
// UNIQUE USING INDEX, a catalog change with no scan, in finish's short step.
// abort drops the index (built or failed) under the runner's brief lock.
//
// Nothing changes for the old app until the build: from the moment the index
// is valid, a duplicate write fails, from either app (that is the point).
// Stored as: column_name and check_name the constraint's name (the index has
// the same name), up_expr the quoted key columns.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::add_unique {

std::string default_name(const std::string& table, const std::vector<std::string>& columns);
Operation validate(const TableDesc& table, const AddUniqueRequest& request,
                   const std::vector<Operation>& open_on_table);
std::string build_statement(const TableDesc& table, const Operation& op);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);
std::string duplicates_sql(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::add_unique
