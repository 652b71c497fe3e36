// add_check: one plan for begin, backfill, finish and abort.
//
// begin adds CHECK (expression) NOT VALID: every new write, from the new app
// and the old one alike, is bound by it at once (that is the point: no new
// violating row appears during the window), while the existing rows are not
// scanned under a lock. finish counts the rows that violate it (and refuses,
// naming up to 10 keys), then VALIDATE CONSTRAINT runs under SHARE UPDATE
// EXCLUSIVE (reads and writes go on). abort drops the constraint. The
// operation records the constraint's name in column_name and check_name and
// the normalized expression in up_expr; it claims no column and the dual-write
// trigger does not serve it.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::add_check {

Operation validate(const TableDesc& table, const AddCheckRequest& request,
                   const std::vector<Operation>& open_on_table);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);
// One row: how many rows the expression rejects (is false for), and the first
// 10 of their keys (primary key, else ctid) as text, or NULL.
std::string violations_sql(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::add_check
