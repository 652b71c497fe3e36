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
  std::vector<std::string> primary_key;       // column names, empty if none
  bool has_dual_write_trigger = false;

  const Column* find_column(const std::string& column) const;
  bool has_constraint(const std::string& constraint) const;
  std::string qualified() const;
};

enum class OpKind { Rename, AddColumn, DropColumn };

const char* op_kind_name(OpKind kind);
OpKind parse_op_kind(const std::string& name);  // throws on an unknown name

// One operation of a migration, as stored in zdm.operations.
struct Operation {
  long id = 0;
  std::string migration;
  OpKind kind = OpKind::Rename;
  // rename: the old name; add_column: the added column; drop_column: the
  // dropped column.
  std::string column;
  std::string new_column;   // rename: the new name; empty otherwise
  std::string type_sql;     // add_column: the added column's type
  std::string expression;   // add_column: up; drop_column: down; may be empty
  bool not_null = false;    // add_column
  std::string default_sql;  // add_column: set at finish; may be empty
  std::string check_name;   // add_column: the NOT VALID check begin adds

  // The columns no other open operation may touch while this one is open.
  std::vector<std::string> claimed_columns() const;
  // "rename a -> b", "add_column c", "drop_column d"
  std::string describe() const;
};

}  // namespace zdm::core
