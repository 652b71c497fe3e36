// The SQL-callable entry points: the begin_* functions, finish, abort and
// pending_statements. Each decodes its arguments, then orchestrates: reads the
// table (table_desc.hpp) and zdm's catalog (registry.hpp), asks src/core for
// the plan (one file per operation in src/core/ops/), checks what must refuse
// (refusals.hpp), and runs the plan through the lock-safe runner (runner.hpp).
// No SQL of its own.
#include <functional>
#include <map>

#include "core/error.hpp"
#include "core/ops/add_check.hpp"
#include "core/ops/add_column.hpp"
#include "core/ops/add_foreign_key.hpp"
#include "core/ops/add_unique.hpp"
#include "core/ops/alter_type.hpp"
#include "core/ops/common.hpp"
#include "core/ops/create_index.hpp"
#include "core/ops/drop_column.hpp"
#include "core/ops/drop_constraint.hpp"
#include "core/ops/drop_index.hpp"
#include "core/ops/drop_table.hpp"
#include "core/ops/join.hpp"
#include "core/ops/rename.hpp"
#include "core/ops/rename_table.hpp"
#include "core/ops/set_not_null.hpp"
#include "core/plan.hpp"
#include "core/quote.hpp"
#include "core/state.hpp"
#include "core/verify.hpp"
#include "pg/boundary.hpp"
#include "pg/refusals.hpp"
#include "pg/registry.hpp"
#include "pg/table_desc.hpp"
#include "pg/event_trigger.hpp"
#include "pg/expression.hpp"
#include "pg/worker.hpp"
#include "pg/runner.hpp"
#include "pg/spi.hpp"

