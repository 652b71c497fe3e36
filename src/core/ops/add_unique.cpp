#include "core/ops/add_unique.hpp"

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::add_unique {

std::string default_name(const std::string& table, const std::vector<std::string>& columns) {
  std::string name = table;
  for (const std::string& c : columns) name += "_" + c;
  return fit_identifier(name + "_key");
}

Operation validate(const TableDesc& table, const AddUniqueRequest& request,
                   const std::vector<Operation>& open_on_table) {
  check_identifier("name", request.name);
  if (request.columns.empty())
    throw Error(ErrorCode::InvalidParameter, "columns must name at least one column", {},
                "Pass columns => ARRAY['a column'].");
  for (std::size_t i = 0; i < request.columns.size(); i++) {
    require_column(table, request.columns[i], "See \\d " + table.qualified() + ".");
    for (std::size_t j = 0; j < i; j++)
      if (request.columns[j] == request.columns[i])
        throw Error(ErrorCode::InvalidParameter,
                    "columns names column \"" + request.columns[i] + "\" twice", {},
                    "Name each column once.");
  }
  if (!request.unorderable.empty())
    throw Error(ErrorCode::FeatureNotSupported,
                "cannot add a UNIQUE constraint on " + request.unorderable + " of table " +
                    table.qualified() + ": the type has no default btree operator class",
                "A UNIQUE constraint needs a btree index, which compares values with the type's "
                "equality; its CREATE UNIQUE INDEX CONCURRENTLY would fail, and finish could "
                "not count duplicates.",
                "Convert the column to a type with one first (json to jsonb: "
                "zdm.begin_alter_type), or use zdm.begin_create_index(..., is_unique => true) "
                "on an expression that has one.");
  if (table.has_constraint(request.name))
    throw Error(
        ErrorCode::DuplicateObject,
        "constraint \"" + request.name + "\" of table " + table.qualified() + " already exists", {},
        "Pass name => 'a name the table''s constraints do not use'.");
  for (const Index& index : table.indexes)
    if (index.name == request.name)
      throw Error(ErrorCode::DuplicateTable,
                  "index \"" + request.name + "\" already exists on table " + table.qualified(), {},
                  "Pass name => 'a name no relation in schema \"" + table.schema + "\" uses'.");
  for (const Operation& open : open_on_table)
    if ((open.kind == OpKind::CreateIndex || open.kind == OpKind::AddUnique) &&
        open.column == request.name)
      throw Error(ErrorCode::DuplicateTable,
                  "index \"" + request.name + "\" is already being created by migration \"" +
                      open.migration + "\"",
                  {}, "Finish or abort migration \"" + open.migration + "\" first.");
  Operation op;
  op.kind = OpKind::AddUnique;
  op.column = request.name;
  op.check_name = request.name;
  for (const std::string& c : request.columns)
    op.up += (op.up.empty() ? "" : ", ") + quote_ident(c);
  op.reads = request.columns;
  // As for create_index: a column an open operation drops, renames or
  // replaces would take the index with it, or leave its stored keys naming
  // another column; a column add_column adds may be in its own migration.
  op.migration = request.migration;
  check_overlaps(table, op, open_on_table);
  return op;
}

std::string build_statement(const TableDesc& table, const Operation& op) {
  return "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS " + quote_ident(op.column) + " ON " +
         table.qualified() + " USING btree (" + op.up + ")";
}

Statements begin(const TableDesc&, const Operation&) { return {}; }

bool needs_backfill(const Operation&) { return false; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  return BackfillSpec{op.column, "false"};  // never run: needs_backfill() is false
}

Statements finish_validation(const TableDesc&, const Operation&) { return {}; }

// finish has checked that the index exists and is valid.
Statements finish(const TableDesc& table, const Operation& op) {
  if (table.has_constraint(op.check_name)) return {};
  return {alter_table(table) + "ADD CONSTRAINT " + quote_ident(op.check_name) +
          " UNIQUE USING INDEX " + quote_ident(op.column)};
}

Statements abort(const TableDesc& table, const Operation& op) {
  bool built = false;  // valid or not: a failed build leaves an invalid index
  for (const Index& index : table.indexes) built = built || index.name == op.column;
  if (!built) return {};
  return {"DROP INDEX IF EXISTS " + quote_qualified(table.schema, op.column)};
}

std::string duplicates_sql(const TableDesc& table, const Operation& op) {
  return "SELECT pg_catalog.count(*), pg_catalog.string_agg(CASE WHEN s.i <= 10 THEN s.k "
         "OPERATOR(pg_catalog.||) ' x' OPERATOR(pg_catalog.||) s.n END, ', ' ORDER BY s.i) "
         "FROM (SELECT ROW(" +
         op.up +
         ")::pg_catalog.text AS k, pg_catalog.count(*) AS n, pg_catalog.row_number() "
         "OVER (ORDER BY " +
         op.up + ") AS i FROM " + table.qualified() + " WHERE ROW(" + op.up +
         ") IS NOT NULL GROUP BY " + op.up + " HAVING pg_catalog.count(*) > 1) s";
}

}  // namespace zdm::core::add_unique
