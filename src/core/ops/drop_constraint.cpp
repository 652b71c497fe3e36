#include "core/ops/drop_constraint.hpp"

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::drop_constraint {

namespace {

void require_constraint(const TableDesc& table, const std::string& name) {
  check_identifier("name", name);
  if (!table.has_constraint(name))
    throw Error(ErrorCode::UndefinedObject,
                "constraint \"" + name + "\" of table " + table.qualified() + " does not exist", {},
                "See \\d " + table.qualified() + ".");
}

// An open operation that adds this constraint (add_check, add_foreign_key,
// add_unique, add_column's NOT NULL check, join_to_column's foreign key) or
// already drops it.
void require_not_held(const TableDesc& table, const std::string& name,
                      const std::vector<Operation>& open_on_table) {
  for (const Operation& open : open_on_table)
    if (open.check_name == name)
      throw Error(ErrorCode::ObjectInUse,
                  "constraint \"" + name + "\" of table " + table.qualified() +
                      " is under migration \"" + open.migration + "\"",
                  "That migration's " + open.describe() + " is still open.",
                  "Finish or abort migration \"" + open.migration + "\" first.");
}

}  // namespace

Operation validate(const TableDesc& table, const DropConstraintRequest& request,
                   const std::vector<Operation>& open_on_table) {
  require_constraint(table, request.name);
  require_not_held(table, request.name, open_on_table);
  if (!request.dependents.empty())
    throw Error(
        ErrorCode::ObjectInUse,
        "other objects depend on constraint \"" + request.name + "\" of table " + table.qualified(),
        "Depending on it: " + request.dependents + ".",
        "Drop those first (zdm.begin_drop_constraint for a foreign key, in the same "
        "migration or an earlier one), or keep the constraint.");
  Operation op;
  op.kind = OpKind::DropConstraint;
  op.column = request.name;
  op.check_name = request.name;
  op.reads = request.columns;
  // alter_type repeats the constraints of its column on the shadow column and
  // keeps them at finish; drop_column and a rename's copy take them along.
  check_overlaps(table, op, open_on_table);
  return op;
}

std::string rename_statement(const TableDesc& table, const DropConstraintRequest& request,
                             const std::string& new_name,
                             const std::vector<Operation>& open_on_table) {
  require_constraint(table, request.name);
  check_identifier("new_name", new_name);
  if (new_name == request.name)
    throw Error(ErrorCode::InvalidParameter, "new_name is the constraint's name already", {},
                "Pass another new_name.");
  if (table.has_constraint(new_name))
    throw Error(ErrorCode::DuplicateObject,
                "constraint \"" + new_name + "\" of table " + table.qualified() + " already exists",
                {}, "Pass new_name => 'a name the table''s constraints do not use'.");
  // zdm finds the constraints of open operations by name, and alter_type's
  // finish the constraints of its column (and their copies on the shadow
  // column) by name too.
  require_not_held(table, request.name, open_on_table);
  // It reads its columns as a dropped constraint does (composes_on_column).
  Operation renaming;
  renaming.kind = OpKind::DropConstraint;
  renaming.column = request.name;
  renaming.reads = request.columns;
  check_overlaps(table, renaming, open_on_table);
  return alter_table(table) + "RENAME CONSTRAINT " + quote_ident(request.name) + " TO " +
         quote_ident(new_name);
}

Statements begin(const TableDesc&, const Operation&) { return {}; }

bool needs_backfill(const Operation&) { return false; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  return BackfillSpec{op.column, "false"};  // never run: needs_backfill() is false
}

Statements finish_validation(const TableDesc&, const Operation&) { return {}; }

// Gone already when another operation of the migration dropped its column.
Statements finish(const TableDesc& table, const Operation& op) {
  if (!table.has_constraint(op.check_name)) return {};
  return {alter_table(table) + "DROP CONSTRAINT " + quote_ident(op.check_name)};
}

Statements abort(const TableDesc&, const Operation&) { return {}; }

}  // namespace zdm::core::drop_constraint
