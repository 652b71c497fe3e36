// zdm's own tables: zdm.migrations, zdm.operations (with backfill progress)
// and zdm.ddl_log. Every read and write of them from the SQL-callable
// functions goes through the functions declared here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/state.hpp"

namespace zdm::pg {

struct StoredOperation {
  core::Operation op;
  unsigned int relid = 0;
  std::string backfill_state;  // pending | running | done
};

// The operations of one migration, in the order they were begun.
std::vector<StoredOperation> operations_of(const std::string& migration);

// The open operations on a table, across every active migration.
std::vector<core::Operation> open_operations_on(unsigned int relid,
                                                const std::string& except_migration = {});

// open_operations_on, and the open add_foreign_key operations (of any table)
// that reference `relid`, as core::add_foreign_key::referenced_side shows them:
// everything that reads or changes a column of it, for check_overlaps.
std::vector<core::Operation> open_operations_using(unsigned int relid);

// NULL means the only active migration the caller can act on; otherwise the
// name must exist among the migrations of the roles the caller is a member of
// (names are scoped per owner). Errors name the candidates.
std::string resolve_migration(const std::optional<std::string>& requested);
core::MigrationState migration_state(const std::string& migration);

// Opens migration `requested` of the owner of table `relid`, or adds to it when
// it is active (names are scoped per owner); NULL generates a readable name,
// unique among every owner's, from `name_parts`.
std::string open_migration(const std::optional<std::string>& requested,
                           const std::vector<std::string>& name_parts, unsigned int relid);

long record_operation(const core::Operation& op, unsigned int relid);

// Refuses a caller who does not own every table of the migration.
void require_migration_owner(const std::string& migration);

// Writes the migration's final state (finished or aborted) and its end time;
// runs nothing else.
void record_migration_end(const std::string& migration, core::MigrationState final_state);

// Locks the migration's row of zdm.migrations (as the catalog owner), so that finish, abort
// and a backfill batch never run at the same time on one migration. A backfill
// that commits between batches takes it again after each commit.
void lock_migration(const std::string& migration);

// Records a begin_column_to_join's join table, created after its operation.
void record_join_table(long op_id, const std::string& join_table);

// ---- what the DDL guards and forget read ----

// The active migrations, as "a", "b"; none: nullopt.
std::optional<std::string> active_migration_names();
// The active migrations with an operation on `relid` (as its table or as its
// join table), as "a", "b"; none: nullopt.
std::optional<std::string> active_migrations_on(unsigned int relid);
// Waits for every begin still in flight: its new zdm.migrations row is
// uncommitted until then (SHARE conflicts with its ROW EXCLUSIVE).
void wait_for_open_begins();

// ---- zdm.ddl_log ----

// Logs each statement a step ran, with the attempts and the lock wait it took.
void log_ddl(const std::string& migration, const std::string& phase,
             const std::vector<std::string>& statements, int attempts, double lock_wait_ms);

// ---- backfill progress (zdm.operations) ----

// An operation's backfill state as zdm.operations holds it. Key positions stay
// text[] literals ("{1,2}") and go back to the batch SQL as they are.
struct BackfillProgress {
  std::string state;
  std::optional<std::string> position;
  std::optional<std::string> upper;
  long rows_done = 0;
  long rows_updated = 0;
  std::optional<std::string> estimate;
  bool keyset = true;
  std::optional<std::string> key_names;  // the walk's key columns, joined by 0x1f
};
BackfillProgress read_backfill_progress(long op_id);

// Walks an operation's backfill again from its first key (or block): its
// position and rows visited go; record_backfill_start then records the key.
void restart_backfill_walk(long op_id);

// Records an operation's first run: the key it walks (names joined by 0x1f;
// NULL: ctid blocks), where the walk stops and the row estimate.
void record_backfill_start(long op_id, const std::optional<std::string>& key_names,
                           const std::optional<std::string>& upper,
                           const std::optional<std::string>& estimate);

// Adds a committed batch to the operation's progress: rows visited, converted
// and in conflict, the last key (NULL: unchanged), and whether it was the last.
// Clears the throttle reason.
// Also commits the anchor of rows/s over the last minute: since when
// (Unix epoch seconds) and rows_done then.
void record_batch(long op_id, long visited, long converted, long conflicts,
                  const std::optional<std::string>& position, bool done,
                  const std::string& rate_since_unix, long rate_since_rows);

// Rows inserted into the walked table since begin (pg_stat, this session's
// not yet reported included; 0 when the counters were reset).
long rows_inserted_since_begin(long op_id);

// Why the backfill waits now (max_rate, a lagging standby), for zdm.status().
void record_throttle(long op_id, const std::string& reason);

// ---- the background backfill worker (zdm.migrations.backfill_pid/_worker) ----

// The migration an operation belongs to; nullopt when it is gone.
std::optional<std::string> migration_of_operation(long op_id);
// The migration's first operation, which the worker is started with.
std::optional<std::string> first_operation_id(const std::string& migration);
// Records `pid` as the migration's running worker.
void record_worker_running(const std::string& migration, int pid);
// The worker's claim: waits for the transaction of backfill_start to end, and
// records `pid` as running when that transaction committed it; false when it
// rolled back (or a later start recorded another pid).
bool claim_worker(const std::string& migration, int pid);
// Forgets the migration's worker (a new one is being started).
void clear_worker(const std::string& migration);
// Records how worker `pid` of the operation's migration ended.
void record_worker_outcome(long op_id, const std::string& outcome, int pid);
// The pid of the migration's worker when pg_stat_activity shows it live as a
// zdm backfill worker of this database (a pid recorded before a restart may
// belong to another process now).
std::optional<std::string> live_worker_pid(const std::string& migration);

}  // namespace zdm::pg
