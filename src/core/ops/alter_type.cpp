#include "core/ops/alter_type.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::alter_type {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The indexes on the column: those whose keys or INCLUDE list name it.
std::vector<const Index*> indexes_on(const TableDesc& table, const std::string& column) {
  std::vector<const Index*> out;
  for (const Index& index : table.indexes)
    if (contains(index.uses, column) || contains(index.keys, column) ||
        contains(index.include, column))
      out.push_back(&index);
  return out;
}

std::string twin_index_name(const Index& index) { return fit_identifier(index.name + "_zdm_new"); }

std::string column_list(const std::vector<std::string>& columns, const std::string& from,
                        const std::string& to, const std::vector<std::string>* options) {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); i++) {
    if (i > 0) out += ", ";
    out += quote_ident(columns[i] == from ? to : columns[i]);
    if (options != nullptr && i < options->size()) out += (*options)[i];
  }
  return out;
}

// The CHECKs that read the column; begin repeats each on the shadow column
// under "<name>_<shadow>", and finish gives it back its name.
std::vector<const CheckConstraint*> checks_on(const TableDesc& table, const std::string& column) {
  std::vector<const CheckConstraint*> out;
  for (const CheckConstraint& check : table.checks)
    if (contains(check.columns, column)) out.push_back(&check);
  return out;
}

std::string twin_check_name(const CheckConstraint& check, const std::string& shadow) {
  return fit_identifier(check.name + "_" + shadow);
}

// finish drops the old column: whatever reads it would make PostgreSQL refuse
// (views, rules, policies, generated columns, triggers) or go with it
// (extended statistics). Refused now, before the backfill, with what to do.
void refuse_dependents(const TableDesc& table, const Column& column, const std::string& action) {
  std::string list;
  std::vector<std::string> kinds;
  for (const ColumnDependent& d : table.dependents) {
    if (d.column != column.name) continue;
    list += (list.empty() ? "" : "; ") + d.description;
    if (!contains(kinds, d.kind)) kinds.push_back(d.kind);
  }
  if (list.empty()) return;
  auto any = [&](std::initializer_list<const char*> wanted) {
    for (const char* k : wanted)
      if (contains(kinds, k)) return true;
    return false;
  };
  std::string hint;
  auto add = [&](const std::string& sentence) { hint += (hint.empty() ? "" : " ") + sentence; };
  if (any({"view", "materialized view", "rule"}))
    add("Drop the views and rules that read it (or re-create them without it) before begin, and "
        "re-create them after finish.");
  if (any({"policy"}))
    add("Replace the policies that read it by ones that do not for the migration, and restore "
        "them after finish.");
  if (any({"generated column"}))
    add("Drop the generated columns that read it and add them back after finish.");
  if (any({"trigger"}))
    add("Drop the triggers whose UPDATE OF list or WHEN condition names it, and re-create them "
        "after finish.");
  if (any({"statistics object"}))
    add("Drop the statistics objects on it and re-create them after finish.");
  if (any({"other"})) add("Change the other objects so that they no longer use it.");
  throw Error(ErrorCode::ObjectInUse,
              "cannot " + action + " " + column_of(table, column.name) + ": other objects read it",
              "Reading it: " + list + ". finish drops the old column, " +
                  (kinds.size() == 1 && kinds[0] == "statistics object"
                       ? "and they would silently go with it"
                       : "which they need") +
                  "; refused now rather than after the backfill.",
              hint);
}

// A type as format_type prints it: its name and its modifiers, if any.
struct TypeName {
  std::string base;
  std::vector<long> mods;
};

TypeName parse_type(const std::string& sql) {
  TypeName t;
  std::size_t open = sql.find('(');
  if (open == std::string::npos || sql.back() != ')') {
    t.base = sql;
    return t;
  }
  t.base = sql.substr(0, open);
  std::string inner = sql.substr(open + 1, sql.size() - open - 2);
  std::size_t from = 0;
  while (from <= inner.size()) {
    std::size_t comma = inner.find(',', from);
    std::string item =
        inner.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos) return {sql, {}};
    t.mods.push_back(std::stol(item));
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return t;
}

}  // namespace