namespace {

using zdm::core::Error;
using zdm::core::ErrorCode;
using zdm::pg::check_join_in_sync;
using zdm::pg::check_no_duplicates;
using zdm::pg::check_no_violations;
using zdm::pg::check_references;
using zdm::pg::constraint_facts;
using zdm::pg::index_blockers;
using zdm::pg::IndexBlockers;
using zdm::pg::load_referenced_table;
using zdm::pg::notice_subscriptions;
using zdm::pg::refuse_constraint_dependents;
using zdm::pg::refuse_index_blockers;
using zdm::pg::rename_table_view_oid;
using zdm::pg::Value;
using zdm::pg::verify_rows;

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  text* t = zdm::pg::pg_guard([&] { return PG_GETARG_TEXT_PP(n); });
  return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

std::string required_name(FunctionCallInfo fcinfo, int n, const char* what) {
  if (PG_ARGISNULL(n)) throw Error(ErrorCode::NullValue, std::string(what) + " must not be NULL");
  return NameStr(*PG_GETARG_NAME(n));
}

unsigned int required_table(FunctionCallInfo fcinfo, int n, const char* what = "tbl") {
  if (PG_ARGISNULL(n)) throw Error(ErrorCode::NullValue, std::string(what) + " must not be NULL");
  return PG_GETARG_OID(n);
}

std::string optional_name(FunctionCallInfo fcinfo, int n) {
  return PG_ARGISNULL(n) ? std::string() : std::string(NameStr(*PG_GETARG_NAME(n)));
}

Datum text_result(const std::string& s) {
  return zdm::pg::pg_guard(
      [&] { return PointerGetDatum(cstring_to_text_with_len(s.data(), (int)s.size())); });
}

// finish and abort share their shape: lock every table of the migration, then
// per table the operations' statements wrapped in the trigger's maintenance,
// run as one step.
void finish_or_abort(const std::optional<std::string>& requested, zdm::core::Action action) {
  const bool finishing = action == zdm::core::Action::Finish;
  const char* phase = finishing ? "finish" : "abort";
  zdm::pg::require_primary(finishing ? "zdm.finish()" : "zdm.abort()");
  zdm::pg::open_session();
  std::string migration = zdm::pg::resolve_migration(requested);
  zdm::pg::require_migration_owner(migration);
  zdm::core::check_transition(migration, zdm::pg::migration_state(migration), action);
  // A background backfill holds the migration's lock batch by batch: it stops
  // first (at a batch boundary; nothing committed is lost).
  zdm::pg::stop_backfill_worker(migration);
  zdm::pg::lock_migration(migration);

  std::vector<zdm::pg::StoredOperation> ops = zdm::pg::operations_of(migration);
  if (finishing) {
    long pending = 0;
    for (const auto& s : ops) pending += s.backfill_state != "done";
    zdm::core::check_backfill_complete(migration, pending);
  }
  std::map<unsigned int, std::vector<zdm::core::Operation>> by_table;
  for (const auto& s : ops) by_table[s.relid].push_back(s.op);
  if (finishing) {
    for (const auto& s : ops) check_no_duplicates(migration, s.relid, s.op);
    zdm::pg::require_indexes_built(migration);
  }

  std::vector<unsigned int> relids;
  for (const auto& s : ops)  // join tables are locked with their targets
    if (s.op.join_relid != 0 && zdm::pg::table_exists(s.op.join_relid))
      relids.push_back(s.op.join_relid);
  for (const auto& [relid, table_ops] : by_table) {
    if (zdm::pg::table_exists(relid)) {
      relids.push_back(relid);
    } else if (finishing) {
      throw Error(
          ErrorCode::UndefinedObject,
          "cannot finish migration \"" + migration + "\": a table it changes (OID " +
              std::to_string(relid) + ") was dropped",
          {}, "Abort the migration with zdm.abort(" + zdm::core::quote_literal(migration) + ").");
    }
  }
  // rename_table's views are locked before their tables (below).
  std::vector<unsigned int> views;
  for (const auto& s : ops)
    if (std::optional<unsigned int> view = rename_table_view_oid(s.relid, s.op)) {
      zdm::pg::check_view_unused(*view, migration, phase);
      views.push_back(*view);
    }
  if (finishing) {
    // The long scans (VALIDATE CONSTRAINT) run first, under a lock that lets
    // reads and writes go on.
    zdm::core::Statements validation;
    // And every row is checked before anything contracts: whatever bypassed
    // the trigger would be lost by the contraction (zdm::core::verify_sql; a
    // join table has no operations of its own and is compared with its target).
    std::vector<std::pair<zdm::core::TableDesc, std::string>> checks;
    for (unsigned int relid : relids) {
      zdm::core::TableDesc table = zdm::pg::load_table(relid, !finishing);
      for (const zdm::core::Operation& op : by_table[relid]) {
        zdm::core::Statements s = zdm::core::finish_validation_statements(table, op);
        validation.insert(validation.end(), s.begin(), s.end());
        if (op.kind == zdm::core::OpKind::DropColumn || zdm::core::has_shadow_column(op) ||
            op.kind == zdm::core::OpKind::ColumnToJoin)
          zdm::pg::check_no_dependents(relid, op.column, migration);
        if (op.kind == zdm::core::OpKind::Rename)
          zdm::pg::check_no_dependents(relid, op.new_column, migration, op.column);
        if (zdm::core::is_join_kind(op.kind)) check_join_in_sync(migration, table, op);
        check_no_violations(migration, table, op);
        if (op.kind == zdm::core::OpKind::DropIndex) {
          refuse_index_blockers(migration, relid, op.column);
          zdm::pg::refuse_replica_identity_drop(relid, op.column, false);
        }
        if (op.kind == zdm::core::OpKind::DropConstraint) {
          refuse_constraint_dependents(migration, table, op.column);
          zdm::pg::refuse_replica_identity_drop(relid, op.column, true);
        }
        if (op.kind == zdm::core::OpKind::JoinToColumn && op.join_relid != 0)
          zdm::pg::check_no_table_dependents(op.join_relid, migration);
        if (op.kind == zdm::core::OpKind::DropTable)
          zdm::pg::check_no_table_dependents(relid, migration, "the table");
      }
      notice_subscriptions(migration, relid, table);
      std::string sql = zdm::core::verify_sql(table, by_table[relid]);
      if (!sql.empty()) checks.emplace_back(std::move(table), std::move(sql));
    }
    if (!validation.empty() || !checks.empty()) {
      zdm::pg::StepOutcome validating =
          zdm::pg::lock_tables(migration, "finish", relids, zdm::pg::LockStrength::Validate);
      if (!validation.empty()) zdm::pg::run_statements(migration, "finish", validating, validation);
      for (const auto& [table, sql] : checks) verify_rows(migration, table, sql);
    }
  }
  // The views first, then the tables: the old app locks the view, then the
  // table under it. Taking the table first would leave an old-app transaction
  // that holds the view waiting for the table while this step waits for the
  // view, until the lock timeout, on every retry under steady old-app traffic.
  if (!views.empty()) zdm::pg::lock_tables(migration, phase, views);
  zdm::pg::StepOutcome locking = zdm::pg::lock_tables(migration, phase, relids);

  // Under the locks: the tables and the other migrations' operations on them
  // are what they are now, not what they were before this session queued.
  zdm::core::Statements statements;
  for (unsigned int relid : relids) {
    zdm::core::TableDesc table = zdm::pg::load_table(relid, !finishing);
    zdm::core::Statements table_statements;
    for (const zdm::core::Operation& op : by_table[relid]) {
      zdm::core::Statements s = finishing ? zdm::core::finish_statements(table, op)
                                          : zdm::core::abort_statements(table, op);
      table_statements.insert(table_statements.end(), s.begin(), s.end());
    }
    for (std::string& s : zdm::core::with_dual_write_trigger(
             table, std::move(table_statements), zdm::pg::open_operations_on(relid, migration)))
      statements.push_back(std::move(s));
  }
  zdm::pg::run_statements(migration, phase, locking, statements);
  zdm::pg::record_migration_end(migration, finishing ? zdm::core::MigrationState::Finished
                                                     : zdm::core::MigrationState::Aborted);
  if (finishing) {
    for (const auto& s : ops)
      if (s.op.kind == zdm::core::OpKind::ColumnToJoin)
        zdm::pg::pg_guard([&] {
          ereport(NOTICE,
                  (errmsg("zdm: column \"%s\" is dropped; table \"%s\" holds its values",
                          s.op.column.c_str(), s.op.join_name.c_str()),
                   errdetail("Its UNIQUE (%s) is dropped too: a key may now have several values.",
                             s.op.join_key.c_str())));
        });
    // A column that took a shadow column's place has no statistics yet.
    for (const auto& s : ops)
      if (zdm::core::has_shadow_column(s.op))
        zdm::pg::pg_guard([&] {
          ereport(NOTICE,
                  (errmsg(s.op.kind == zdm::core::OpKind::AlterType
                              ? "zdm: column \"%s\" has its new type; it has no statistics yet"
                              : "zdm: column \"%s\" is NOT NULL; it has no statistics yet",
                          (s.op.keep_new_name ? s.op.new_column : s.op.column).c_str()),
                   errhint("Run ANALYZE on the table when convenient.")));
        });
  }
  zdm::pg::close_session();
}

// Every begin_* has this shape: a first look refuses bad input before any lock
// is queued for; the plan is then made under the lock, from what is there now,
// and run in the same step. `validate` checks the request against a table
// description and the operations open on it.
using Validate = std::function<zdm::core::Operation(const zdm::core::TableDesc&,
                                                    const std::vector<zdm::core::Operation>&)>;
// Runs after the begin statements, before the trigger is created: for what can
// only be known once the new columns exist (alter_type's down reads its shadow
// column).
using AfterColumns = std::function<void(zdm::core::Operation&)>;

// An operation's validate(table, request, open) as a Validate, for a request
// decoded once (read when called: later changes to it count).
template <typename Request>
Validate validating(const Request& request,
                    zdm::core::Operation (*validate)(const zdm::core::TableDesc&, const Request&,
                                                     const std::vector<zdm::core::Operation>&)) {
  return [&request, validate](const zdm::core::TableDesc& t,
                              const std::vector<zdm::core::Operation>& open) {
    return validate(t, request, open);
  };
}

std::string begin_operation(unsigned int relid, const std::optional<std::string>& requested,
                            const std::vector<std::string>& name_parts, const Validate& validate,
                            const AfterColumns& after_columns = {}) {
  {
    zdm::core::TableDesc first = zdm::pg::load_table(relid);
    std::vector<zdm::core::Operation> first_open = zdm::pg::open_operations_using(relid);
    zdm::core::check_table_operations(first, validate(first, first_open), first_open);
  }
  zdm::pg::require_rls_bypass(relid);
  zdm::pg::StepOutcome locking = zdm::pg::lock_tables(
      requested.value_or(zdm::core::readable_migration_name(name_parts)), "begin", {relid});

  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  zdm::pg::require_rls_bypass(relid);  // again, as the table is now
  zdm::pg::require_trigger_order(relid);
  // What reads or changes the table's columns: its own open operations, and
  // the foreign keys of other tables being added that reference it.
  std::vector<zdm::core::Operation> using_table = zdm::pg::open_operations_using(relid);
  zdm::core::Operation op = validate(table, using_table);
  zdm::core::check_table_operations(table, op, using_table);
  std::vector<zdm::core::Operation> open_ops = zdm::pg::open_operations_on(relid);
  op.migration = zdm::pg::open_migration(requested, name_parts, relid);
  zdm::pg::run_statements(
      op.migration, "begin", locking,
      zdm::core::with_dual_write_trigger(table, zdm::core::begin_statements(table, op), {}));
  if (after_columns) after_columns(op);
  op.id = zdm::pg::record_operation(op, relid);
  open_ops.push_back(op);
  zdm::core::Statements trigger = zdm::core::create_dual_write_trigger(table, open_ops);
  if (!trigger.empty()) zdm::pg::run_statements(op.migration, "begin", locking, trigger);
  return op.migration;
}

}  // namespace

