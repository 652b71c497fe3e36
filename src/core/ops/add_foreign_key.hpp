// add_foreign_key: one plan for begin, backfill, finish and abort.
//
// begin adds FOREIGN KEY ... NOT VALID (it needs SHARE ROW EXCLUSIVE on both
// tables, taken by the lock-safe runner): from then on every new write of
// either app, and every delete or key change on the referenced table, is
// checked, while the existing rows are not scanned under a lock. finish counts
// the rows whose key matches no referenced row (and refuses, naming up to 10),
// then VALIDATE CONSTRAINT runs under SHARE UPDATE EXCLUSIVE (reads and writes
// go on). abort drops the constraint. Stored as: column_name and check_name
// the constraint's name, references_sql its definition (FOREIGN KEY (...)
// REFERENCES ... ON DELETE ...). The referenced table and columns are read
// back from the constraint itself (TableDesc::foreign_keys), so a rename of
// either during the window changes nothing.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::add_foreign_key {

// "<table>_<column>_..._fkey", as PostgreSQL names one.
std::string default_name(const TableDesc& table, const std::vector<std::string>& columns);
// NO ACTION, RESTRICT, CASCADE, SET NULL or SET DEFAULT (any case, spaces
// between words); throws on anything else.
std::string normalize_action(const std::string& action);
Operation validate(const TableDesc& table, const TableDesc& ref,
                   const AddForeignKeyRequest& request, const std::vector<Operation>& open_on_table,
                   const std::vector<Operation>& open_on_ref);
// The operation as its referenced table sees it: it reads ref_reads there (a
// column operation on that table may not change them); its constraint belongs
// to the referencing table, so its name clashes with none there.
Operation referenced_side(const Operation& fk);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);
// One row: how many rows reference nothing (every key column non-NULL, MATCH
// SIMPLE, and no referenced row equal), and the first 10 as "key -> (values)".
// Empty when the constraint is gone.
std::string violations_sql(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::add_foreign_key