bool is_lossless_widening(const std::string& from, const std::string& to) {
  const TypeName f = parse_type(from), t = parse_type(to);
  auto integer_rank = [](const TypeName& type) {
    if (!type.mods.empty()) return 0;
    if (type.base == "smallint") return 1;
    if (type.base == "integer") return 2;
    if (type.base == "bigint") return 3;
    return 0;
  };
  // An integer written into a smaller integer fits exactly or raises "out of
  // range"; a fraction is refused by both types' input alike.
  if (integer_rank(f) > 0 && integer_rank(t) > integer_rank(f)) return true;
  // Same scale: the window rounds a value exactly as the new type would, and
  // too many digits raise "numeric field overflow". A larger scale (or no
  // modifier at all) would round the new app's digits away silently.
  if (f.base == "numeric" && t.base == "numeric" && f.mods.size() == 2 && t.mods.size() == 2)
    return t.mods[1] == f.mods[1] && t.mods[0] >= f.mods[0];
  // Too long for varchar(n) is an error (bar trailing spaces, see README).
  if (f.base == "character varying" && f.mods.size() == 1)
    return t.base == "text" || (t.base == "character varying" && t.mods.empty()) ||
           (t.base == "character varying" && t.mods.size() == 1 && t.mods[0] >= f.mods[0]);
  return false;
}

std::string shadow_name(const TableDesc& table, const std::string& column) {
  return unique_name(fit_identifier(column + "_new"), [&](const std::string& candidate) {
    return table.find_column(candidate) != nullptr;
  });
}

void check_can_shadow(const TableDesc& table, const Column& column, const std::string& action) {
  const std::string what = column_of(table, column.name);
  if (contains(table.primary_key, column.name))
    throw Error(ErrorCode::WrongObjectType, what + " is part of the primary key",
                "Rows are found by their primary key, and other tables may reference it.",
                "Change a primary key's type in a maintenance window, or add a new key column "
                "with zdm.begin_add_column() and move to it.");
  if (column.identity || column.generated)
    throw Error(ErrorCode::WrongObjectType,
                what + " is " + (column.identity ? "an identity" : "a generated") + " column",
                "PostgreSQL computes its values; a shadow column cannot take them over.",
                "Use ALTER TABLE ... ALTER COLUMN ... TYPE in a maintenance window.");
  if (table.default_of(column.name).find("nextval(") != std::string::npos)
    throw Error(ErrorCode::WrongObjectType, what + " is a serial column (its default is nextval)",
                "Its sequence belongs to the column and would not follow the shadow column.",
                "Change the sequence and the column by hand in a maintenance window.");
  if (contains(table.foreign_key_columns, column.name))
    throw Error(ErrorCode::WrongObjectType, what + " is part of a foreign key",
                "Both ends of a foreign key must keep compatible types at every moment.",
                "Drop the foreign key, migrate, and add it back NOT VALID, then VALIDATE it.");
  for (const Index* index : indexes_on(table, column.name))
    if (!index->simple)
      throw Error(ErrorCode::FeatureNotSupported,
                  what + " is used by index \"" + index->name +
                      "\", which has an expression, a predicate, or a non-default operator "
                      "class or collation",
                  "zdm rebuilds plain column indexes only.",
                  "Drop that index, or rebuild it on the new type by hand after finish.");
  refuse_dependents(table, column, action);
}

