// Small pieces every operation's plan uses.
#pragma once

#include <string>

#include "core/model.hpp"
#include "core/plan.hpp"

namespace zdm::core {

// "column "c" of table "s"."t""
std::string column_of(const TableDesc& table, const std::string& column);

// The column, or an UndefinedColumn error with `hint`.
const Column& require_column(const TableDesc& table, const std::string& column,
                             const std::string& hint);

// A constraint name derived from `base` that the table does not use yet.
std::string free_constraint_name(const TableDesc& table, const std::string& base);

// "type" or "type COLLATE coll": what a column copied from `column` is declared as.
std::string type_with_collation(const Column& column);

// "ALTER TABLE "s"."t" "
std::string alter_table(const TableDesc& table);

// How carry_extras treats what the receiving column already has.
enum class Carry {
  FillGaps,  // keep the receiver's own comment, statistics target, options, storage
  Override,  // `from`'s win wherever it has them
};

// The statements that give column `to_name` (its name when they run) what is
// attached to `from`: every column privilege `to` lacks (GRANT ... (column),
// grantee and grant option kept), and its comment, statistics target, options
// (n_distinct, ...), storage and compression, as `carry` says. Storage and
// compression only when `storage_settable` (the receiving type is not a
// fixed-length PLAIN one). `to` describes what the receiver has now.
Statements carry_extras(const TableDesc& table, const ColumnExtras& from, const ColumnExtras& to,
                        const std::string& to_name, Carry carry, bool storage_settable);

// The column privileges that every one of `columns` grants (same grantee,
// privilege; with grant option only if all have it): what a column computed
// from them inherits.
std::vector<ColumnGrant> grants_common_to(const TableDesc& table,
                                          const std::vector<std::string>& columns);

// rename_table and drop_table act on the whole table. drop_table composes with
// nothing on its table; rename_table composes with the operations that change
// no column (create_index, add_check, set_not_null without up, ...), not with
// those that add, drop, rename or shadow columns (the view under the old name
// shows the columns as they were at begin) nor with another rename_table.
// Throws ObjectInUse naming the open operation; `op` is the one being begun.
void check_table_operations(const TableDesc& table, const Operation& op,
                            const std::vector<Operation>& open_on_table);

}  // namespace zdm::core
