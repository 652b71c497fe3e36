#include "core/ops/drop_column.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::drop_column {

Operation validate(const TableDesc& table, const DropColumnRequest& request,
                   const std::vector<Operation>& open_on_table) {
  check_identifier("column_name", request.column);
  const Column& column = require_column(
      table, request.column, "Check the column name with \\d " + table.qualified() + ".");
  if (std::find(table.primary_key.begin(), table.primary_key.end(), request.column) !=
      table.primary_key.end())
    throw Error(ErrorCode::WrongObjectType,
                column_of(table, request.column) + " is part of the primary key",
                "Rows are found by their primary key; dropping part of it changes every key.",
                "Give the table a new primary key first.");
  if (column.generated)
    throw Error(ErrorCode::WrongObjectType, column_of(table, request.column) + " is generated",
                "It is computed by PostgreSQL, so the old app already reads it correctly.",
                "Drop it with ALTER TABLE ... DROP COLUMN once no old app reads it.");
  if (column.not_null && request.down.empty())
    throw Error(ErrorCode::InvalidParameter,
                column_of(table, request.column) + " is NOT NULL, so it needs a down expression",
                "New-side writes leave the column out; without down they would violate NOT NULL.",
                "Pass down => 'an expression over the new-side columns'.");
  Operation op;
  op.kind = OpKind::DropColumn;
  op.column = request.column;
  op.down = request.down;
  check_overlaps(table, op, open_on_table);
  return op;
}

Statements begin(const TableDesc&, const Operation&) { return {}; }

bool needs_backfill(const Operation&) { return false; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  return BackfillSpec{op.column, "false"};  // never run: needs_backfill() is false
}

Statements finish_validation(const TableDesc&, const Operation&) { return {}; }

Statements finish(const TableDesc& table, const Operation& op) {
  if (table.find_column(op.column) == nullptr) return {};  // already gone: nothing to do
  return {alter_table(table) + "DROP COLUMN " + quote_ident(op.column)};
}

Statements abort(const TableDesc&, const Operation&) { return {}; }

}  // namespace zdm::core::drop_column
