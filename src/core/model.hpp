// What the planner knows about a table and about the operations under way.
// Filled from the catalog by src/pg/table_desc.cpp; built by hand in unit tests.
#pragma once

#include <string>
#include <vector>

namespace zdm::core {

// An object that reads a column and would block dropping it (or go with it):
// found at begin, so that alter_type refuses then rather than at finish.
struct ColumnDependent {
  std::string column;  // the column it reads
  // "view", "materialized view", "rule", "policy", "generated column",
  // "trigger", "statistics object" or "other"
  std::string kind;
  std::string description;  // "view v", "policy p on table t", ...
};

// A column privilege (pg_attribute.attacl): what GRANT ... (column) gave.
struct ColumnGrant {
  std::string grantee;    // "" = PUBLIC
  std::string privilege;  // SELECT, INSERT, UPDATE or REFERENCES
  bool grantable = false;
  bool operator==(const ColumnGrant& o) const {
    return grantee == o.grantee && privilege == o.privilege && grantable == o.grantable;
  }
};

// What else is attached to a column and follows it to the column that takes
// its place: privileges, comment, statistics target, options, storage.
struct ColumnExtras {
  std::string column;
  std::vector<ColumnGrant> grants;
  bool has_comment = false;
  std::string comment;
  int statistics_target = -1;                                // -1: the default
  std::vector<std::pair<std::string, std::string>> options;  // n_distinct, ...
  std::string storage;           // "" = the type's default; else PLAIN, EXTERNAL, EXTENDED, MAIN
  std::string compression;       // "" = the default; else pglz, lz4
  bool storage_settable = true;  // the type is not fixed-length PLAIN (storage and
                                 // compression may be set)
};

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
  bool validated = true;
};

// An index, as far as alter_type needs it to build a twin on another column.
struct Index {
  std::string name;
  std::string method;  // btree, hash, ...
  bool unique = false;
  std::string constraint;                // the UNIQUE or PRIMARY KEY constraint it backs, or ""
  std::vector<std::string> keys;         // key columns, in order
  std::vector<std::string> key_options;  // per key: "", " DESC", " NULLS FIRST", ...
  std::vector<std::string> include;      // INCLUDE columns
  std::vector<std::string> uses;         // every column it reads: keys, INCLUDE, expressions
  bool simple = true;  // no expression, no predicate, default opclasses and collations
};

// A FOREIGN KEY constraint of the table.
struct ForeignKey {
  std::string name;
  std::vector<std::string> columns;  // the referencing columns, in order
  std::string references;            // "REFERENCES s.t(c) ON DELETE ...", names qualified
  bool validated = true;
  std::string ref_table;                 // the referenced table, quoted and qualified
  std::vector<std::string> ref_columns;  // the referenced columns, in order
};

struct TableDesc {
  unsigned int oid = 0;
  std::string schema;
  std::string name;
  std::vector<Column> columns;  // live columns only, in attnum order
  std::vector<CheckConstraint> checks;
  std::vector<std::string> constraint_names;  // every constraint, any kind
  std::vector<std::string> primary_key;       // column names, empty if none
  std::vector<Index> indexes;
  std::vector<std::string> foreign_key_columns;               // in a FOREIGN KEY, either end
  std::vector<ForeignKey> foreign_keys;                       // the table's own
  std::vector<std::pair<std::string, std::string>> defaults;  // column, expression
  std::vector<ColumnExtras> extras;  // one per column that has any, in attnum order
  // What reads each column, outside the table's own indexes, constraints and
  // defaults and zdm's triggers.
  std::vector<ColumnDependent> dependents;
  bool has_dual_write_trigger = false;
  std::string owner;                                            // the owning role
  std::vector<std::pair<std::string, std::string>> privileges;  // grantee ("" = PUBLIC), privilege

  const Column* find_column(const std::string& column) const;
  // The column's extras; an empty set (nothing attached) when it has none.
  ColumnExtras extras_of(const std::string& column) const;
  std::string default_of(const std::string& column) const;  // "" when none
  bool has_constraint(const std::string& constraint) const;
  // A valid, simple (no expression, no predicate) unique index whose key is
  // exactly `column`; nullptr when there is none.
  const Index* unique_index_on(const std::string& column) const;
  // The validated single-column foreign key of `column`; nullptr when none.
  const ForeignKey* foreign_key_of(const std::string& column) const;
  std::string qualified() const;
};