ZDM_FUNCTION(zdm_begin_rename) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::RenameRequest request{required_name(fcinfo, 1, "old_name"),
                                   required_name(fcinfo, 2, "new_name")};
  std::optional<std::string> requested = text_arg(fcinfo, 3);

  zdm::pg::require_primary("zdm.begin_rename()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  std::string migration = begin_operation(
      relid, requested, {"rename", table.name, request.column, "to", request.new_column},
      validating(request, zdm::core::rename::validate));
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_add_column) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::AddColumnRequest request;
  request.column = required_name(fcinfo, 1, "column_name");
  std::optional<std::string> type = text_arg(fcinfo, 2);
  if (!type) throw Error(ErrorCode::NullValue, "type must not be NULL");
  std::optional<std::string> up = text_arg(fcinfo, 3);
  if (PG_ARGISNULL(4)) throw Error(ErrorCode::NullValue, "not_null must not be NULL");
  request.not_null = PG_GETARG_BOOL(4);
  std::optional<std::string> default_expr = text_arg(fcinfo, 5);
  std::optional<std::string> requested = text_arg(fcinfo, 6);

  zdm::pg::require_primary("zdm.begin_add_column()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  request.type_sql = zdm::pg::normalize_type(*type);
  if (up) request.up = zdm::pg::normalize_up(relid, *up, request.type_sql, {}, &request.up_reads);
  if (default_expr)
    request.default_sql = zdm::pg::normalize_default(relid, *default_expr, request.type_sql);
  std::string migration = begin_operation(relid, requested, {"add", table.name, request.column},
                                          validating(request, zdm::core::add_column::validate));
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_drop_column) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::DropColumnRequest request;
  request.column = required_name(fcinfo, 1, "column_name");
  std::optional<std::string> down = text_arg(fcinfo, 2);
  std::optional<std::string> requested = text_arg(fcinfo, 3);

  zdm::pg::require_primary("zdm.begin_drop_column()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  if (down) {
    // Checked here first so that an unknown column gets zdm's error, not the
    // expression's.
    zdm::core::drop_column::validate(table, {request.column, "x"}, {});
    request.down = zdm::pg::normalize_down(relid, *down, request.column);
  }
  std::string migration = begin_operation(relid, requested, {"drop", table.name, request.column},
                                          validating(request, zdm::core::drop_column::validate));
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_alter_type) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::AlterTypeRequest request;
  request.column = required_name(fcinfo, 1, "column_name");
  std::optional<std::string> type = text_arg(fcinfo, 2);
  if (!type) throw Error(ErrorCode::NullValue, "new_type must not be NULL");
  std::optional<std::string> up = text_arg(fcinfo, 3);
  std::optional<std::string> down = text_arg(fcinfo, 4);
  std::optional<std::string> requested = text_arg(fcinfo, 5);
  // PG_NARGS: a 0.1.0 install (before ALTER EXTENSION UPDATE) passes six.
  if (PG_NARGS() > 6 && !PG_ARGISNULL(6)) request.new_name = optional_name(fcinfo, 6);

  zdm::pg::require_primary("zdm.begin_alter_type()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  const zdm::core::Column* column = table.find_column(request.column);
  if (column == nullptr)  // zdm's own error, before any expression is parsed
    zdm::core::alter_type::validate(table, request, {});
  request.type_sql = zdm::pg::normalize_type(*type);
  request.storage_settable = zdm::pg::type_storage_settable(request.type_sql);
  // Without up or down, the column converts by assignment, as ALTER TABLE ...
  // TYPE does without USING (never an explicit cast, which would truncate).
  request.up = up ? zdm::pg::normalize_up(relid, *up, request.type_sql)
                  : zdm::pg::normalize_up(relid, zdm::core::quote_ident(request.column),
                                          request.type_sql, request.column);
  std::string migration = begin_operation(
      relid, requested, {"alter", table.name, request.column},
      validating(request, zdm::core::alter_type::validate), [&](zdm::core::Operation& op) {
        op.down = down ? zdm::pg::normalize_down(relid, *down, op.column)
                       : zdm::pg::normalize_down(relid, zdm::core::quote_ident(op.new_column),
                                                 op.column, op.new_column);
      });
  zdm::pg::announce_pending_statements(migration);
  zdm::pg::close_session();
  return text_result(migration);
}