Operation validate(const TableDesc& table, const AlterTypeRequest& request,
                   const std::vector<Operation>& open_on_table) {
  check_identifier("column_name", request.column);
  const Column& column = require_column(
      table, request.column, "Check the column name with \\d " + table.qualified() + ".");
  const std::string what = column_of(table, request.column);
  if (request.type_sql.empty())
    throw Error(ErrorCode::InvalidParameter, "new_type must not be empty");
  if (request.type_sql == column.type_sql)
    throw Error(ErrorCode::InvalidParameter, what + " is already of type " + column.type_sql);
  check_can_shadow(table, column, "change the type of");
  if (request.up.empty()) throw Error(ErrorCode::InvalidParameter, "up must not be empty");
  const bool keep_new_name = request.new_name && *request.new_name != request.column;
  if (request.new_name) {
    check_identifier("new_name", *request.new_name);
    if (keep_new_name && table.find_column(*request.new_name) != nullptr)
      throw Error(ErrorCode::DuplicateColumn,
                  column_of(table, *request.new_name) + " already exists",
                  "new_name is the converted column's name from begin on.",
                  "Choose a new_name that the table does not use, or omit new_name.");
    if (!keep_new_name && !is_lossless_widening(column.type_sql, request.type_sql))
      throw Error(ErrorCode::InvalidParameter,
                  "new_name \"" + request.column +
                      "\" keeps the column's name, which needs a "
                      "lossless widening, and " +
                      column.type_sql + " -> " + request.type_sql + " is not one",
                  "Until finish the new app would write the column under its old type " +
                      column.type_sql +
                      ", which would change or refuse some of its values; zdm allows it for "
                      "smallint -> integer/bigint, integer -> bigint, numeric(p,s) -> "
                      "numeric(q>=p,s) and varchar(n) -> varchar(m>=n)/varchar/text.",
                  "Pass another new_name: the converted column is created under it and keeps "
                  "it after finish.");
  }

  Operation op;
  op.kind = OpKind::AlterType;
  op.column = request.column;
  op.new_column = keep_new_name ? *request.new_name : shadow_name(table, request.column);
  op.keep_new_name = keep_new_name;
  op.type_sql = request.type_sql;
  op.up = request.up;
  op.down = request.down;
  op.not_null = column.not_null;
  if (op.not_null) op.check_name = free_constraint_name(table, op.new_column + "_not_null");
  op.default_sql = table.default_of(request.column);
  op.storage_settable = request.storage_settable;
  // Its new column is a name no column has yet: only the column is shared.
  check_overlaps(table, op, {op.column}, {}, open_on_table);
  return op;
}

Statements index_statements(const TableDesc& table, const Operation& op) {
  Statements out;
  for (const Index* index : indexes_on(table, op.column)) {
    std::string sql = std::string("CREATE ") + (index->unique ? "UNIQUE " : "") +
                      "INDEX CONCURRENTLY IF NOT EXISTS " + quote_ident(twin_index_name(*index)) +
                      " ON " + table.qualified() + " USING " + index->method + " (" +
                      column_list(index->keys, op.column, op.new_column, &index->key_options) + ")";
    if (!index->include.empty())
      sql += " INCLUDE (" + column_list(index->include, op.column, op.new_column, nullptr) + ")";
    out.push_back(sql);
  }
  return out;
}

std::vector<std::string> index_names(const TableDesc& table, const Operation& op) {
  std::vector<std::string> out;
  for (const Index* index : indexes_on(table, op.column)) out.push_back(twin_index_name(*index));
  return out;
}

Statements begin(const TableDesc& table, const Operation& op) {
  Statements out{alter_table(table) + "ADD COLUMN " + quote_ident(op.new_column) + " " +
                 op.type_sql};
  if (op.not_null)
    out.push_back(alter_table(table) + "ADD CONSTRAINT " + quote_ident(op.check_name) + " CHECK (" +
                  quote_ident(op.new_column) + " IS NOT NULL) NOT VALID");
  for (const CheckConstraint* check : checks_on(table, op.column))
    out.push_back("SELECT " + quote_qualified("zdm", "copy_check_constraint") + "(" +
                  quote_literal(table.qualified()) + "::pg_catalog.regclass, " +
                  quote_literal(check->name) + ", " + quote_literal(op.column) + ", " +
                  quote_literal(op.new_column) + ", " +
                  quote_literal(twin_check_name(*check, op.new_column)) + ")");
  // The shadow column takes the column's privileges, comment and settings
  // (storage and compression where the new type allows), so the new app can
  // use it under the same grants, and they survive finish's swap.
  for (std::string& s : carry_extras(table, table.extras_of(op.column), {}, op.new_column,
                                     Carry::FillGaps, op.storage_settable))
    out.push_back(std::move(s));
  return out;
}

bool needs_backfill(const Operation&) { return true; }

