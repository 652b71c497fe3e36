#include "core/ops/add_check.hpp"

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::add_check {

namespace {

bool is_validated(const TableDesc& table, const std::string& name) {
  for (const CheckConstraint& c : table.checks)
    if (c.name == name) return c.validated;
  return false;
}

}  // namespace

Operation validate(const TableDesc& table, const AddCheckRequest& request,
                   const std::vector<Operation>& open_on_table) {
  check_identifier("name", request.name);
  if (request.expression.empty())
    throw Error(ErrorCode::InvalidParameter, "expression must not be empty", {},
                "Pass expression => 'a boolean expression over the table''s columns'.");
  if (table.has_constraint(request.name))
    throw Error(
        ErrorCode::DuplicateObject,
        "constraint \"" + request.name + "\" of table " + table.qualified() + " already exists", {},
        "Choose another name; see \\d " + table.qualified() + ".");
  for (const Operation& open : open_on_table)
    if (open.check_name == request.name)
      throw Error(ErrorCode::ObjectInUse,
                  "constraint \"" + request.name + "\" of table " + table.qualified() +
                      " is already under migration \"" + open.migration + "\"",
                  {}, "Finish or abort migration \"" + open.migration + "\" first.");

  Operation op;
  op.kind = OpKind::AddCheck;
  op.column = request.name;
  op.check_name = request.name;
  op.up = request.expression;
  op.reads = request.reads;
  // A column an open operation drops or replaces would take the constraint
  // with it at finish; a rename would leave the stored expression (finish
  // counts the violating rows with it) naming a column that is gone.
  check_overlaps(table, op, open_on_table);
  return op;
}

Statements begin(const TableDesc& table, const Operation& op) {
  return {alter_table(table) + "ADD CONSTRAINT " + quote_ident(op.check_name) + " CHECK (" + op.up +
          ") NOT VALID"};
}

bool needs_backfill(const Operation&) { return false; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  return BackfillSpec{op.column, "false"};  // never run: needs_backfill() is false
}

Statements finish_validation(const TableDesc& table, const Operation& op) {
  if (!table.has_constraint(op.check_name) || is_validated(table, op.check_name)) return {};
  return {alter_table(table) + "VALIDATE CONSTRAINT " + quote_ident(op.check_name)};
}

Statements finish(const TableDesc&, const Operation&) { return {}; }

Statements abort(const TableDesc& table, const Operation& op) {
  if (!table.has_constraint(op.check_name)) return {};
  return {alter_table(table) + "DROP CONSTRAINT " + quote_ident(op.check_name)};
}

std::string violations_sql(const TableDesc& table, const Operation& op) {
  std::string key;
  if (table.primary_key.empty()) {
    key = "t.ctid";
  } else {
    for (const std::string& c : table.primary_key)
      key += (key.empty() ? "t." : ", t.") + quote_ident(c);
  }
  const std::string from = " FROM " + table.qualified() + " t WHERE (" + op.up + ") IS FALSE";
  const std::string row = table.primary_key.size() == 1 || table.primary_key.empty()
                              ? "(" + key + ")::pg_catalog.text"
                              : "ROW(" + key + ")::pg_catalog.text";
  return "SELECT (SELECT pg_catalog.count(*)" + from +
         "), (SELECT pg_catalog.string_agg(k, ', ') FROM (SELECT " + row + " AS k" + from +
         " ORDER BY " + key + " LIMIT 10) s)";
}

}  // namespace zdm::core::add_check
