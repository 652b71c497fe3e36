#include "core/ops/create_index.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::create_index {

std::string default_name(const std::string& table, const std::vector<std::string>& columns) {
  std::string name = table;
  for (const std::string& c : columns) {
    bool plain = !c.empty();
    for (char ch : c)
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) plain = false;
    name += "_" + (plain ? c : std::string("expr"));
  }
  return fit_identifier(name + "_idx");
}

Operation validate(const TableDesc& table, const CreateIndexRequest& request,
                   const std::vector<Operation>& open_on_table) {
  check_identifier("name", request.name);
  if (request.keys.empty())
    throw Error(ErrorCode::InvalidParameter, "columns must name at least one column or expression",
                {}, "Pass columns => ARRAY['a column', '(an expression)'].");
  if (request.method.empty()) throw Error(ErrorCode::InvalidParameter, "method must not be empty");
  for (const Index& index : table.indexes)
    if (index.name == request.name)
      throw Error(ErrorCode::DuplicateTable,
                  "index \"" + request.name + "\" already exists on table " + table.qualified(), {},
                  "Pass name => 'a name no relation in schema \"" + table.schema + "\" uses'.");
  for (const Operation& open : open_on_table)
    if (open.kind == OpKind::CreateIndex && open.column == request.name)
      throw Error(ErrorCode::DuplicateTable,
                  "index \"" + request.name + "\" is already being created by migration \"" +
                      open.migration + "\"",
                  {}, "Finish or abort migration \"" + open.migration + "\" first.");
  Operation op;
  op.kind = OpKind::CreateIndex;
  op.column = request.name;
  op.type_sql = request.method;
  op.not_null = request.unique;
  std::string keys;
  for (const std::string& k : request.keys) keys += (keys.empty() ? "" : ", ") + k;
  op.up = keys;
  op.down = request.where;
  for (const std::string& c : request.columns)
    if (std::find(op.reads.begin(), op.reads.end(), c) == op.reads.end()) op.reads.push_back(c);
  // A column an open operation drops, renames or replaces would take the
  // index with it at finish, or leave its stored keys naming another column;
  // a column add_column adds may be indexed in its own migration (the surname
  // case and an index on surname); see composes_on_column.
  op.migration = request.migration;
  check_overlaps(table, op, open_on_table);
  return op;
}

std::string build_statement(const TableDesc& table, const Operation& op) {
  std::string sql = std::string("CREATE ") + (op.not_null ? "UNIQUE " : "") +
                    "INDEX CONCURRENTLY IF NOT EXISTS " + quote_ident(op.column) + " ON " +
                    table.qualified() + " USING " + quote_ident(op.type_sql) + " (" + op.up + ")";
  if (!op.down.empty()) sql += " WHERE " + op.down;
  return sql;
}

Statements begin(const TableDesc&, const Operation&) { return {}; }

bool needs_backfill(const Operation&) { return false; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  return BackfillSpec{op.column, "false"};  // never run: needs_backfill() is false
}

Statements finish_validation(const TableDesc&, const Operation&) { return {}; }

// finish has checked that the index exists and is valid: it stays.
Statements finish(const TableDesc&, const Operation&) { return {}; }

Statements abort(const TableDesc& table, const Operation& op) {
  bool built = false;  // valid or not: a failed build leaves an invalid index
  for (const Index& index : table.indexes) built = built || index.name == op.column;
  if (!built) return {};
  return {"DROP INDEX IF EXISTS " + quote_qualified(table.schema, op.column)};
}

}  // namespace zdm::core::create_index
