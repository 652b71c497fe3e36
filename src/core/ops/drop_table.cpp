#include "core/ops/drop_table.hpp"

#include "core/ops/common.hpp"

namespace zdm::core::drop_table {

Operation validate(const TableDesc& table, const std::vector<Operation>& open_on_table) {
  Operation op;
  op.kind = OpKind::DropTable;
  op.column = table.name;
  check_table_operations(table, op, open_on_table);
  return op;
}

Statements begin(const TableDesc&, const Operation&) { return {}; }

bool needs_backfill(const Operation&) { return false; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  return BackfillSpec{op.column, "false"};  // never run: needs_backfill() is false
}

Statements finish_validation(const TableDesc&, const Operation&) { return {}; }

Statements finish(const TableDesc& table, const Operation&) {
  return {"DROP TABLE " + table.qualified()};
}

Statements abort(const TableDesc&, const Operation&) { return {}; }

}  // namespace zdm::core::drop_table
