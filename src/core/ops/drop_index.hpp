// drop_index: one plan for begin, backfill, finish and abort.
//
// Nothing changes during the window: the old app may still rely on the index
// (a query plan, an ON CONFLICT inference). finish drops it with a plain DROP
// INDEX inside finish's own short ACCESS EXCLUSIVE step (lock_timeout,
// retries): dropping an index is a catalog change plus unlinking its files,
// with no scan, so CONCURRENTLY would buy nothing but a step outside the
// function. A DROP INDEX CONCURRENTLY handed to the migration tool as a
// pending statement would run before finish, and abort (which must leave the
// table as it was) could not bring the index back. abort runs nothing.
//
// An index that backs a PRIMARY KEY, UNIQUE or EXCLUDE constraint is refused
// (drop the constraint: begin_drop_constraint), and so is one that other
// objects (a foreign key) need. Stored as: column_name the index's name.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::drop_index {

Operation validate(const TableDesc& table, const DropIndexRequest& request,
                   const std::vector<Operation>& open_on_table);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::drop_index
