#include "core/ops/drop_index.hpp"

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::drop_index {

Operation validate(const TableDesc& table, const DropIndexRequest& request,
                   const std::vector<Operation>& open_on_table) {
  const Index* index = nullptr;
  for (const Index& i : table.indexes)
    if (i.name == request.index) index = &i;
  if (index == nullptr)
    throw Error(ErrorCode::UndefinedObject, "index \"" + request.index + "\" of table " +
                                                table.qualified() + " does not exist");
  if (!request.constraint.empty())
    throw Error(ErrorCode::ObjectInUse,
                "index \"" + request.index + "\" backs constraint \"" + request.constraint +
                    "\" of table " + table.qualified(),
                "Dropping the index would drop the constraint.",
                "Drop the constraint instead: zdm.begin_drop_constraint(" +
                    quote_literal(table.qualified()) + ", " + quote_literal(request.constraint) +
                    ").");
  if (!request.dependents.empty())
    throw Error(
        ErrorCode::ObjectInUse,
        "other objects depend on index \"" + request.index + "\" of table " + table.qualified(),
        "Depending on it: " + request.dependents + ".",
        "Drop those first (zdm.begin_drop_constraint for a foreign key), or keep the "
        "index.");
  for (const Operation& open : open_on_table) {
    const bool same = open.column == request.index;
    if (same && open.kind == OpKind::DropIndex)
      throw Error(ErrorCode::ObjectInUse,
                  "index \"" + request.index + "\" is already being dropped by migration \"" +
                      open.migration + "\"",
                  {}, "Finish or abort migration \"" + open.migration + "\" first.");
    if (same && (open.kind == OpKind::CreateIndex || open.kind == OpKind::AddUnique))
      throw Error(
          ErrorCode::ObjectInUse,
          "index \"" + request.index + "\" is being built by migration \"" + open.migration + "\"",
          {}, "To drop it, abort migration \"" + open.migration + "\" (abort drops it).");
  }
  Operation op;
  op.kind = OpKind::DropIndex;
  op.column = request.index;
  op.reads = index->uses;
  // alter_type (and set_not_null with up) rebuild the column's indexes on a
  // shadow column, and finish gives the twin the original's name: the index
  // would come back (composes_on_column).
  check_overlaps(table, op, open_on_table);
  return op;
}

Statements begin(const TableDesc&, const Operation&) { return {}; }

bool needs_backfill(const Operation&) { return false; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  return BackfillSpec{op.column, "false"};  // never run: needs_backfill() is false
}

Statements finish_validation(const TableDesc&, const Operation&) { return {}; }

// IF EXISTS: a column that another operation of the migration drops takes the
// index with it.
Statements finish(const TableDesc& table, const Operation& op) {
  return {"DROP INDEX IF EXISTS " + quote_qualified(table.schema, op.column)};
}

Statements abort(const TableDesc&, const Operation&) { return {}; }

}  // namespace zdm::core::drop_index
