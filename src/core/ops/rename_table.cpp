#include "core/ops/rename_table.hpp"

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::rename_table {

namespace {

std::string grantee_sql(const std::string& grantee) {
  return grantee.empty() ? std::string("PUBLIC") : quote_ident(grantee);
}

}  // namespace

std::string view_name(const TableDesc& table, const Operation& op) {
  return quote_qualified(table.schema, op.column);
}

Operation validate(const TableDesc& table, const RenameTableRequest& request,
                   const std::vector<Operation>& open_on_table) {
  check_identifier("new_name", request.new_name);
  if (request.new_name == table.name)
    throw Error(ErrorCode::InvalidParameter,
                "table " + table.qualified() + " is already named \"" + request.new_name + "\"");
  if (request.name_taken)
    throw Error(
        ErrorCode::DuplicateTable,
        "relation " + quote_qualified(table.schema, request.new_name) + " already exists", {},
        "Pass new_name => 'a name no relation or type in schema \"" + table.schema + "\" uses'.");
  if (!request.rules.empty())
    throw Error(ErrorCode::FeatureNotSupported,
                "cannot rename table " + table.qualified() + ": it has rules",
                "Rules: " + request.rules +
                    ". During the window the old name is a view over the table, and the table's "
                    "rules rewrite the old app's writes through it as well: zdm cannot tell that "
                    "they keep working (a DO INSTEAD rule replaces the write; PostgreSQL refuses "
                    "INSERT ... ON CONFLICT on a table with INSERT or UPDATE rules).",
                "Drop the rules (or turn them into triggers) before begin.");
  if (!request.column_only_grantees.empty())
    throw Error(ErrorCode::FeatureNotSupported,
                "cannot rename table " + table.qualified() +
                    ": roles hold column privileges on it without SELECT on the table",
                "Roles: " + request.column_only_grantees +
                    ". During the window the old name is a view WITH (security_invoker = true) "
                    "that selects every column of the table, and PostgreSQL checks them all "
                    "against the caller: their SELECT, UPDATE ... WHERE, DELETE ... WHERE and "
                    "RETURNING through the old name would fail with permission denied.",
                "Grant them SELECT on the whole table for the window, or rename the table in a "
                "maintenance window.");
  if (!request.server_supported)
    throw Error(ErrorCode::FeatureNotSupported,
                "zdm.begin_rename_table() needs PostgreSQL 15 or later",
                "The old name becomes a view WITH (security_invoker = true), so that each app's "
                "own privileges and row-level security apply through it; PostgreSQL 15 added "
                "that option.",
                "Rename the table in a maintenance window, or upgrade PostgreSQL.");
  Operation op;
  op.kind = OpKind::RenameTable;
  op.column = table.name;
  op.new_column = request.new_name;
  check_table_operations(table, op, open_on_table);
  return op;
}

Statements begin(const TableDesc& table, const Operation& op) {
  const std::string view = view_name(table, op);
  const std::string renamed = quote_qualified(table.schema, op.new_column);
  Statements out{
      "ALTER TABLE " + table.qualified() + " RENAME TO " + quote_ident(op.new_column),
      "CREATE VIEW " + view + " WITH (security_invoker = true) AS SELECT * FROM " + renamed};
  if (!table.owner.empty())
    out.push_back("ALTER VIEW " + view + " OWNER TO " + quote_ident(table.owner));
  // The same grants as the table: the old app reaches the view with them, and
  // (security_invoker) the table with its own.
  for (const auto& [grantee, privilege] : table.privileges)
    out.push_back("GRANT " + privilege + " ON " + view + " TO " + grantee_sql(grantee));
  for (const ColumnExtras& extras : table.extras)
    for (const ColumnGrant& g : extras.grants)
      if (g.privilege != "REFERENCES")  // a view has no REFERENCES to give
        out.push_back("GRANT " + g.privilege + " (" + quote_ident(extras.column) + ") ON " + view +
                      " TO " + grantee_sql(g.grantee) + (g.grantable ? " WITH GRANT OPTION" : ""));
  return out;
}

bool needs_backfill(const Operation&) { return false; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  return BackfillSpec{op.column, "false"};  // never run: needs_backfill() is false
}

Statements finish_validation(const TableDesc&, const Operation&) { return {}; }

Statements finish(const TableDesc& table, const Operation& op) {
  return {"DROP VIEW IF EXISTS " + view_name(table, op)};
}

Statements abort(const TableDesc& table, const Operation& op) {
  Statements out{"DROP VIEW IF EXISTS " + view_name(table, op)};
  if (table.name != op.column)
    out.push_back("ALTER TABLE " + table.qualified() + " RENAME TO " + quote_ident(op.column));
  return out;
}

}  // namespace zdm::core::rename_table
