#include "core/ops/rename.hpp"
#include "core/ops/common.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/quote.hpp"

namespace zdm::core::rename {

Operation validate(const TableDesc& table, const RenameRequest& request,
                   const std::vector<Operation>& open_on_table) {
  check_identifier("old_name", request.column);
  check_identifier("new_name", request.new_column);
  if (request.column == request.new_column)
    throw Error(ErrorCode::InvalidParameter,
                "old_name and new_name are both \"" + request.column + "\"", {},
                "A rename needs two different names.");

  const Column& old_column = require_column(
      table, request.column, "Check the column name with \\d " + table.qualified() + ".");
  if (table.find_column(request.new_column) != nullptr)
    throw Error(ErrorCode::DuplicateColumn,
                column_of(table, request.new_column) + " already exists", {},
                "Choose a new_name that the table does not use.");
  if (old_column.generated)
    throw Error(ErrorCode::WrongObjectType,
                column_of(table, request.column) + " is a generated column",
                "The dual-write trigger cannot write a generated column.",
                "Rename it with ALTER TABLE ... RENAME COLUMN once no old app reads it.");

  Operation op;
  op.kind = OpKind::Rename;
  op.column = request.column;
  op.new_column = request.new_column;
  check_overlaps(table, op, open_on_table);
  return op;
}

Statements begin(const TableDesc& table, const Operation& op) {
  const Column& old_column = require_column(table, op.column, {});
  const std::string alter = "ALTER TABLE " + table.qualified() + " ";
  const std::string new_col = quote_ident(op.new_column);

  Statements out;
  out.push_back(alter + "ADD COLUMN " + new_col + " " + type_with_collation(old_column));

  // NOT NULL must not make the old app's writes fail before backfill, so it
  // becomes a NOT VALID check: enforced for new writes, not for old rows.
  TableDesc names = table;  // track the names this plan takes
  auto add_check = [&](const std::string& base, const std::string& expression) {
    std::string name = free_constraint_name(names, base);
    names.constraint_names.push_back(name);
    out.push_back(alter + "ADD CONSTRAINT " + quote_ident(name) + " CHECK (" + expression +
                  ") NOT VALID");
  };
  if (old_column.not_null) add_check(op.new_column + "_not_null", new_col + " IS NOT NULL");
  // CHECKs that read the old column are repeated on the new one. The
  // expression is rewritten from its parse tree inside the server (the new
  // column has an attnum only once ADD COLUMN has run), never by text.
  for (const CheckConstraint& check : table.checks) {
    if (std::find(check.columns.begin(), check.columns.end(), op.column) == check.columns.end())
      continue;
    std::string name = free_constraint_name(names, check.name + "_" + op.new_column);
    names.constraint_names.push_back(name);
    out.push_back("SELECT " + quote_qualified("zdm", "copy_check_constraint") + "(" +
                  quote_literal(table.qualified()) + "::pg_catalog.regclass, " +
                  quote_literal(check.name) + ", " + quote_literal(op.column) + ", " +
                  quote_literal(op.new_column) + ", " + quote_literal(name) + ")");
  }
  // The new name carries the column's privileges, comment and settings, so
  // that a role granted the column can use it under either name.
  const ColumnExtras extras = table.extras_of(op.column);
  for (std::string& s :
       carry_extras(table, extras, {}, op.new_column, Carry::FillGaps, extras.storage_settable))
    out.push_back(std::move(s));
  return out;
}

bool needs_backfill(const Operation&) { return true; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  // By binary image: json, xml and point have no equality operator.
  return BackfillSpec{op.column, image_distinct_sql("t." + quote_ident(op.new_column),
                                                    "t." + quote_ident(op.column))};
}

Statements finish_validation(const TableDesc&, const Operation&) { return {}; }

Statements finish(const TableDesc& table, const Operation& op) {
  const std::string hint = "Abort the migration with zdm.abort() and start again.";
  require_column(table, op.column, hint);
  require_column(table, op.new_column, hint);
  const std::string alter = "ALTER TABLE " + table.qualified() + " ";
  Statements out{
      alter + "DROP COLUMN " + quote_ident(op.new_column),
      alter + "RENAME COLUMN " + quote_ident(op.column) + " TO " + quote_ident(op.new_column)};
  // What was granted or set on the new name during the window follows it to
  // the physical column that keeps that name.
  const ColumnExtras kept = table.extras_of(op.column);
  for (std::string& s : carry_extras(table, table.extras_of(op.new_column), kept, op.new_column,
                                     Carry::Override, kept.storage_settable))
    out.push_back(std::move(s));
  return out;
}

Statements abort(const TableDesc& table, const Operation& op) {
  // A new column that someone already dropped by hand leaves nothing to undo.
  if (table.find_column(op.new_column) == nullptr) return {};
  return {"ALTER TABLE " + table.qualified() + " DROP COLUMN " + quote_ident(op.new_column)};
}

}  // namespace zdm::core::rename
