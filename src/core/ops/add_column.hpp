// add_column: one plan for begin, backfill, finish and abort.
//
// The column appears at begin with no default and, when it must be NOT NULL, a
// CHECK (c IS NOT NULL) NOT VALID that binds new writes at once. Old-side
// writes fill it with `up`, compiled into the dual-write trigger. finish
// validates the check (under a lock that lets traffic through), then sets NOT
// NULL, drops the check and sets the default.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::add_column {

Operation validate(const TableDesc& table, const AddColumnRequest& request,
                   const std::vector<Operation>& open_on_table);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::add_column
