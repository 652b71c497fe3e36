// drop_constraint: one plan for begin, backfill, finish and abort; and the
// instant zdm.rename_constraint.
//
// Nothing changes during the window: the old app may still rely on the
// constraint (an ON CONFLICT target, a cascade, a rule it expects the server to
// enforce). finish drops it in its short step; abort runs nothing. A
// constraint other objects need (a foreign key referencing a PRIMARY KEY or
// UNIQUE, a view grouping by a primary key) is refused at begin and again at
// finish, naming them; so is one that an open operation holds (it adds the
// constraint, or rebuilds it on a shadow column). Stored as: column_name and
// check_name the constraint's name.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::drop_constraint {

Operation validate(const TableDesc& table, const DropConstraintRequest& request,
                   const std::vector<Operation>& open_on_table);
std::string rename_statement(const TableDesc& table, const DropConstraintRequest& request,
                             const std::string& new_name,
                             const std::vector<Operation>& open_on_table);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::drop_constraint
