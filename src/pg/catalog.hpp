// zdm's catalog (zdm.migrations, zdm.operations) and the table descriptions the
// planner needs, read through SPI.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/state.hpp"

namespace zdm::pg {

// Reads a table for planning. Refuses what is not an ordinary table and callers
// who do not own it, and tables in an inheritance tree (abort passes
// allow_family: a tree that grew during the window must not trap it).
core::TableDesc load_table(unsigned int relid, bool allow_family = false);

// Refuses a table with FORCE ROW LEVEL SECURITY when the caller cannot bypass
// row security (neither a superuser nor BYPASSRLS): the backfill would see only
// the rows the policies show, and finish would contract over the others.
void require_rls_bypass(unsigned int relid);

// Whether a table with this OID still exists.
bool table_exists(unsigned int relid);

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

// NULL means the only active migration; otherwise the name must exist. Errors
// name the candidates.
std::string resolve_migration(const std::optional<std::string>& requested);
core::MigrationState migration_state(const std::string& migration);

// Opens migration `requested`, or adds to it when it is active; NULL generates a
// readable unique name from `name_parts`.
std::string open_migration(const std::optional<std::string>& requested,
                           const std::vector<std::string>& name_parts);

long record_operation(const core::Operation& op, unsigned int relid);

// Refuses to drop a column that views, foreign keys or other objects still
// need, naming them.
void check_no_dependents(unsigned int relid, const std::string& column,
                         const std::string& migration, const std::string& kept_as = {});

// Refuses to drop a table that views, foreign keys from other tables or other
// objects still need, naming them.
void check_no_table_dependents(unsigned int relid, const std::string& migration);

// The index builds the migration's operations still need (DROP INDEX
// CONCURRENTLY of an invalid leftover, then CREATE INDEX CONCURRENTLY).
std::vector<std::string> pending_statements(const std::string& migration);
// A NOTICE listing them, when there are any.
void announce_pending_statements(const std::string& migration);
// Refuses to finish until every index the operations need exists and is valid.
void require_indexes_built(const std::string& migration);

// Refuses a caller who does not own every table of the migration.
void require_migration_owner(const std::string& migration);
void end_migration(const std::string& migration, core::MigrationState final_state);

// Locks the migration's row of zdm.migrations (as the catalog owner), so that finish, abort
// and a backfill batch never run at the same time on one migration. A backfill
// that commits between batches takes it again after each commit.
void lock_migration(const std::string& migration);

}  // namespace zdm::pg
