#include "core/model.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/quote.hpp"

namespace zdm::core {

const Column* TableDesc::find_column(const std::string& column) const {
  for (const Column& c : columns)
    if (c.name == column) return &c;
  return nullptr;
}

ColumnExtras TableDesc::extras_of(const std::string& column) const {
  for (const ColumnExtras& e : extras)
    if (e.column == column) return e;
  ColumnExtras none;
  none.column = column;
  return none;
}

std::string TableDesc::default_of(const std::string& column) const {
  for (const auto& [name, expression] : defaults)
    if (name == column) return expression;
  return {};
}

bool TableDesc::has_constraint(const std::string& constraint) const {
  return std::find(constraint_names.begin(), constraint_names.end(), constraint) !=
         constraint_names.end();
}

const Index* TableDesc::unique_index_on(const std::string& column) const {
  for (const Index& i : indexes)
    if (i.unique && i.simple && i.keys.size() == 1 && i.keys[0] == column) return &i;
  return nullptr;
}

const ForeignKey* TableDesc::foreign_key_of(const std::string& column) const {
  for (const ForeignKey& fk : foreign_keys)
    if (fk.validated && fk.columns.size() == 1 && fk.columns[0] == column) return &fk;
  return nullptr;
}

std::string TableDesc::qualified() const { return quote_qualified(schema, name); }

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::Rename:
      return "rename";
    case OpKind::AddColumn:
      return "add_column";
    case OpKind::DropColumn:
      return "drop_column";
    case OpKind::AlterType:
      return "alter_type";
    case OpKind::JoinToColumn:
      return "join_to_column";
    case OpKind::ColumnToJoin:
      return "column_to_join";
    case OpKind::CreateIndex:
      return "create_index";
    case OpKind::AddCheck:
      return "add_check";
    case OpKind::SetNotNull:
      return "set_not_null";
    case OpKind::RenameTable:
      return "rename_table";
    case OpKind::DropTable:
      return "drop_table";
    case OpKind::DropIndex:
      return "drop_index";
    case OpKind::AddForeignKey:
      return "add_foreign_key";
    case OpKind::AddUnique:
      return "add_unique";
    case OpKind::DropConstraint:
      return "drop_constraint";
  }
  return "unknown";
}

OpKind parse_op_kind(const std::string& name) {
  for (OpKind kind :
       {OpKind::Rename, OpKind::AddColumn, OpKind::DropColumn, OpKind::AlterType,
        OpKind::JoinToColumn, OpKind::ColumnToJoin, OpKind::CreateIndex, OpKind::AddCheck,
        OpKind::SetNotNull, OpKind::RenameTable, OpKind::DropTable, OpKind::DropIndex,
        OpKind::AddForeignKey, OpKind::AddUnique, OpKind::DropConstraint})
    if (name == op_kind_name(kind)) return kind;
  throw Error(ErrorCode::Internal, "unknown operation kind \"" + name + "\"",
              "The zdm catalog was written by a newer version of zdm.",
              "Install the zdm library that matches the catalog.");
}

bool is_index_or_constraint_kind(OpKind kind) {
  return kind == OpKind::DropIndex || kind == OpKind::AddForeignKey || kind == OpKind::AddUnique ||
         kind == OpKind::DropConstraint;
}

bool is_join_kind(OpKind kind) {
  return kind == OpKind::JoinToColumn || kind == OpKind::ColumnToJoin;
}

bool uses_dual_write_trigger(OpKind kind) {
  return !is_join_kind(kind) && kind != OpKind::CreateIndex && kind != OpKind::AddCheck &&
         kind != OpKind::SetNotNull && kind != OpKind::RenameTable && kind != OpKind::DropTable &&
         !is_index_or_constraint_kind(kind);
}

bool has_shadow_column(const Operation& op) {
  return op.kind == OpKind::AlterType || (op.kind == OpKind::SetNotNull && !op.new_column.empty());
}

bool uses_dual_write_trigger(const Operation& op) {
  return uses_dual_write_trigger(op.kind) || has_shadow_column(op);
}

std::vector<std::string> Operation::claimed_columns() const {
  if (kind == OpKind::CreateIndex) return {};  // column_name holds the index's name
  // A join operation spans two tables; it claims its column names on both.
  if (is_join_kind(kind)) return {column, join_key, join_value, target_key};
  if (kind == OpKind::AddCheck) return {};  // column_name holds the constraint's name
  // column_name holds the table's name; check_table_operations guards the table.
  if (kind == OpKind::RenameTable || kind == OpKind::DropTable) return {};
  if (is_index_or_constraint_kind(kind)) return {};  // column_name holds the index or constraint
  if (kind == OpKind::Rename || kind == OpKind::AlterType) return {column, new_column};
  if (kind == OpKind::SetNotNull && !new_column.empty()) return {column, new_column};
  return {column};
}

std::string Operation::describe() const {
  std::string out = std::string(op_kind_name(kind)) + " " + column;
  if (kind == OpKind::Rename) out += " -> " + new_column;
  if (kind == OpKind::AlterType) out += " -> " + type_sql + " (as " + new_column + ")";
  if (kind == OpKind::SetNotNull && !new_column.empty()) out += " (as " + new_column + ")";
  if (kind == OpKind::RenameTable) out += " -> " + new_column;
  if (kind == OpKind::CreateIndex)
    out = std::string("create_index ") + (not_null ? "UNIQUE " : "") + column + " USING " +
          type_sql + " (" + up + ")" + (down.empty() ? "" : " WHERE " + down);
  if (kind == OpKind::AddForeignKey) out = "add_foreign_key " + column + " " + references_sql;
  if (kind == OpKind::JoinToColumn)
    out = "join_to_column " + join_name + "(" + join_key + ", " + join_value + ") -> " + column;
  if (kind == OpKind::ColumnToJoin)
    out =
        "column_to_join " + column + " -> " + join_name + "(" + join_key + ", " + join_value + ")";
  return out;
}

}  // namespace zdm::core
