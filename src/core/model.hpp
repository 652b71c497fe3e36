// What the planner knows about a table and about the operations under way.
// Filled from the catalog by src/pg/catalog.cpp; built by hand in unit tests.
#pragma once

#include <string>
#include <vector>

namespace zdm::core {

struct Column {
  std::string name;
  std::string type_sql;       // schema-qualified type with its modifier
  std::string collation_sql;  // "" or a qualified collation name to repeat
  bool not_null = false;
  bool generated = false;  // GENERATED ALWAYS AS (...) STORED
  bool identity = false;
};

struct CheckConstraint {
  std::string name;
  std::vector<std::string> columns;  // the columns its expression reads
};

struct TableDesc {
  unsigned int oid = 0;
  std::string schema;
  std::string name;
  std::vector<Column> columns;  // live columns only, in attnum order
  std::vector<CheckConstraint> checks;
  std::vector<std::string> constraint_names;  // every constraint, any kind
  bool has_dual_write_trigger = false;

  const Column* find_column(const std::string& column) const;
  bool has_constraint(const std::string& constraint) const;
  std::string qualified() const;
};

enum class OpKind { Rename };

const char* op_kind_name(OpKind kind);

// One operation of a migration, as stored in zdm.operations.
struct Operation {
  long id = 0;
  std::string migration;
  OpKind kind = OpKind::Rename;
  std::string column;      // the old-side column
  std::string new_column;  // the new-side column
};

}  // namespace zdm::core
