// drop_column: one plan for begin, backfill, finish and abort.
//
// The column stays during the window. A new-side write leaves it out, and the
// dual-write trigger fills it with `down` (over the new-side columns), so the
// old app still reads a correct value. Nothing to backfill: every row already
// has it. finish drops it; abort has nothing to undo but the trigger.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::drop_column {

Operation validate(const TableDesc& table, const DropColumnRequest& request,
                   const std::vector<Operation>& open_on_table);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::drop_column