// Constraints on existing columns (#11 item 3) ------------------------------

ZDM_FUNCTION(zdm_begin_add_check) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::AddCheckRequest request;
  request.name = required_name(fcinfo, 1, "name");
  std::optional<std::string> expression = text_arg(fcinfo, 2);
  if (!expression) throw Error(ErrorCode::NullValue, "expression must not be NULL");
  std::optional<std::string> requested = text_arg(fcinfo, 3);

  zdm::pg::require_primary("zdm.begin_add_check()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  // zdm's own errors (name clash) before the expression's.
  zdm::core::add_check::validate(table, {request.name, "true"}, {});
  request.expression = zdm::pg::normalize_check(relid, *expression, &request.reads);
  std::string migration = begin_operation(relid, requested, {"check", table.name, request.name},
                                          validating(request, zdm::core::add_check::validate));
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_set_not_null) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::SetNotNullRequest request;
  request.column = required_name(fcinfo, 1, "column_name");
  std::optional<std::string> up = text_arg(fcinfo, 2);
  std::optional<std::string> requested = text_arg(fcinfo, 3);
  request.has_up = up.has_value();

  zdm::pg::require_primary("zdm.begin_set_not_null()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  // zdm's own errors (unknown column, already NOT NULL, ...) before the
  // expression's.
  zdm::core::SetNotNullRequest first = request;
  first.up = "true";
  zdm::core::set_not_null::validate(table, first, zdm::pg::open_operations_using(relid));
  if (up) {
    // Assignment to the column's own type, as alter_type's up.
    request.up = zdm::pg::normalize_up(relid, *up, table.find_column(request.column)->type_sql);
  }
  std::string migration = begin_operation(
      relid, requested, {"not_null", table.name, request.column},
      validating(request, zdm::core::set_not_null::validate), [&](zdm::core::Operation& op) {
        // The shadow column's value goes back unchanged.
        if (zdm::core::has_shadow_column(op))
          op.down = zdm::pg::normalize_down(relid, zdm::core::quote_ident(op.new_column), op.column,
                                            op.new_column);
      });
  if (up) zdm::pg::announce_pending_statements(migration);
  zdm::pg::close_session();
  return text_result(migration);
}

// Tables (#11 item 4) ----------------------------------------------------------

ZDM_FUNCTION(zdm_begin_rename_table) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::RenameTableRequest request;
  request.new_name = required_name(fcinfo, 1, "new_name");
  std::optional<std::string> requested = text_arg(fcinfo, 2);

  zdm::pg::require_primary("zdm.begin_rename_table()");
  zdm::pg::open_session();
  request.server_supported = PG_VERSION_NUM >= 150000;
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  auto read_catalog = [&](const zdm::core::TableDesc& t) {
    request.name_taken = zdm::pg::name_taken_in_schema(t.schema, request.new_name);
    request.rules = zdm::pg::rules_on(t.oid);
    // Through a security_invoker view every read (SELECT, WHERE, RETURNING)
    // reads all the view's columns from the table as the caller.
    request.column_only_grantees = zdm::pg::column_only_grantees(t.oid);
  };
  std::string migration = begin_operation(
      relid, requested, {"rename", table.name, "to", request.new_name},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        read_catalog(t);
        return zdm::core::rename_table::validate(t, request, open);
      });
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_drop_table) {
  unsigned int relid = required_table(fcinfo, 0);
  std::optional<std::string> requested = text_arg(fcinfo, 1);

  zdm::pg::require_primary("zdm.begin_drop_table()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  std::string migration = begin_operation(
      relid, requested, {"drop", table.name},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        return zdm::core::drop_table::validate(t, open);
      });
  zdm::pg::close_session();
  return text_result(migration);
}

