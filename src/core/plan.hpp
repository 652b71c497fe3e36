// The plan builder: for an operation on a described table, the SQL that each
// phase runs. Pure C++; src/pg runs the statements through the lock-safe runner.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"

namespace zdm::core {

// How backfill converts one row: a no-op `SET touch = touch` makes the
// dual-write trigger recompute the new side from the old side (backfill is an
// old-side write), restricted to rows for which `needs_work` holds. Both are
// SQL over the table aliased as `t`. `unconverted` holds for a row that
// converting would still change, and never for a row just converted: a walk
// checks it before it says done, for rows an update moved where the walk had
// been or past where it stops. Empty when an update always converts
// the row it writes (a plain copy, a column a constraint reads).
struct BackfillSpec {
  std::string touch_column;
  std::string needs_work;
  std::string unconverted{};
};

// What one phase does to a table: statements run in order, in one step, under
// one set of locks.
using Statements = std::vector<std::string>;

struct RenameRequest {
  std::string column;
  std::string new_column;
};

// Expressions arrive normalized by src/pg: parsed, checked and deparsed with
// every name outside pg_catalog schema-qualified.
struct AddColumnRequest {
  std::string column;
  std::string type_sql;
  std::string up;  // may be empty: old-side writes then leave the column NULL
  bool not_null = false;
  std::string default_sql;
  std::vector<std::string> up_reads = {};  // the columns `up` reads
};

struct AlterTypeRequest {
  std::string column;
  std::string type_sql;          // normalized
  std::string up;                // normalized; the caller defaults it to a cast
  std::string down;              // normalized; over the shadow column, so filled in after validate
  bool storage_settable = true;  // the new type is not a fixed-length PLAIN one
  // begin_alter_type's new_name. Empty: the shadow column "<column>_new" takes
  // the column's name at finish. Another name: the converted column is created
  // under it for good (finish drops the old column and renames nothing), so the
  // new app uses one name before and after finish. The column's own name: the
  // new app keeps writing the column itself, allowed only for a lossless
  // widening (alter_type::is_lossless_widening).
  std::optional<std::string> new_name = std::nullopt;
};

struct DropColumnRequest {
  std::string column;
  std::string down;  // may be empty: new-side writes then leave the column NULL
};

// join_to_column: join_table(join_key, value_column) becomes target.new_column,
// matched on join_key = target_key. src/pg fills key_types_comparable (an
// equality operator joins the two key types).
struct JoinToColumnRequest {
  std::string join_key;
  std::string target_key;
  std::string value_column;
  std::string new_column;  // empty: the value column's name
  bool key_types_comparable = true;
};

// column_to_join: target.value_column becomes a new join table
// join_table(join_key, new_column), with join_key = target_key.
struct ColumnToJoinRequest {
  std::string target_key;
  std::string value_column;
  std::string join_table;  // created in the target's schema
  std::string join_key;    // empty: "<target>_<target_key>"
  std::string new_column;  // empty: the value column's name
};

// create_index: keys arrive normalized by src/pg (a quoted column, or a
// parenthesized deparsed expression); the name is resolved (given or
// generated), the method checked against pg_am.
struct CreateIndexRequest {
  std::string name;
  std::vector<std::string> keys;
  // Every column it reads: the plain keys, and what the key expressions and
  // the predicate read (src/pg resolves them).
  std::vector<std::string> columns;
  bool unique = false;
  std::string method = "btree";
  std::string where;  // normalized predicate, or empty
  // The open migration it joins, or empty: an add_column of that migration
  // may add a column it reads (composes_on_column).
  std::string migration = {};
};

// add_check: `expression` arrives normalized (boolean, IMMUTABLE, names
// qualified).
struct AddCheckRequest {
  std::string name;
  std::string expression;
  // The columns it reads: none may be under another open operation, whose
  // finish could drop the column (and the constraint with it).
  std::vector<std::string> reads = {};
};

// set_not_null: `up` arrives normalized (IMMUTABLE, to the column's type);
// has_up says whether it was given (the shadow-column variant).
struct SetNotNullRequest {
  std::string column;
  bool has_up = false;
  std::string up = {};
};

// rename_table: src/pg fills what only the catalog knows.
struct RenameTableRequest {
  std::string new_name;
  bool name_taken = false;       // a relation or type of the schema has new_name
  std::string rules = {};        // the table's rules, comma-separated, or ""
  bool server_supported = true;  // PostgreSQL 15+ (security_invoker views)
  // Roles with column privileges on the table but no table-level SELECT
  // (comma-separated, or ""): their reads through the view would fail.
  std::string column_only_grantees = {};
};

// drop_index: src/pg fills what only the catalog knows about the index.
struct DropIndexRequest {
  std::string index;       // its name; an index of the table
  std::string constraint;  // the PRIMARY KEY, UNIQUE or EXCLUDE constraint it backs, or ""
  std::string dependents;  // other objects that need it (foreign keys), described; or ""
};

// add_foreign_key: src/pg checks the referenced side (columns, types, a unique
// index) and passes it as `ref`.
struct AddForeignKeyRequest {
  std::string name;  // empty: "<table>_<columns>_fkey", made free
  std::vector<std::string> columns;
  std::vector<std::string> ref_columns;
  std::string on_delete = "NO ACTION";  // as given; validate normalizes it
};

// add_unique: a UNIQUE constraint on existing columns, through a unique index
// built concurrently.
struct AddUniqueRequest {
  std::string name;  // resolved by src/pg (given, or add_unique::default_name made free)
  std::vector<std::string> columns;
  // The columns whose type has no default btree operator class, described
  // (`column "c" of type json`), comma-separated: no UNIQUE index can be
  // built on them.
  std::string unorderable{};
  std::string migration = {};  // the open migration it joins, or empty (as create_index's)
};

// drop_constraint (and rename_constraint): src/pg fills what only the catalog
// knows.
struct DropConstraintRequest {
  std::string name;
  std::vector<std::string> columns;  // the columns it constrains (conkey)
  std::string dependents;            // other objects that need it, described; or ""
};

// Each operation's validate (src/core/ops/<operation>.hpp: rename::validate,
// join::validate_join_to_column, ...) checks a request against the table and
// the operations already open on it and returns the operation to record (id
// and migration are filled in by the caller).

// For an operation that adds a constraint NOT VALID: one row, how many rows
// violate it and the first 10 of their keys (text, or NULL); finish refuses
// before VALIDATE when the count is not 0. Empty for the other kinds.
std::string constraint_violations_sql(const TableDesc& table, const Operation& op);
// add_unique: one row, how many key values occur more than once (rows with a
// NULL key column excepted, as the unique index excepts them) and the first 10
// of them with their counts, or NULL. Empty for the other kinds.
std::string duplicate_keys_sql(const TableDesc& table, const Operation& op);

// The index builds an operation needs before finish. CREATE INDEX CONCURRENTLY
// cannot run in a function or a transaction block, so zdm hands these to the
// migration tool (zdm.pending_statements()) and finish refuses until each
// index in `required_indexes` exists and is valid.
Statements concurrent_index_statements(const TableDesc& table, const Operation& op);
std::vector<std::string> required_indexes(const TableDesc& table, const Operation& op);

// Overlapping operations on one column. Refuses (ObjectInUse, naming the
// column, the open migration and its operation) beginning `op` on `table`
// while an operation open on the table
// - changes a column `op` changes too (Operation::claimed_columns), or
// - changes a column the other reads (Operation::reads), either way round,
//   unless the pair composes (composes_on_column): the changer's finish or
//   abort would drop, rename or replace the column under the reader's index or
//   constraint (or, for drop_index and drop_constraint, bring it back).
// Two operations that only read a column (two indexes on it) never overlap.
// `op.migration`: the open migration it joins, or empty.
void check_overlaps(const TableDesc& table, const Operation& op,
                    const std::vector<Operation>& open_on_table);
// The same with the columns of `table` that `op` changes and reads given (a
// join operation claims different columns on each of its two tables).
void check_overlaps(const TableDesc& table, const Operation& op,
                    const std::vector<std::string>& claims, const std::vector<std::string>& reads,
                    const std::vector<Operation>& open_on_table);
// Whether `changer`, which changes a column, and `reader`, which reads it, may
// be open at the same time:
// - set_not_null without up changes no column's name, type or identity;
// - a column add_column adds may be indexed (create_index, add_unique) in the
//   same migration only: one finish, one abort (which drops the index with the
//   column); another migration's index would outlive an abort of its column;
// - drop_index conflicts only with what rebuilds the column's indexes on a
//   shadow column (alter_type, set_not_null with up: finish would give the
//   twin the dropped index's name); drop_column takes the index along (its
//   finish is DROP INDEX IF EXISTS), a rename keeps it on the column.
// Every other pair conflicts.
bool composes_on_column(const Operation& changer, const Operation& reader);

// The phases of any operation; each dispatches on op.kind to src/core/ops/.
Statements begin_statements(const TableDesc& table, const Operation& op);
// Statements finish runs first, under a lock that lets reads and writes go on
// (SHARE UPDATE EXCLUSIVE): the long scans, such as VALIDATE CONSTRAINT.
Statements finish_validation_statements(const TableDesc& table, const Operation& op);
Statements finish_statements(const TableDesc& table, const Operation& op);
Statements abort_statements(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill_spec(const TableDesc& table, const Operation& op);

// The arguments of the dual-write trigger that serves `ops`, six per
// operation, in the order the trigger parses them: kind, migration, the
// old-side column, the new-side column (either may be empty), up and down
// (empty: a plain copy between the two columns, or nothing).
std::vector<std::string> trigger_args(const std::vector<Operation>& ops);

// Surrounds `statements` with the trigger's maintenance: drop the table's
// dual-write trigger, run them, and recreate the trigger for `remaining` (the
// operations still open on the table afterwards), or leave it dropped.
Statements with_dual_write_trigger(const TableDesc& table, Statements statements,
                                   const std::vector<Operation>& remaining);
// CREATE TRIGGER, then ENABLE ALWAYS (so that it fires under
// session_replication_role = replica too: bulk loads, a subscriber's apply
// worker); empty when none of `ops` is served by the dual-write trigger.
Statements create_dual_write_trigger(const TableDesc& table, const std::vector<Operation>& ops);
// ALTER TABLE ... ENABLE ALWAYS TRIGGER: a trigger zdm creates fires whatever
// session_replication_role says.
std::string enable_always(const std::string& qualified_table, const std::string& trigger);

// Rejects a name that PostgreSQL would silently truncate or cannot store.
void check_identifier(const std::string& what, const std::string& name);

}  // namespace zdm::core
