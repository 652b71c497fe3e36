// The SQL-callable entry points: the begin_* functions, finish, abort and
// pending_statements. Each reads the catalog, asks src/core for the plan, and
// runs it through the lock-safe runner; the plans themselves live in
// src/core/ops/, one file per operation.
#include <functional>
#include <map>

#include "core/error.hpp"
#include "core/plan.hpp"
#include "core/quote.hpp"
#include "core/state.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog.hpp"
#include "pg/expression.hpp"
#include "pg/runner.hpp"
#include "pg/spi.hpp"

namespace {

using zdm::core::Error;
using zdm::core::ErrorCode;
using zdm::pg::Value;

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  text* t = zdm::pg::pg_guard([&] { return PG_GETARG_TEXT_PP(n); });
  return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

std::string required_name(FunctionCallInfo fcinfo, int n, const char* what) {
  if (PG_ARGISNULL(n)) throw Error(ErrorCode::NullValue, std::string(what) + " must not be NULL");
  return NameStr(*PG_GETARG_NAME(n));
}

unsigned int required_table(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) throw Error(ErrorCode::NullValue, "tbl must not be NULL");
  return PG_GETARG_OID(n);
}

Datum text_result(const std::string& s) {
  return zdm::pg::pg_guard(
      [&] { return PointerGetDatum(cstring_to_text_with_len(s.data(), (int)s.size())); });
}