// A join operation's begin: like begin_operation, over two tables. The
// operation is recorded first, because its triggers carry its id in their
// names.
std::string begin_join_operation(
    const std::vector<unsigned int>& relids, const std::optional<std::string>& requested,
    const std::vector<std::string>& name_parts,
    const std::function<zdm::core::Operation(zdm::core::TableDesc&)>& validate,
    const std::function<void(zdm::core::Operation&)>& after = {}) {
  const unsigned int target_relid = relids.back();
  zdm::core::TableDesc target = zdm::pg::load_table(target_relid);
  validate(target);
  for (unsigned int relid : relids) zdm::pg::require_rls_bypass(relid);
  zdm::pg::StepOutcome locking = zdm::pg::lock_tables(
      requested.value_or(zdm::core::readable_migration_name(name_parts)), "begin", relids);
  target = zdm::pg::load_table(target_relid);
  for (unsigned int relid : relids) zdm::pg::require_rls_bypass(relid);  // as they are now
  zdm::core::Operation op = validate(target);
  for (unsigned int relid : relids)  // rename_table, drop_table on either table
    zdm::core::check_table_operations(zdm::pg::load_table(relid), op,
                                      zdm::pg::open_operations_on(relid));
  op.migration = zdm::pg::open_migration(requested, name_parts, target_relid);
  op.id = zdm::pg::record_operation(op, target_relid);
  zdm::pg::run_statements(op.migration, "begin", locking, zdm::core::begin_statements(target, op));
  if (after) after(op);
  return op.migration;
}

ZDM_FUNCTION(zdm_begin_join_to_column) {
  unsigned int join_relid = required_table(fcinfo, 0, "join_table");
  zdm::core::JoinToColumnRequest request;
  request.join_key = required_name(fcinfo, 1, "join_key");
  unsigned int target_relid = required_table(fcinfo, 2, "target");
  request.target_key = required_name(fcinfo, 3, "target_key");
  request.value_column = required_name(fcinfo, 4, "value_column");
  request.new_column = optional_name(fcinfo, 5);
  std::optional<std::string> requested = text_arg(fcinfo, 6);

  zdm::pg::require_primary("zdm.begin_join_to_column()");
  zdm::pg::open_session();
  zdm::core::TableDesc first_join = zdm::pg::load_table(join_relid);
  zdm::core::TableDesc first_target = zdm::pg::load_table(target_relid);
  // On a logical-replication subscriber of both tables, the publisher's own
  // trigger writes both shapes and both arrive: a second sync here would write
  // the join row twice (the apply worker stops on a duplicate key).
  if (zdm::pg::Value subs = zdm::pg::subscriptions_of(join_relid);
      subs && zdm::pg::subscriptions_of(target_relid)) {
    const std::string join = zdm::core::quote_qualified(first_join.schema, first_join.name);
    const std::string target = zdm::core::quote_qualified(first_target.schema, first_target.name);
    throw Error(
        ErrorCode::FeatureNotSupported,
        "tables " + join + " and " + target + " are replicated here by subscription " + *subs,
        "The publisher's migration writes both tables and both reach this server: zdm's "
        "triggers here would write each join row a second time, and the apply worker "
        "would stop on a duplicate key.",
        "Do not begin this migration here. Before the publisher's begin, add the column "
        "to " +
            target +
            " here as a plain column; once the subscription has caught up "
            "with the publisher's finish, drop " +
            join + " here.");
  }
  std::string migration =
      begin_join_operation({join_relid, target_relid}, requested,
                           {"join", first_join.name, "to", first_target.name,
                            request.new_column.empty() ? request.value_column : request.new_column},
                           [&](zdm::core::TableDesc& target) {
                             zdm::core::TableDesc join = zdm::pg::load_table(join_relid);
                             request.key_types_comparable = zdm::pg::keys_comparable(
                                 join, request.join_key, target, request.target_key);
                             return zdm::core::join::validate_join_to_column(
                                 join, target, request, zdm::pg::open_operations_using(join_relid),
                                 zdm::pg::open_operations_using(target_relid));
                           });
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_column_to_join) {
  unsigned int target_relid = required_table(fcinfo, 0, "target");
  zdm::core::ColumnToJoinRequest request;
  request.target_key = required_name(fcinfo, 1, "target_key");
  request.value_column = required_name(fcinfo, 2, "value_column");
  request.join_table = required_name(fcinfo, 3, "join_table");
  request.join_key = optional_name(fcinfo, 4);
  request.new_column = optional_name(fcinfo, 5);
  std::optional<std::string> requested = text_arg(fcinfo, 6);

  zdm::pg::require_primary("zdm.begin_column_to_join()");
  zdm::pg::open_session();
  zdm::core::TableDesc first = zdm::pg::load_table(target_relid);
  const std::string join = zdm::core::quote_qualified(first.schema, request.join_table);
  // On a logical-replication subscriber, zdm's triggers here would fill the
  // join table only until the publisher's finish: after it, the publisher's
  // writes go to its own join table, which its publication does not hold.
  if (zdm::pg::Value subs = zdm::pg::subscriptions_of(target_relid)) {
    const std::string target = zdm::core::quote_qualified(first.schema, first.name);
    throw Error(ErrorCode::FeatureNotSupported,
                "table " + target + " is replicated here by subscription " + *subs,
                "After the publisher's finish its writes go to its join table only, which zdm "
                "here would not see.",
                "Do not begin this migration here. After the publisher's begin, create " + join +
                    " here as the publisher has it, add it to the publication there and run "
                    "ALTER SUBSCRIPTION ... REFRESH PUBLICATION here; once the subscription has "
                    "caught up with the publisher's finish, drop the column here.");
  }
  std::string migration = begin_join_operation(
      {target_relid}, requested, {"join", first.name, request.value_column},
      [&](zdm::core::TableDesc& target) {
        if (zdm::pg::relation_named(join))
          throw Error(
              ErrorCode::DuplicateTable, "relation " + join + " already exists", {},
              "Pass join_table => 'a name no relation in schema \"" + target.schema + "\" uses'.");
        // The join table is created by the caller and given to the target's
        // owner, unless they are the same role.
        if (zdm::pg::is_current_user(target.owner)) target.owner.clear();
        return zdm::core::join::validate_column_to_join(
            target, request, zdm::pg::open_operations_using(target_relid));
      },
      [&](zdm::core::Operation& op) { zdm::pg::record_join_table(op.id, join); });
  zdm::pg::close_session();
  return text_result(migration);
}

