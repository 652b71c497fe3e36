#include "core/ops/common.hpp"

#include "core/error.hpp"
#include "core/quote.hpp"

namespace zdm::core {

std::string column_of(const TableDesc& table, const std::string& column) {
  return "column \"" + column + "\" of table " + table.qualified();
}

const Column& require_column(const TableDesc& table, const std::string& column,
                             const std::string& hint) {
  const Column* c = table.find_column(column);
  if (c == nullptr)
    throw Error(ErrorCode::UndefinedColumn, column_of(table, column) + " does not exist", {}, hint);
  return *c;
}

std::string free_constraint_name(const TableDesc& table, const std::string& base) {
  return unique_name(fit_identifier(base),
                     [&](const std::string& candidate) { return table.has_constraint(candidate); });
}

std::string type_with_collation(const Column& column) {
  return column.type_sql + (column.collation_sql.empty() ? "" : " COLLATE " + column.collation_sql);
}

std::string alter_table(const TableDesc& table) { return "ALTER TABLE " + table.qualified() + " "; }

}  // namespace zdm::core
