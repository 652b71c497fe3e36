// drop_table: one plan for begin, backfill, finish and abort.
//
// Nothing changes during the window: the old app keeps the table, the new app
// no longer uses it. finish drops it (src/pg refuses first while views,
// foreign keys or other objects outside the table need it, naming them);
// abort has nothing to undo. The operation records the table's name in column.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::drop_table {

Operation validate(const TableDesc& table, const std::vector<Operation>& open_on_table);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::drop_table
