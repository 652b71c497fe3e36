// Small pieces every operation's plan uses.
#pragma once

#include <string>

#include "core/model.hpp"

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

}  // namespace zdm::core