// The statements the migration tool must run, top-level, before finish: the
// CREATE INDEX CONCURRENTLY of alter_type's shadow columns (after a DROP INDEX
// CONCURRENTLY of any that a failed build left invalid).
ZDM_FUNCTION(zdm_pending_statements_array) {
  std::optional<std::string> requested = text_arg(fcinfo, 0);
  zdm::pg::open_session();
  std::string migration = zdm::pg::resolve_migration(requested);
  std::vector<std::string> statements = zdm::pg::pending_statements(migration);
  zdm::pg::close_session();
  std::vector<const char*> texts;
  for (const std::string& s : statements) texts.push_back(s.c_str());
  return zdm::pg::pg_guard([&] {
    Datum* items = static_cast<Datum*>(palloc(sizeof(Datum) * (texts.size() + 1)));
    for (std::size_t i = 0; i < texts.size(); i++) items[i] = CStringGetTextDatum(texts[i]);
    return PointerGetDatum(
        construct_array(items, static_cast<int>(texts.size()), TEXTOID, -1, false, TYPALIGN_INT));
  });
}

ZDM_FUNCTION(zdm_finish) {
  finish_or_abort(text_arg(fcinfo, 0), zdm::core::Action::Finish);
  PG_RETURN_VOID();
}

ZDM_FUNCTION(zdm_abort) {
  finish_or_abort(text_arg(fcinfo, 0), zdm::core::Action::Abort);
  PG_RETURN_VOID();
}

// ---- index operations (issue 11 item 2) ----

namespace {

// A text[] or name[] argument as strings; NULL elements refused.
std::vector<std::string> string_array_arg(FunctionCallInfo fcinfo, int n, const char* what) {
  if (PG_ARGISNULL(n)) throw Error(ErrorCode::NullValue, std::string(what) + " must not be NULL");
  bool has_null = false;
  std::vector<std::string> out;
  zdm::pg::pg_guard([&] {
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(n);
    const bool names = ARR_ELEMTYPE(array) == NAMEOID;
    Datum* items;
    bool* nulls;
    int count;
    if (names)
      deconstruct_array(array, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &items, &nulls, &count);
    else
      deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &items, &nulls, &count);
    for (int i = 0; i < count; i++) {
      if (nulls[i]) {
        has_null = true;
      } else if (names) {
        out.emplace_back(NameStr(*DatumGetName(items[i])));
      } else {
        text* t = DatumGetTextPP(items[i]);
        out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
      }
    }
    return 0;
  });
  if (has_null)
    throw Error(ErrorCode::NullValue, std::string(what) + " must not contain NULL elements");
  return out;
}

}  // namespace

namespace {
std::string begin_recorded_operation(const std::vector<unsigned int>& relids,
                                     const std::optional<std::string>& requested,
                                     const std::vector<std::string>& name_parts,
                                     const Validate& validate, zdm::pg::LockStrength strength);
}  // namespace