// finish and abort share their shape: lock every table of the migration, then
// per table the operations' statements wrapped in the trigger's maintenance,
// run as one step.
void end_migration(const std::optional<std::string>& requested, zdm::core::Action action) {
  const bool finishing = action == zdm::core::Action::Finish;
  const char* phase = finishing ? "finish" : "abort";
  zdm::pg::open_session();
  std::string migration = zdm::pg::resolve_migration(requested);
  zdm::pg::require_migration_owner(migration);
  zdm::core::check_transition(migration, zdm::pg::migration_state(migration), action);
  zdm::pg::lock_migration(migration);

  std::vector<zdm::pg::StoredOperation> ops = zdm::pg::operations_of(migration);
  if (finishing) {
    long pending = 0;
    for (const auto& s : ops) pending += s.backfill_state != "done";
    zdm::core::check_backfill_complete(migration, pending);
  }
  std::map<unsigned int, std::vector<zdm::core::Operation>> by_table;
  for (const auto& s : ops) by_table[s.relid].push_back(s.op);
  if (finishing) zdm::pg::require_indexes_built(migration);

  std::vector<unsigned int> relids;
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
  if (finishing) {
    // The long scans (VALIDATE CONSTRAINT) run first, under a lock that lets
    // reads and writes go on.
    zdm::core::Statements validation;
    for (unsigned int relid : relids) {
      zdm::core::TableDesc table = zdm::pg::load_table(relid);
      for (const zdm::core::Operation& op : by_table[relid]) {
        zdm::core::Statements s = zdm::core::finish_validation_statements(table, op);
        validation.insert(validation.end(), s.begin(), s.end());
        if (op.kind == zdm::core::OpKind::DropColumn || op.kind == zdm::core::OpKind::AlterType)
          zdm::pg::check_no_dependents(relid, op.column, migration);
      }
    }
    if (!validation.empty()) {
      zdm::pg::StepOutcome validating =
          zdm::pg::lock_tables(migration, "finish", relids, zdm::pg::LockStrength::Validate);
      zdm::pg::run_statements(migration, "finish", validating, validation);
    }
  }
  zdm::pg::StepOutcome locking = zdm::pg::lock_tables(migration, phase, relids);

  // Under the locks: the tables and the other migrations' operations on them
  // are what they are now, not what they were before this session queued.
  zdm::core::Statements statements;
  for (unsigned int relid : relids) {
    zdm::core::TableDesc table = zdm::pg::load_table(relid);
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
  zdm::pg::end_migration(migration, finishing ? zdm::core::MigrationState::Finished
                                              : zdm::core::MigrationState::Aborted);
  if (finishing) {
    // A column that took a shadow column's place has no statistics yet.
    for (const auto& s : ops)
      if (s.op.kind == zdm::core::OpKind::AlterType)
        zdm::pg::pg_guard([&] {
          ereport(NOTICE, (errmsg("zdm: column \"%s\" has its new type; it has no statistics yet",
                                  s.op.column.c_str()),
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

std::string begin_operation(unsigned int relid, const std::optional<std::string>& requested,
                            const std::vector<std::string>& name_parts, const Validate& validate,
                            const AfterColumns& after_columns = {}) {
  validate(zdm::pg::load_table(relid), zdm::pg::open_operations_on(relid));
  zdm::pg::StepOutcome locking = zdm::pg::lock_tables(
      requested.value_or(zdm::core::readable_migration_name(name_parts)), "begin", {relid});

  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  std::vector<zdm::core::Operation> open_ops = zdm::pg::open_operations_on(relid);
  zdm::core::Operation op = validate(table, open_ops);
  op.migration = zdm::pg::open_migration(requested, name_parts);
  zdm::pg::run_statements(
      op.migration, "begin", locking,
      zdm::core::with_dual_write_trigger(table, zdm::core::begin_statements(table, op), {}));
  if (after_columns) after_columns(op);
  op.id = zdm::pg::record_operation(op, relid);
  open_ops.push_back(op);
  zdm::pg::run_statements(op.migration, "begin", locking,
                          {zdm::core::create_dual_write_trigger(table, open_ops)});
  return op.migration;
}

}  // namespace

ZDM_FUNCTION(zdm_begin_rename) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::RenameRequest request{required_name(fcinfo, 1, "old_name"),
                                   required_name(fcinfo, 2, "new_name")};
  std::optional<std::string> requested = text_arg(fcinfo, 3);

  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  std::string migration = begin_operation(
      relid, requested, {"rename", table.name, request.column, "to", request.new_column},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        return zdm::core::validate_rename(t, request, open);
      });
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

  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  request.type_sql = zdm::pg::normalize_type(*type);
  if (up) request.up = zdm::pg::normalize_up(relid, *up, request.type_sql);
  if (default_expr)
    request.default_sql = zdm::pg::normalize_default(*default_expr, request.type_sql);
  std::string migration = begin_operation(
      relid, requested, {"add", table.name, request.column},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        return zdm::core::validate_add_column(t, request, open);
      });
  zdm::pg::close_session();
  return text_result(migration);
}

ZDM_FUNCTION(zdm_begin_drop_column) {
  unsigned int relid = required_table(fcinfo, 0);
  zdm::core::DropColumnRequest request;
  request.column = required_name(fcinfo, 1, "column_name");
  std::optional<std::string> down = text_arg(fcinfo, 2);
  std::optional<std::string> requested = text_arg(fcinfo, 3);

  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  if (down) {
    // Checked here first so that an unknown column gets zdm's error, not the
    // expression's.
    zdm::core::validate_drop_column(table, {request.column, "x"}, {});
    request.down = zdm::pg::normalize_down(relid, *down, request.column);
  }
  std::string migration = begin_operation(
      relid, requested, {"drop", table.name, request.column},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        return zdm::core::validate_drop_column(t, request, open);
      });
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

  zdm::pg::open_session();
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  const zdm::core::Column* column = table.find_column(request.column);
  if (column == nullptr)  // zdm's own error, before any expression is parsed
    zdm::core::validate_alter_type(table, request, {});
  request.type_sql = zdm::pg::normalize_type(*type);
  request.up = zdm::pg::normalize_up(
      relid, up.value_or(zdm::core::quote_ident(request.column) + "::" + request.type_sql),
      request.type_sql);
  const std::string old_type = column->type_sql;
  std::string migration = begin_operation(
      relid, requested, {"alter", table.name, request.column},
      [&](const zdm::core::TableDesc& t, const std::vector<zdm::core::Operation>& open) {
        return zdm::core::validate_alter_type(t, request, open);
      },
      [&](zdm::core::Operation& op) {
        op.down = zdm::pg::normalize_down(
            relid, down.value_or(zdm::core::quote_ident(op.new_column) + "::" + old_type),
            op.column);
      });
  zdm::pg::announce_pending_statements(migration);
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
  end_migration(text_arg(fcinfo, 0), zdm::core::Action::Finish);
  PG_RETURN_VOID();
}

ZDM_FUNCTION(zdm_abort) {
  end_migration(text_arg(fcinfo, 0), zdm::core::Action::Abort);
  PG_RETURN_VOID();
}
