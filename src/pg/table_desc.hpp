// User tables as the planner sees them (pg_catalog read into core::TableDesc),
// what depends on them, and the state of the indexes a migration needs.
#pragma once

#include <optional>
#include <string>
#include <utility>
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

// ---- what begin and finish read besides the table description ----

// Refuses to drop rename_table's view (put under the table's old name) while
// other objects depend on it, naming them; `phase` is "finish" or "abort".
void check_view_unused(unsigned int view, const std::string& migration, const char* phase);
// The OID of the view of that (quoted, qualified) name, if there is one.
std::optional<unsigned int> view_oid(const std::string& qualified_name);
// Whether a type is not a fixed-length PLAIN one (its storage can be set).
bool type_storage_settable(const std::string& type_sql);
// Whether a relation or a type of the schema has the name.
bool name_taken_in_schema(const std::string& schema, const std::string& name);
// The table's rules, quoted and comma-separated ("" when none).
std::string rules_on(unsigned int relid);
// The roles with a column privilege on the table but no SELECT on the table
// itself, quoted and comma-separated ("" when none).
std::string column_only_grantees(unsigned int relid);
// Of `columns`, those whose type has no default btree operator class (json,
// xml, point, ...), as `column "c" of type t`, comma-separated ("" when none).
std::string columns_without_btree_opclass(unsigned int relid,
                                          const std::vector<std::string>& columns);
// Whether the two key types compare with an equality operator of pg_catalog,
// both ways round.
bool keys_comparable(const core::TableDesc& join, const std::string& join_key,
                     const core::TableDesc& target, const std::string& target_key);
// The subscriptions that apply a publisher's changes to a table here, quoted
// and comma-separated; nothing when none does.
std::optional<std::string> subscriptions_of(unsigned int relid);
bool relation_exists(const std::string& schema, const std::string& name);
// Whether the name (as the caller's search_path resolves it) is a relation.
bool relation_named(const std::string& name);
bool is_current_user(const std::string& role);

struct IndexMethod {
  std::string name;
  bool can_unique = false;
};
// An index access method of pg_am; nothing when there is none of that name.
std::optional<IndexMethod> index_method(const std::string& name);

// begin_drop_index: the index's name and its table's OID (an error naming the
// object when it is not an index of an ordinary table).
std::pair<std::string, unsigned int> index_and_table(const std::string& index_oid);
// Whether the constraint is a PRIMARY KEY, UNIQUE or EXCLUDE (it has an index).
bool constraint_has_index(unsigned int relid, const std::string& name);

}  // namespace zdm::pg