ZDM_FUNCTION(zdm_begin_create_index) {
  unsigned int relid = required_table(fcinfo, 0);
  std::vector<std::string> columns = string_array_arg(fcinfo, 1, "columns");
  std::string name = optional_name(fcinfo, 2);
  if (PG_ARGISNULL(3)) throw Error(ErrorCode::NullValue, "is_unique must not be NULL");
  zdm::core::CreateIndexRequest request;
  request.unique = PG_GETARG_BOOL(3);
  std::optional<std::string> method = text_arg(fcinfo, 4);
  if (!method) throw Error(ErrorCode::NullValue, "method must not be NULL");
  std::optional<std::string> where = text_arg(fcinfo, 5);
  std::optional<std::string> requested = text_arg(fcinfo, 6);

  zdm::pg::require_primary("zdm.begin_create_index()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  std::optional<zdm::pg::IndexMethod> am = zdm::pg::index_method(*method);
  if (!am)
    throw Error(ErrorCode::UndefinedObject,
                "index access method \"" + *method + "\" does not exist", {},
                "Pass method => one of SELECT amname FROM pg_am WHERE amtype = 'i'.");
  request.method = am->name;
  if (request.unique && !am->can_unique)
    throw Error(ErrorCode::FeatureNotSupported,
                "index access method \"" + request.method + "\" does not support unique indexes",
                {}, "Pass method => 'btree' for a unique index.");
  if (columns.empty())
    throw Error(ErrorCode::InvalidParameter, "columns must name at least one column or expression",
                {}, "Pass columns => ARRAY['a column', '(an expression)'].");
  for (const std::string& c : columns) {
    if (table.find_column(c) != nullptr) {
      request.keys.push_back(zdm::core::quote_ident(c));
      request.columns.push_back(c);
    } else {
      request.keys.push_back("(" + zdm::pg::normalize_index_expression(relid, c, &request.columns) +
                             ")");
    }
  }
  if (where) request.where = zdm::pg::normalize_predicate(relid, *where, &request.columns);
  request.migration = requested.value_or("");
  if (name.empty()) {
    std::string base = zdm::core::create_index::default_name(table.name, columns);
    name = base;
    for (int i = 1; zdm::pg::relation_exists(table.schema, name); i++)
      name = zdm::core::fit_identifier(base + std::to_string(i));
  } else if (zdm::pg::relation_exists(table.schema, name)) {
    throw Error(ErrorCode::DuplicateTable,
                "relation " + zdm::core::quote_qualified(table.schema, name) + " already exists",
                {}, "Pass name => 'a name no relation in schema \"" + table.schema + "\" uses'.");
  }
  request.name = name;
  // begin only records the index (no trigger, no column): SHARE UPDATE
  // EXCLUSIVE serializes it with zdm's other steps on the table, and the
  // apps' open transactions, readers and writers, neither hold it up nor queue
  // behind it.
  std::string migration = begin_recorded_operation(
      {relid}, requested, {"index", name}, validating(request, zdm::core::create_index::validate),
      zdm::pg::LockStrength::Validate);
  zdm::pg::announce_pending_statements(migration);
  zdm::pg::close_session();
  return text_result(migration);
}

// ---- drop_index, add_foreign_key, add_unique, drop_constraint (#11 items 2-3) ----

namespace {

// begin of an operation the dual-write trigger does not serve: the shape of
// begin_operation without the trigger's maintenance, under `strength` (SHARE
// UPDATE EXCLUSIVE when begin only records the operation: traffic goes on,
// other zdm steps on the table wait) on `relids` (the operation's table
// first).
std::string begin_recorded_operation(const std::vector<unsigned int>& relids,
                                     const std::optional<std::string>& requested,
                                     const std::vector<std::string>& name_parts,
                                     const Validate& validate, zdm::pg::LockStrength strength) {
  const unsigned int relid = relids.front();
  // rename_table and drop_table on any of the tables.
  auto check_tables = [&](const zdm::core::Operation& op) {
    for (unsigned int r : relids)
      zdm::core::check_table_operations(
          r == relid ? zdm::pg::load_table(r) : load_referenced_table(r), op,
          zdm::pg::open_operations_on(r));
  };
  check_tables(validate(zdm::pg::load_table(relid), zdm::pg::open_operations_on(relid)));
  zdm::pg::require_rls_bypass(relid);
  zdm::pg::StepOutcome locking =
      zdm::pg::lock_tables(requested.value_or(zdm::core::readable_migration_name(name_parts)),
                           "begin", relids, strength);
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  zdm::pg::require_rls_bypass(relid);  // again, as the table is now
  zdm::core::Operation op = validate(table, zdm::pg::open_operations_on(relid));
  check_tables(op);
  op.migration = zdm::pg::open_migration(requested, name_parts, relid);
  zdm::core::Statements begin = zdm::core::begin_statements(table, op);
  if (!begin.empty()) zdm::pg::run_statements(op.migration, "begin", locking, begin);
  op.id = zdm::pg::record_operation(op, relid);
  return op.migration;
}

}  // namespace

ZDM_FUNCTION(zdm_begin_drop_index) {
  if (PG_ARGISNULL(0)) throw Error(ErrorCode::NullValue, "index must not be NULL");
  const std::string index_oid = std::to_string(PG_GETARG_OID(0));
  std::optional<std::string> requested = text_arg(fcinfo, 1);

  zdm::pg::require_primary("zdm.begin_drop_index()");
  zdm::pg::open_session();
  const auto [index_name, relid] = zdm::pg::index_and_table(index_oid);
  zdm::core::DropIndexRequest request;
  request.index = index_name;
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  std::string migration = begin_recorded_operation(
      {relid}, requested, {"drop", request.index},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        IndexBlockers blockers = index_blockers(index_oid);
        request.constraint = blockers.constraint;
        request.dependents = blockers.dependents;
        zdm::core::Operation op = zdm::core::drop_index::validate(t, request, open);
        zdm::pg::refuse_replica_identity_drop(t.oid, request.index, false);
        return op;
      },
      zdm::pg::LockStrength::Validate);
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_add_foreign_key) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::AddForeignKeyRequest request;
  request.columns = string_array_arg(fcinfo, 1, "columns");
  unsigned int ref_relid = required_table(fcinfo, 2, "ref_table");
  request.ref_columns = string_array_arg(fcinfo, 3, "ref_columns");
  std::optional<std::string> on_delete = text_arg(fcinfo, 4);
  if (!on_delete) throw Error(ErrorCode::NullValue, "on_delete must not be NULL");
  request.on_delete = *on_delete;
  request.name = optional_name(fcinfo, 5);
  std::optional<std::string> requested = text_arg(fcinfo, 6);

  zdm::pg::require_primary("zdm.begin_add_foreign_key()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  std::string migration = begin_recorded_operation(
      {relid, ref_relid}, requested, {"fk", table.name, zdm::core::joined(request.columns, "_")},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        zdm::core::TableDesc ref = ref_relid == relid ? t : load_referenced_table(ref_relid);
        zdm::core::Operation op = zdm::core::add_foreign_key::validate(
            t, ref, request, open,
            ref_relid == relid ? open : zdm::pg::open_operations_on(ref_relid));
        check_references(t, ref, request);
        return op;
      },
      zdm::pg::LockStrength::ShareRowExclusive);
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_add_unique) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::AddUniqueRequest request;
  request.columns = string_array_arg(fcinfo, 1, "columns");
  std::string name = optional_name(fcinfo, 2);
  std::optional<std::string> requested = text_arg(fcinfo, 3);

  zdm::pg::require_primary("zdm.begin_add_unique()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  if (request.columns.empty())
    throw Error(ErrorCode::InvalidParameter, "columns must name at least one column", {},
                "Pass columns => ARRAY['a column'].");
  if (name.empty()) {
    std::string base = zdm::core::add_unique::default_name(table.name, request.columns);
    name = base;
    for (int i = 1; zdm::pg::relation_exists(table.schema, name) || table.has_constraint(name); i++)
      name = zdm::core::fit_identifier(base + std::to_string(i));
  } else if (zdm::pg::relation_exists(table.schema, name) && !table.has_constraint(name)) {
    throw Error(ErrorCode::DuplicateTable,
                "relation " + zdm::core::quote_qualified(table.schema, name) + " already exists",
                {}, "Pass name => 'a name no relation in schema \"" + table.schema + "\" uses'.");
  }
  request.name = name;
  request.migration = requested.value_or("");
  std::string migration = begin_recorded_operation(
      {relid}, requested, {"unique", name},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        request.unorderable = zdm::pg::columns_without_btree_opclass(t.oid, request.columns);
        return zdm::core::add_unique::validate(t, request, open);
      },
      zdm::pg::LockStrength::Validate);
  zdm::pg::announce_pending_statements(migration);
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_drop_constraint) {
  unsigned int relid = required_table(fcinfo, 0);
  const std::string name = required_name(fcinfo, 1, "name");
  std::optional<std::string> requested = text_arg(fcinfo, 2);

  zdm::pg::require_primary("zdm.begin_drop_constraint()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  std::string migration = begin_recorded_operation(
      {relid}, requested, {"drop", table.name, name},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        zdm::core::Operation op =
            zdm::core::drop_constraint::validate(t, constraint_facts(relid, name), open);
        zdm::pg::refuse_replica_identity_drop(t.oid, name, true);
        return op;
      },
      zdm::pg::LockStrength::Validate);
  zdm::pg::close_session();
  return text_result(migration);
}