BackfillSpec backfill(const TableDesc& table, const Operation& op) {
  // A row needs converting while its converted column is NULL: when its old
  // column holds a value, and also when it holds NULL but up gives NULL a value
  // (coalesce: the old app's NULL gets that value through the trigger, so the
  // rows from before begin must get it too; finish's row check cannot tell,
  // since down gives NULL back). A cast keeps NULL NULL: those rows are left
  // alone. CASE keeps the order, so up is evaluated only for the rows that get
  // no further. num_nonnulls: a composite value with a NULL field is a value.
  const std::string converted = "t." + quote_ident(op.new_column);
  const std::string old = "t." + quote_ident(op.column);
  const std::string up_gives_value =
      "pg_catalog.num_nonnulls(CAST((" + op.up + ") AS " + op.type_sql + ")) = 1";
  const std::string needs_work = "CASE WHEN pg_catalog.num_nonnulls(" + converted +
                                 ") = 1 THEN false WHEN pg_catalog.num_nonnulls(" + old +
                                 ") = 1 THEN true ELSE " + up_gives_value + " END";
  // An update that leaves the converted column NULL fills it when a
  // constraint reads it (its NOT NULL or CHECK copies): then every row an
  // update moves is converted. Otherwise a walk looks, at its end, for the
  // rows it missed (up may give NULL for a value: such a row is done).
  if (op.not_null || !checks_on(table, op.new_column).empty())
    return BackfillSpec{op.column, needs_work};
  return BackfillSpec{op.column, needs_work,
                      "pg_catalog.num_nonnulls(" + converted + ") = 0 AND " + up_gives_value};
}

Statements finish_validation(const TableDesc& table, const Operation& op) {
  Statements out;
  if (op.not_null)
    out.push_back(alter_table(table) + "VALIDATE CONSTRAINT " + quote_ident(op.check_name));
  for (const CheckConstraint& check : table.checks)
    if (!check.validated && contains(check.columns, op.new_column) && check.name != op.check_name)
      out.push_back(alter_table(table) + "VALIDATE CONSTRAINT " + quote_ident(check.name));
  return out;
}

Statements finish(const TableDesc& table, const Operation& op) {
  const std::string hint = "Abort the migration with zdm.abort() and start again.";
  require_column(table, op.column, hint);
  require_column(table, op.new_column, hint);
  const std::string alter = alter_table(table);
  // With new_name the converted column keeps it: the new app's name is the same
  // before and after finish. Otherwise it takes the old column's name.
  const std::string& final_name = op.keep_new_name ? op.new_column : op.column;
  const std::string column = alter + "ALTER COLUMN " + quote_ident(final_name) + " ";
  // Dropping the old column takes its indexes and constraints with it.
  Statements out{alter + "DROP COLUMN " + quote_ident(op.column)};
  if (!op.keep_new_name)
    out.push_back(alter + "RENAME COLUMN " + quote_ident(op.new_column) + " TO " +
                  quote_ident(op.column));
  for (const Index* index : indexes_on(table, op.column)) {
    out.push_back("ALTER INDEX " + quote_qualified(table.schema, twin_index_name(*index)) +
                  " RENAME TO " + quote_ident(index->name));
    if (!index->constraint.empty())
      out.push_back(alter + "ADD CONSTRAINT " + quote_ident(index->constraint) +
                    " UNIQUE USING INDEX " + quote_ident(index->name));
  }
  for (const CheckConstraint* check : checks_on(table, op.column))
    out.push_back(alter + "RENAME CONSTRAINT " +
                  quote_ident(twin_check_name(*check, op.new_column)) + " TO " +
                  quote_ident(check->name));
  if (op.not_null) {
    out.push_back(column + "SET NOT NULL");
    out.push_back(alter + "DROP CONSTRAINT " + quote_ident(op.check_name));
  }
  if (!op.default_sql.empty()) out.push_back(column + "SET DEFAULT " + op.default_sql);
  // Privileges granted on the old column during the window (and a comment or
  // setting the shadow column lacks) follow it.
  const ColumnExtras shadow = table.extras_of(op.new_column);
  for (std::string& s : carry_extras(table, table.extras_of(op.column), shadow, final_name,
                                     Carry::FillGaps, shadow.storage_settable))
    out.push_back(std::move(s));
  return out;
}

Statements abort(const TableDesc& table, const Operation& op) {
  // The shadow column's indexes and checks go with it.
  if (table.find_column(op.new_column) == nullptr) return {};
  return {alter_table(table) + "DROP COLUMN " + quote_ident(op.new_column)};
}

}  // namespace zdm::core::alter_type
