#include "core/ops/common.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/quote.hpp"

namespace zdm::core {

std::string column_of(const TableDesc& table, const std::string& column) {
  return "column \"" + column + "\" of table " + table.qualified();
}

const Column& require_column(const TableDesc& table, const std::string& column,
                             const std::string& hint) {
  const Column* c = table.find_column(column);
  if (c == nullptr)
    throw Error(ErrorCode::UndefinedColumn, column_of(table, column) + " does not exist", {}, hint);
  return *c;
}

std::string free_constraint_name(const TableDesc& table, const std::string& base) {
  return unique_name(fit_identifier(base),
                     [&](const std::string& candidate) { return table.has_constraint(candidate); });
}

std::string type_with_collation(const Column& column) {
  return column.type_sql + (column.collation_sql.empty() ? "" : " COLLATE " + column.collation_sql);
}

std::string alter_table(const TableDesc& table) { return "ALTER TABLE " + table.qualified() + " "; }

Statements carry_extras(const TableDesc& table, const ColumnExtras& from, const ColumnExtras& to,
                        const std::string& to_name, Carry carry, bool storage_settable) {
  Statements out;
  const std::string column = quote_ident(to_name);
  for (const ColumnGrant& g : from.grants) {
    if (std::find(to.grants.begin(), to.grants.end(), g) != to.grants.end()) continue;
    out.push_back("GRANT " + g.privilege + " (" + column + ") ON " + table.qualified() + " TO " +
                  (g.grantee.empty() ? std::string("PUBLIC") : quote_ident(g.grantee)) +
                  (g.grantable ? " WITH GRANT OPTION" : ""));
  }
  const bool override = carry == Carry::Override;
  if (from.has_comment &&
      (override ? !to.has_comment || to.comment != from.comment : !to.has_comment))
    out.push_back("COMMENT ON COLUMN " + table.qualified() + "." + column + " IS " +
                  quote_literal(from.comment));
  const std::string alter = alter_table(table) + "ALTER COLUMN " + column + " ";
  if (from.statistics_target >= 0 &&
      (override ? to.statistics_target != from.statistics_target : to.statistics_target < 0))
    out.push_back(alter + "SET STATISTICS " + std::to_string(from.statistics_target));
  std::string options;
  for (const auto& [key, value] : from.options) {
    bool has = false, same = false;
    for (const auto& [k, v] : to.options)
      if (k == key) has = true, same = v == value;
    if (override ? same : has) continue;
    options += (options.empty() ? "" : ", ") + quote_ident(key) + " = " + quote_literal(value);
  }
  if (!options.empty()) out.push_back(alter + "SET (" + options + ")");
  if (storage_settable && !from.storage.empty() &&
      (override ? to.storage != from.storage : to.storage.empty()))
    out.push_back(alter + "SET STORAGE " + from.storage);
  if (storage_settable && !from.compression.empty() &&
      (override ? to.compression != from.compression : to.compression.empty()))
    out.push_back(alter + "SET COMPRESSION " + quote_ident(from.compression));
  return out;
}

std::vector<ColumnGrant> grants_common_to(const TableDesc& table,
                                          const std::vector<std::string>& columns) {
  if (columns.empty()) return {};
  std::vector<ColumnGrant> out;
  for (const ColumnGrant& candidate : table.extras_of(columns[0]).grants) {
    bool everywhere = true, grantable = candidate.grantable;
    for (std::size_t i = 1; i < columns.size() && everywhere; i++) {
      bool found = false;
      for (const ColumnGrant& g : table.extras_of(columns[i]).grants)
        if (g.grantee == candidate.grantee && g.privilege == candidate.privilege) {
          found = true;
          grantable = grantable && g.grantable;
        }
      everywhere = found;
    }
    if (!everywhere) continue;
    ColumnGrant g = candidate;
    g.grantable = grantable;
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  }
  return out;
}

namespace {

bool changes_columns(const Operation& op) {
  return uses_dual_write_trigger(op) || is_join_kind(op.kind);
}

}  // namespace

void check_table_operations(const TableDesc& table, const Operation& op,
                            const std::vector<Operation>& open_on_table) {
  for (const Operation& open : open_on_table) {
    std::string why;
    if (op.kind == OpKind::DropTable || open.kind == OpKind::DropTable) {
      why = "drop_table drops the whole table at finish: no other operation may be open on it.";
    } else if (table.oid != 0 && ((is_join_kind(open.kind) && open.join_relid == table.oid) ||
                                  (is_join_kind(op.kind) && op.join_relid == table.oid))) {
      why =
          "The table is the join table of a join operation: join_to_column drops it at finish, "
          "column_to_join at abort, so no other operation may be open on it.";
    } else if (op.kind == OpKind::RenameTable && open.kind == OpKind::RenameTable) {
      why = "A table has one rename_table at a time.";
    } else if ((op.kind == OpKind::RenameTable && changes_columns(open)) ||
               (open.kind == OpKind::RenameTable && changes_columns(op))) {
      why =
          "During a rename_table the old name is a view over the table's columns as they were at "
          "begin, for the old app: an operation that adds, drops, renames or shadows columns "
          "cannot share the window with it. Indexes and constraints (create_index, add_check, "
          "set_not_null without up) can.";
    }
    if (why.empty()) continue;
    throw Error(
        ErrorCode::ObjectInUse,
        "table " + table.qualified() + " is already under migration \"" + open.migration + "\"",
        "That migration's " + open.describe() + " is still open. " + why,
        "Finish or abort migration \"" + open.migration +
            "\" first, then begin this operation in a migration of its own.");
  }
}

}  // namespace zdm::core