// Instant, so not an operation of a migration: it runs now, through the
// lock-safe runner (ALTER TABLE ... RENAME CONSTRAINT takes ACCESS EXCLUSIVE
// for a moment), and is logged in zdm.ddl_log under `migration` when given.
ZDM_FUNCTION(zdm_rename_constraint) {
  unsigned int relid = required_table(fcinfo, 0);
  const std::string name = required_name(fcinfo, 1, "name");
  const std::string new_name = required_name(fcinfo, 2, "new_name");
  std::optional<std::string> requested = text_arg(fcinfo, 3);

  zdm::pg::require_primary("zdm.rename_constraint()");
  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  // Its columns: one an open operation holds (alter_type finds the column's
  // constraints by name at finish) is refused.
  zdm::core::DropConstraintRequest request = constraint_facts(relid, name);
  zdm::core::drop_constraint::rename_statement(table, request, new_name,
                                               zdm::pg::open_operations_on(relid));
  // A PRIMARY KEY, UNIQUE or EXCLUDE constraint renames its index too.
  if (zdm::pg::constraint_has_index(relid, name) &&
      zdm::pg::relation_exists(table.schema, new_name))
    throw Error(
        ErrorCode::DuplicateTable,
        "relation " + zdm::core::quote_qualified(table.schema, new_name) + " already exists",
        "Constraint \"" + name + "\" has an index, which takes the new name too.",
        "Pass new_name => 'a name no relation in schema \"" + table.schema + "\" uses'.");
  std::string migration;
  if (requested) {
    zdm::core::check_transition(*requested, zdm::pg::migration_state(*requested),
                                zdm::core::Action::AddOperation);
    zdm::pg::require_migration_owner(*requested);
    migration = *requested;
  }
  zdm::pg::StepOutcome locking = zdm::pg::lock_tables(migration, "rename_constraint", {relid});
  table = zdm::pg::load_table(relid);  // as it is now
  request = constraint_facts(relid, name);
  const std::string statement = zdm::core::drop_constraint::rename_statement(
      table, request, new_name, zdm::pg::open_operations_on(relid));
  zdm::pg::run_statements(migration, "rename_constraint", locking, {statement});
  zdm::pg::close_session();
  PG_RETURN_VOID();
}