enum class OpKind {
  Rename,
  AddColumn,
  DropColumn,
  AlterType,
  JoinToColumn,
  ColumnToJoin,
  CreateIndex,
  // Constraints on existing columns (#11 item 3): no dual-write trigger.
  AddCheck,
  // NOT NULL on an existing column (#11 item 3): a NOT VALID check, or with
  // `up` a shadow column as alter_type's.
  SetNotNull,
  // Whole tables (#11 item 4): no trigger, no column.
  RenameTable,
  DropTable,
  DropIndex,
  AddForeignKey,
  AddUnique,
  DropConstraint,
};

// Cross-table operations keep a join table and a column of the target in sync
// with AFTER triggers; the others are served by the same-table dual-write trigger.
bool is_join_kind(OpKind kind);
// drop_index, add_foreign_key, add_unique, drop_constraint (#11 items 2-3):
// column_name holds the index's or the constraint's name; they claim no column
// (they read some: Operation::reads) and the dual-write trigger does not serve
// them.
bool is_index_or_constraint_kind(OpKind kind);
// Whether the same-table dual-write trigger serves the kind (index operations
// change nothing a write sees).
bool uses_dual_write_trigger(OpKind kind);
struct Operation;
// Per operation: set_not_null uses the trigger only with its shadow column.
bool uses_dual_write_trigger(const Operation& op);
// alter_type, and set_not_null with `up`: a "<column>_new" that finish swaps in
// (drops the column, renames the shadow).
bool has_shadow_column(const Operation& op);

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
  std::string new_column;  // rename: the new name; empty otherwise
  std::string type_sql;    // add_column, alter_type: the new column's type
  std::string up;          // computes the new column from the old side; may be empty
  std::string down;        // computes the old column from the new side; may be empty
  bool not_null = false;   // add_column
  // alter_type with new_name: new_column keeps its name at finish (no swap).
  bool keep_new_name = false;
  std::string default_sql;  // add_column: set at finish; may be empty
  // At begin only (not stored). add_column: the columns `up` reads, whose
  // column privileges the new column inherits; alter_type: whether the new type
  // takes the old column's storage and compression (not fixed-length PLAIN).
  std::vector<std::string> up_reads;
  bool storage_settable = true;
  std::string check_name;  // add_column: the NOT VALID check begin adds; join_to_column: the
                           // NOT VALID foreign key of the new column; column_to_join: the
                           // join table's UNIQUE (join_key) that finish drops

  // join_to_column, column_to_join. The operation's table is the target; the
  // join table maps join_key (= target_key of the target) to join_value, which
  // mirrors `column` of the target. type_sql is the value's type.
  unsigned int join_relid = 0;
  std::string join_schema;
  std::string join_name;
  std::string join_key;
  std::string join_value;
  std::string target_key;
  std::string references_sql;  // the value's foreign key to repeat ("REFERENCES ..."), or ""

  // Index and constraint operations (create_index, add_unique, add_check,
  // add_foreign_key, drop_index, drop_constraint): the columns of the table
  // they read (keys, expressions, predicate; a check's expression; the
  // constraint's columns), stored at begin. An operation that changes one of
  // them may not be open at the same time (check_overlaps).
  std::vector<std::string> reads;
  // add_foreign_key: the referenced table (at begin only; stored as ref_table)
  // and the columns of it the key reads (stored).
  unsigned int ref_relid = 0;
  std::vector<std::string> ref_reads;

  // The columns it changes (adds, drops, renames, replaces, makes NOT NULL):
  // no other open operation may change them, nor read them unless the pair
  // composes (check_overlaps). Index and constraint operations claim none.
  std::vector<std::string> claimed_columns() const;
  // "rename a -> b", "add_column c", "drop_column d"
  std::string describe() const;
};

}  // namespace zdm::core
