#include "core/ops/add_column.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::add_column {

Operation validate(const TableDesc& table, const AddColumnRequest& request,
                   const std::vector<Operation>& open_on_table) {
  check_identifier("column_name", request.column);
  if (table.find_column(request.column) != nullptr)
    throw Error(ErrorCode::DuplicateColumn, column_of(table, request.column) + " already exists",
                {}, "Choose a column_name that the table does not use.");
  if (request.type_sql.empty()) throw Error(ErrorCode::InvalidParameter, "type must not be empty");
  if (request.not_null && request.up.empty())
    throw Error(ErrorCode::InvalidParameter,
                "not_null needs an up expression for " + column_of(table, request.column),
                "The old app does not know the column, so its inserts could not fill it.",
                "Pass up => 'an expression over the current columns'.");
  Operation op;
  op.kind = OpKind::AddColumn;
  op.column = request.column;
  op.type_sql = request.type_sql;
  op.up = request.up;
  op.not_null = request.not_null;
  op.default_sql = request.default_sql;
  op.up_reads = request.up_reads;
  if (op.not_null) op.check_name = free_constraint_name(table, op.column + "_not_null");
  check_overlaps(table, op, open_on_table);
  return op;
}

Statements begin(const TableDesc& table, const Operation& op) {
  // No default during the window: only the new app fills the column, which is
  // how the trigger tells the two apps' inserts apart.
  Statements out{alter_table(table) + "ADD COLUMN " + quote_ident(op.column) + " " + op.type_sql};
  if (op.not_null)
    out.push_back(alter_table(table) + "ADD CONSTRAINT " + quote_ident(op.check_name) + " CHECK (" +
                  quote_ident(op.column) + " IS NOT NULL) NOT VALID");
  // A role that may read (or write) every column `up` reads may read (or
  // write) what it computes from them.
  ColumnExtras inherited;
  inherited.grants = grants_common_to(table, op.up_reads);
  for (std::string& s : carry_extras(table, inherited, {}, op.column, Carry::FillGaps, false))
    out.push_back(std::move(s));
  return out;
}

bool needs_backfill(const Operation& op) { return !op.up.empty(); }

BackfillSpec backfill(const TableDesc& table, const Operation& op) {
  // Any plain column will do for the no-op write, preferably one outside the
  // primary key (so no UPDATE OF trigger on the key fires); rows written since
  // begin already have the column filled (by up or by the new app).
  const std::string needs_work = "t." + quote_ident(op.column) + " IS NULL";
  // A walk looks for rows it missed at its end: still NULL where up gives a
  // value (up may give NULL: such a row is done). Not with not_null: an update
  // fills the column then (its check reads it), so no row is missed.
  const std::string unconverted = op.not_null ? std::string()
                                              : needs_work + " AND pg_catalog.num_nonnulls(CAST((" +
                                                    op.up + ") AS " + op.type_sql + ")) = 1";
  const Column* fallback = nullptr;
  for (const Column& c : table.columns) {
    if (c.name == op.column || c.generated) continue;
    bool in_key = std::find(table.primary_key.begin(), table.primary_key.end(), c.name) !=
                  table.primary_key.end();
    if (!in_key) return BackfillSpec{c.name, needs_work, unconverted};
    if (fallback == nullptr) fallback = &c;
  }
  if (fallback != nullptr) return BackfillSpec{fallback->name, needs_work, unconverted};
  throw Error(ErrorCode::InvalidState,
              table.qualified() + " has no column that backfill can write besides " + op.column);
}

Statements finish_validation(const TableDesc& table, const Operation& op) {
  if (!op.not_null) return {};
  return {alter_table(table) + "VALIDATE CONSTRAINT " + quote_ident(op.check_name)};
}

Statements finish(const TableDesc& table, const Operation& op) {
  require_column(table, op.column, "Abort the migration with zdm.abort() and start again.");
  Statements out;
  const std::string column = alter_table(table) + "ALTER COLUMN " + quote_ident(op.column) + " ";
  if (op.not_null) {
    // The validated check proves NOT NULL, so SET NOT NULL skips its scan.
    out.push_back(column + "SET NOT NULL");
    out.push_back(alter_table(table) + "DROP CONSTRAINT " + quote_ident(op.check_name));
  }
  if (!op.default_sql.empty()) out.push_back(column + "SET DEFAULT " + op.default_sql);
  return out;
}

Statements abort(const TableDesc& table, const Operation& op) {
  if (table.find_column(op.column) == nullptr) return {};
  return {alter_table(table) + "DROP COLUMN " + quote_ident(op.column)};
}

}  // namespace zdm::core::add_column
