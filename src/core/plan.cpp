#include "core/plan.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/ops/add_check.hpp"
#include "core/ops/add_column.hpp"
#include "core/ops/add_foreign_key.hpp"
#include "core/ops/add_unique.hpp"
#include "core/ops/alter_type.hpp"
#include "core/ops/create_index.hpp"
#include "core/ops/drop_column.hpp"
#include "core/ops/drop_constraint.hpp"
#include "core/ops/drop_index.hpp"
#include "core/ops/join.hpp"
#include "core/ops/drop_table.hpp"
#include "core/ops/rename.hpp"
#include "core/ops/rename_table.hpp"
#include "core/ops/set_not_null.hpp"
#include "core/quote.hpp"

namespace zdm::core {

void check_identifier(const std::string& what, const std::string& name) {
  if (name.empty()) throw Error(ErrorCode::InvalidParameter, what + " must not be empty");
  if (name.size() > kMaxIdentifierBytes)
    throw Error(
        ErrorCode::InvalidParameter,
        what + " \"" + name + "\" is longer than " + std::to_string(kMaxIdentifierBytes) + " bytes",
        {}, "PostgreSQL would truncate it; choose a shorter name.");
  if (name.find('\0') != std::string::npos)
    throw Error(ErrorCode::InvalidParameter, what + " must not contain a NUL byte");
}

bool composes_on_column(const Operation& changer, const Operation& reader) {
  if (changer.kind == OpKind::SetNotNull && !has_shadow_column(changer)) return true;
  if (changer.kind == OpKind::AddColumn)
    return (reader.kind == OpKind::CreateIndex || reader.kind == OpKind::AddUnique) &&
           !changer.migration.empty() && changer.migration == reader.migration;
  if (reader.kind == OpKind::DropIndex) return !has_shadow_column(changer);
  return false;
}

namespace {

bool contains(const std::vector<std::string>& columns, const std::string& column) {
  return std::find(columns.begin(), columns.end(), column) != columns.end();
}

[[noreturn]] void refuse_overlap(const TableDesc& table, const std::string& column,
                                 const Operation& open, const std::string& why,
                                 const std::string& hint) {
  throw Error(ErrorCode::ObjectInUse,
              "column \"" + column + "\" of table " + table.qualified() +
                  " is already under migration \"" + open.migration + "\"",
              "That migration's " + open.describe() + " is still open" + why + ".",
              hint.empty() ? "Finish or abort migration \"" + open.migration + "\" first." : hint);
}

}  // namespace

void check_overlaps(const TableDesc& table, const Operation& op,
                    const std::vector<Operation>& open_on_table) {
  check_overlaps(table, op, op.claimed_columns(), op.reads, open_on_table);
}

void check_overlaps(const TableDesc& table, const Operation& op,
                    const std::vector<std::string>& claims, const std::vector<std::string>& reads,
                    const std::vector<Operation>& open_on_table) {
  for (const Operation& open : open_on_table) {
    const std::vector<std::string> open_claims = open.claimed_columns();
    for (const std::string& column : claims)
      if (contains(open_claims, column)) refuse_overlap(table, column, open, "", "");
    for (const std::string& column : reads)
      if (contains(open_claims, column) && !composes_on_column(open, op))
        refuse_overlap(table, column, open, "",
                       open.kind == OpKind::AddColumn && !open.migration.empty() &&
                               (op.kind == OpKind::CreateIndex || op.kind == OpKind::AddUnique)
                           ? "Begin it in the same migration (migration => " +
                                 quote_literal(open.migration) +
                                 "), or finish or abort migration \"" + open.migration + "\" first."
                           : "");
    for (const std::string& column : claims)
      if (contains(open.reads, column) && !composes_on_column(op, open))
        refuse_overlap(table, column, open, ", and reads the column", "");
  }
}

std::string constraint_violations_sql(const TableDesc& table, const Operation& op) {
  if (op.kind == OpKind::SetNotNull) return set_not_null::violations_sql(table, op);
  if (op.kind == OpKind::AddForeignKey) return add_foreign_key::violations_sql(table, op);
  if (op.kind != OpKind::AddCheck) return {};
  return add_check::violations_sql(table, op);
}

std::string duplicate_keys_sql(const TableDesc& table, const Operation& op) {
  if (op.kind != OpKind::AddUnique) return {};
  return add_unique::duplicates_sql(table, op);
}

Statements concurrent_index_statements(const TableDesc& table, const Operation& op) {
  if (op.kind == OpKind::CreateIndex) return {create_index::build_statement(table, op)};
  if (op.kind == OpKind::AddUnique) return {add_unique::build_statement(table, op)};
  if (!has_shadow_column(op)) return {};
  return alter_type::index_statements(table, op);
}

std::vector<std::string> required_indexes(const TableDesc& table, const Operation& op) {
  if (op.kind == OpKind::CreateIndex || op.kind == OpKind::AddUnique) return {op.column};
  if (!has_shadow_column(op)) return {};
  return alter_type::index_names(table, op);
}

// One switch per phase: each operation's plan for every phase sits in its own
// file under ops/.
#define ZDM_DISPATCH(phase, ...)                  \
  switch (op.kind) {                              \
    case OpKind::Rename:                          \
      return rename::phase(__VA_ARGS__);          \
    case OpKind::AddColumn:                       \
      return add_column::phase(__VA_ARGS__);      \
    case OpKind::DropColumn:                      \
      return drop_column::phase(__VA_ARGS__);     \
    case OpKind::AlterType:                       \
      return alter_type::phase(__VA_ARGS__);      \
    case OpKind::JoinToColumn:                    \
    case OpKind::ColumnToJoin:                    \
      return join::phase(__VA_ARGS__);            \
    case OpKind::CreateIndex:                     \
      return create_index::phase(__VA_ARGS__);    \
    case OpKind::AddCheck:                        \
      return add_check::phase(__VA_ARGS__);       \
    case OpKind::SetNotNull:                      \
      return set_not_null::phase(__VA_ARGS__);    \
    case OpKind::RenameTable:                     \
      return rename_table::phase(__VA_ARGS__);    \
    case OpKind::DropTable:                       \
      return drop_table::phase(__VA_ARGS__);      \
    case OpKind::DropIndex:                       \
      return drop_index::phase(__VA_ARGS__);      \
    case OpKind::AddForeignKey:                   \
      return add_foreign_key::phase(__VA_ARGS__); \
    case OpKind::AddUnique:                       \
      return add_unique::phase(__VA_ARGS__);      \
    case OpKind::DropConstraint:                  \
      return drop_constraint::phase(__VA_ARGS__); \
  }                                               \
  throw Error(ErrorCode::Internal, "unknown operation kind")

Statements begin_statements(const TableDesc& table, const Operation& op) {
  ZDM_DISPATCH(begin, table, op);
}

Statements finish_validation_statements(const TableDesc& table, const Operation& op) {
  ZDM_DISPATCH(finish_validation, table, op);
}

Statements finish_statements(const TableDesc& table, const Operation& op) {
  ZDM_DISPATCH(finish, table, op);
}

Statements abort_statements(const TableDesc& table, const Operation& op) {
  ZDM_DISPATCH(abort, table, op);
}

bool needs_backfill(const Operation& op) { ZDM_DISPATCH(needs_backfill, op); }

BackfillSpec backfill_spec(const TableDesc& table, const Operation& op) {
  ZDM_DISPATCH(backfill, table, op);
}

namespace {

// The operations the same-table dual-write trigger serves (join operations have
// triggers of their own; index operations need none).
std::vector<Operation> same_table(const std::vector<Operation>& ops) {
  std::vector<Operation> out;
  for (const Operation& op : ops)
    if (uses_dual_write_trigger(op)) out.push_back(op);
  return out;
}

}  // namespace

std::vector<std::string> trigger_args(const std::vector<Operation>& open) {
  // A migration's operations must stand together: the trigger decides the
  // side of a write once per run of operations with the same migration.
  std::vector<Operation> ops = same_table(open);
  std::stable_sort(ops.begin(), ops.end(), [](const Operation& a, const Operation& b) {
    return a.migration < b.migration;
  });
  std::vector<std::string> args;
  for (const Operation& op : ops) {
    // set_not_null's shadow column is alter_type's to the same type, for the
    // trigger (and for zdm.forget, which reads its arguments).
    args.emplace_back(op_kind_name(has_shadow_column(op) ? OpKind::AlterType : op.kind));
    args.push_back(op.migration);
    args.emplace_back(op.kind == OpKind::AddColumn ? "" : op.column);
    args.push_back(op.kind == OpKind::AddColumn ? op.column : op.new_column);
    args.push_back(op.up);
    args.push_back(op.down);
  }
  return args;
}

std::string enable_always(const std::string& qualified_table, const std::string& trigger) {
  return "ALTER TABLE " + qualified_table + " ENABLE ALWAYS TRIGGER " + quote_ident(trigger);
}

Statements create_dual_write_trigger(const TableDesc& table, const std::vector<Operation>& ops) {
  if (same_table(ops).empty()) return {};
  std::string args;
  for (const std::string& arg : trigger_args(ops)) {
    if (!args.empty()) args += ", ";
    args += quote_literal(arg);
  }
  return {"CREATE TRIGGER " + quote_ident(dual_write_trigger_name()) +
              " BEFORE INSERT OR UPDATE ON " + table.qualified() +
              " FOR EACH ROW EXECUTE FUNCTION " + quote_qualified("zdm", "dual_write_trigger") +
              "(" + args + ")",
          enable_always(table.qualified(), dual_write_trigger_name())};
}

Statements with_dual_write_trigger(const TableDesc& table, Statements statements,
                                   const std::vector<Operation>& remaining) {
  Statements out;
  if (table.has_dual_write_trigger)
    out.push_back("DROP TRIGGER " + quote_ident(dual_write_trigger_name()) + " ON " +
                  table.qualified());
  for (std::string& s : statements) out.push_back(std::move(s));
  for (std::string& s : create_dual_write_trigger(table, remaining)) out.push_back(std::move(s));
  return out;
}

}  // namespace zdm::core
