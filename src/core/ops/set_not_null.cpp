#include "core/ops/set_not_null.hpp"

#include "core/error.hpp"
#include "core/ops/add_check.hpp"
#include "core/ops/alter_type.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::set_not_null {

namespace {

bool uses_shadow(const Operation& op) { return !op.new_column.empty(); }

bool is_validated(const TableDesc& table, const std::string& name) {
  for (const CheckConstraint& c : table.checks)
    if (c.name == name) return c.validated;
  return false;
}

}  // namespace

Operation validate(const TableDesc& table, const SetNotNullRequest& request,
                   const std::vector<Operation>& open_on_table) {
  check_identifier("column_name", request.column);
  const Column& column = require_column(
      table, request.column, "Check the column name with \\d " + table.qualified() + ".");
  if (column.not_null)
    throw Error(ErrorCode::InvalidParameter,
                column_of(table, request.column) + " is already NOT NULL", {},
                "There is nothing to migrate.");
  if (request.has_up) alter_type::check_can_shadow(table, column, "set NOT NULL with up on");

  Operation op;
  op.kind = OpKind::SetNotNull;
  op.column = request.column;
  op.not_null = true;
  if (!request.has_up) {
    op.check_name = free_constraint_name(table, request.column + "_not_null");
    check_overlaps(table, op, open_on_table);
    return op;
  }
  if (request.up.empty()) throw Error(ErrorCode::InvalidParameter, "up must not be empty");
  op.new_column = alter_type::shadow_name(table, request.column);
  op.type_sql = type_with_collation(column);
  op.up = request.up;
  op.check_name = free_constraint_name(table, op.new_column + "_not_null");
  op.default_sql = table.default_of(request.column);
  op.storage_settable = table.extras_of(request.column).storage_settable;
  check_overlaps(table, op, {op.column}, {}, open_on_table);
  return op;
}

Statements begin(const TableDesc& table, const Operation& op) {
  if (uses_shadow(op)) return alter_type::begin(table, op);
  return {alter_table(table) + "ADD CONSTRAINT " + quote_ident(op.check_name) + " CHECK (" +
          quote_ident(op.column) + " IS NOT NULL) NOT VALID"};
}

bool needs_backfill(const Operation& op) { return uses_shadow(op); }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  // A NULL in the column is converted too: `up` maps it to a value.
  return BackfillSpec{op.column, "t." + quote_ident(op.new_column) + " IS NULL"};
}

Statements finish_validation(const TableDesc& table, const Operation& op) {
  if (uses_shadow(op)) return alter_type::finish_validation(table, op);
  if (!table.has_constraint(op.check_name) || is_validated(table, op.check_name)) return {};
  return {alter_table(table) + "VALIDATE CONSTRAINT " + quote_ident(op.check_name)};
}

Statements finish(const TableDesc& table, const Operation& op) {
  if (uses_shadow(op)) return alter_type::finish(table, op);
  require_column(table, op.column, "Abort the migration with zdm.abort() and start again.");
  // SET NOT NULL finds the valid check and skips its scan.
  Statements out{alter_table(table) + "ALTER COLUMN " + quote_ident(op.column) + " SET NOT NULL"};
  if (table.has_constraint(op.check_name))
    out.push_back(alter_table(table) + "DROP CONSTRAINT " + quote_ident(op.check_name));
  return out;
}

Statements abort(const TableDesc& table, const Operation& op) {
  if (uses_shadow(op)) return alter_type::abort(table, op);
  if (!table.has_constraint(op.check_name)) return {};
  return {alter_table(table) + "DROP CONSTRAINT " + quote_ident(op.check_name)};
}

std::string violations_sql(const TableDesc& table, const Operation& op) {
  Operation check = op;
  check.up = quote_ident(uses_shadow(op) ? op.new_column : op.column) + " IS NOT NULL";
  return add_check::violations_sql(table, check);
}

}  // namespace zdm::core::set_not_null
