// rename: one plan for begin, backfill, finish and abort.
//
// During the window the table has both columns; the dual-write trigger keeps
// them equal. finish keeps the old physical column (its indexes, statistics and
// constraints), drops the new copy and renames the old one to the new name.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::rename {

Operation validate(const TableDesc& table, const RenameRequest& request,
                   const std::vector<Operation>& open_on_table);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::rename
