#include "core/ops/add_foreign_key.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::add_foreign_key {

namespace {

std::string column_list(const std::vector<std::string>& columns, const std::string& prefix = "") {
  std::string out;
  for (const std::string& c : columns) out += (out.empty() ? "" : ", ") + prefix + quote_ident(c);
  return out;
}

const ForeignKey* find(const TableDesc& table, const std::string& name) {
  for (const ForeignKey& fk : table.foreign_keys)
    if (fk.name == name) return &fk;
  return nullptr;
}

void check_columns(const TableDesc& table, const std::vector<std::string>& columns,
                   const std::string& what) {
  if (columns.empty())
    throw Error(ErrorCode::InvalidParameter, what + " must name at least one column", {},
                "Pass " + what + " => ARRAY['a column'].");
  for (std::size_t i = 0; i < columns.size(); i++) {
    require_column(table, columns[i], "See \\d " + table.qualified() + ".");
    for (std::size_t j = 0; j < i; j++)
      if (columns[j] == columns[i])
        throw Error(ErrorCode::InvalidParameter,
                    what + " names column \"" + columns[i] + "\" twice", {},
                    "Name each column once.");
  }
}

}  // namespace

std::string default_name(const TableDesc& table, const std::vector<std::string>& columns) {
  std::string base = table.name;
  for (const std::string& c : columns) base += "_" + c;
  return free_constraint_name(table, base + "_fkey");
}

std::string normalize_action(const std::string& action) {
  std::string words;
  bool space = false;
  for (char ch : action) {
    if (std::isspace(static_cast<unsigned char>(ch))) {
      space = !words.empty();
      continue;
    }
    if (space) words += ' ';
    space = false;
    words += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  for (const char* known : {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"})
    if (words == known) return words;
  throw Error(ErrorCode::InvalidParameter, "on_delete \"" + action + "\" is not an action", {},
              "Pass on_delete => one of 'NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', "
              "'SET DEFAULT'.");
}

Operation validate(const TableDesc& table, const TableDesc& ref,
                   const AddForeignKeyRequest& request, const std::vector<Operation>& open_on_table,
                   const std::vector<Operation>& open_on_ref) {
  check_columns(table, request.columns, "columns");
  check_columns(ref, request.ref_columns, "ref_columns");
  if (request.columns.size() != request.ref_columns.size())
    throw Error(ErrorCode::InvalidParameter,
                "columns names " + std::to_string(request.columns.size()) +
                    " column(s) but ref_columns " + std::to_string(request.ref_columns.size()),
                {}, "Pass one referenced column per referencing column, in the same order.");
  const std::string on_delete = normalize_action(request.on_delete);
  if (on_delete == "SET NULL")
    for (const std::string& c : request.columns)
      if (table.find_column(c)->not_null)
        throw Error(
            ErrorCode::InvalidParameter,
            "on_delete 'SET NULL' cannot set " + column_of(table, c) + " to NULL: it is NOT NULL",
            {}, "Pass another on_delete, or drop the column's NOT NULL first.");
  const std::string name =
      request.name.empty() ? default_name(table, request.columns) : request.name;
  check_identifier("name", name);
  if (table.has_constraint(name))
    throw Error(ErrorCode::DuplicateObject,
                "constraint \"" + name + "\" of table " + table.qualified() + " already exists", {},
                "Pass name => 'a name the table''s constraints do not use'.");
  for (const Operation& open : open_on_table)
    if (open.check_name == name)
      throw Error(ErrorCode::ObjectInUse,
                  "constraint \"" + name + "\" of table " + table.qualified() +
                      " is already under migration \"" + open.migration + "\"",
                  {}, "Finish or abort migration \"" + open.migration + "\" first.");
  Operation op;
  op.kind = OpKind::AddForeignKey;
  op.column = name;
  op.check_name = name;
  op.references_sql = "FOREIGN KEY (" + column_list(request.columns) + ") REFERENCES " +
                      ref.qualified() + " (" + column_list(request.ref_columns) + ") ON DELETE " +
                      on_delete;
  op.reads = request.columns;
  op.ref_relid = ref.oid;
  op.ref_reads = request.ref_columns;
  // A column another open operation drops or replaces (drop_column, the new
  // copy of a rename, alter_type), on either table, would take the constraint
  // with it.
  check_overlaps(table, op, open_on_table);
  check_overlaps(ref, referenced_side(op), open_on_ref);
  return op;
}

Operation referenced_side(const Operation& fk) {
  Operation seen = fk;
  seen.reads = fk.ref_reads;
  seen.ref_reads.clear();
  seen.ref_relid = 0;
  seen.check_name.clear();  // a constraint of the referencing table
  return seen;
}

Statements begin(const TableDesc& table, const Operation& op) {
  return {alter_table(table) + "ADD CONSTRAINT " + quote_ident(op.check_name) + " " +
          op.references_sql + " NOT VALID"};
}

bool needs_backfill(const Operation&) { return false; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  return BackfillSpec{op.column, "false"};  // never run: needs_backfill() is false
}

Statements finish_validation(const TableDesc& table, const Operation& op) {
  const ForeignKey* fk = find(table, op.check_name);
  if (fk == nullptr || fk->validated) return {};
  return {alter_table(table) + "VALIDATE CONSTRAINT " + quote_ident(op.check_name)};
}

Statements finish(const TableDesc&, const Operation&) { return {}; }

Statements abort(const TableDesc& table, const Operation& op) {
  if (find(table, op.check_name) == nullptr) return {};
  return {alter_table(table) + "DROP CONSTRAINT " + quote_ident(op.check_name)};
}

std::string violations_sql(const TableDesc& table, const Operation& op) {
  const ForeignKey* fk = find(table, op.check_name);
  if (fk == nullptr || fk->columns.size() != fk->ref_columns.size()) return {};
  std::string key;
  if (table.primary_key.empty()) {
    key = "t.ctid";
  } else {
    for (const std::string& c : table.primary_key)
      key += (key.empty() ? "t." : ", t.") + quote_ident(c);
  }
  std::string present, match;
  for (std::size_t i = 0; i < fk->columns.size(); i++) {
    present += (i ? " AND t." : "t.") + quote_ident(fk->columns[i]) + " IS NOT NULL";
    match += (i ? " AND r." : "r.") + quote_ident(fk->ref_columns[i]) + " = t." +
             quote_ident(fk->columns[i]);
  }
  const std::string from = " FROM " + table.qualified() + " t WHERE " + present +
                           " AND NOT EXISTS (SELECT FROM " + fk->ref_table + " r WHERE " + match +
                           ")";
  const std::string row = table.primary_key.size() == 1 || table.primary_key.empty()
                              ? "(" + key + ")::pg_catalog.text"
                              : "ROW(" + key + ")::pg_catalog.text";
  return "SELECT (SELECT pg_catalog.count(*)" + from +
         "), (SELECT pg_catalog.string_agg(k, ', ') FROM (SELECT " + row +
         " OPERATOR(pg_catalog.||) ' -> ' OPERATOR(pg_catalog.||) ROW(" +
         column_list(fk->columns, "t.") + ")::pg_catalog.text AS k" + from + " ORDER BY " + key +
         " LIMIT 10) s)";
}

}  // namespace zdm::core::add_foreign_key
