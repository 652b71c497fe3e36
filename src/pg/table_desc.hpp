// User tables as the planner sees them (pg_catalog read into core::TableDesc),
// what depends on them, and the state of the indexes a migration needs.
#pragma once

#include <string>
#include <vector>

#include "core/model.hpp"

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

// Refuses to drop a column that views, foreign keys or other objects still
// need, naming them.
void check_no_dependents(unsigned int relid, const std::string& column,
                         const std::string& migration, const std::string& kept_as = {});

// Refuses to drop a table that views, foreign keys from other tables or other
// objects still need, naming them.
// `as_used` names it in the hint ("the join table", "the table").
void check_no_table_dependents(unsigned int relid, const std::string& migration,
                               const std::string& as_used = "the join table");

// The index builds the migration's operations still need (DROP INDEX
// CONCURRENTLY of an invalid leftover, then CREATE INDEX CONCURRENTLY).
std::vector<std::string> pending_statements(const std::string& migration);
// A NOTICE listing them, when there are any.
void announce_pending_statements(const std::string& migration);
// Refuses to finish until every index the operations need exists and is valid.
void require_indexes_built(const std::string& migration);

}  // namespace zdm::pg
