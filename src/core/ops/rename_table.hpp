// rename_table: one plan for begin, backfill, finish and abort.
//
// begin renames the table and puts a view under the old name, in the same
// step: `CREATE VIEW old WITH (security_invoker = true) AS SELECT * FROM new`,
// owned by the table's owner with the table's grants (table and column
// privileges). A view over one table with every column is auto-updatable, so
// the old app's SELECT, INSERT, UPDATE, DELETE, ON CONFLICT and RETURNING go
// through to the table, checked against the caller's own privileges. finish
// drops the view; abort drops it and renames the table back. The operation
// records the old name in column and the new one in new_column; it claims no
// column and needs no trigger and no backfill.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::rename_table {

Operation validate(const TableDesc& table, const RenameTableRequest& request,
                   const std::vector<Operation>& open_on_table);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
// `table` is the renamed table; the view is `op.column` in its schema.
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);
// The view under the old name, schema-qualified and quoted.
std::string view_name(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::rename_table
