// SQL through SPI for the catalog work of begin/finish/abort/backfill (never the
// trigger's hot path). Parameters travel as text and the SQL casts them, so no
// value is ever spliced into a statement.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace zdm::pg {

// Refuses to run `call` (e.g. "zdm.finish()") on a hot standby, where every
// write fails: says so plainly, before any check whose message would mislead.
void require_primary(const char* call);

using Value = std::optional<std::string>;
using Row = std::vector<Value>;

// A boolean column as SPI's text form gives it.
inline bool is_true(const Value& v) { return v && *v == "t"; }

// While one is alive, every statement of query, query_as_caller and the
// catalog-owner calls runs from a plan prepared once and kept (SPI_keepplan,
// up to 32, by statement text), as a PL/pgSQL function's statements do: a
// backfill's batches stop paying the parse and plan of each of their
// statements. PostgreSQL's plan cache replans a kept plan whose tables,
// search_path or role-dependent policies changed. Nested scopes share the
// outer one; the outermost frees the plans.
class PreparedStatements {
 public:
  PreparedStatements();
  ~PreparedStatements();
  PreparedStatements(const PreparedStatements&) = delete;
  PreparedStatements& operator=(const PreparedStatements&) = delete;

 private:
  bool owner_ = false;
};

std::vector<Row> query(const char* sql, const std::vector<Value>& params = {});
Value query_value(const char* sql, const std::vector<Value>& params = {});

// For statements that fire the user's own triggers (backfill's UPDATEs): they
// run under the caller's search_path with pg_catalog forced to its front, so
// user triggers resolve their names as they do for the application while no
// schema on the caller's path can shadow a built-in that zdm's SQL uses, and
// under the caller's TimeZone (current_date, timestamp casts in the user's
// triggers); the other pinned settings stay (see open_session). A key passed
// as text survives the TimeZone: zdm's ISO forms carry their offset.
std::vector<Row> query_as_caller(const char* sql, const std::vector<Value>& params);

// The same search_path for anything else that must resolve names as the
// caller does (parsing an up/down expression); pop_search_path undoes it.
int push_caller_search_path();
void pop_search_path(int level);

// Writes to zdm's own tables run as the extension's owner: callers may migrate
// tables they own without being able to edit zdm's catalog by hand.
long execute_as_catalog_owner(const char* sql, const std::vector<Value>& params = {});
Value query_value_as_catalog_owner(const char* sql, const std::vector<Value>& params = {});

// Opens SPI and pins, for the call, the settings that could change what zdm's
// statements mean or the text forms it writes and reads back: search_path
// (pg_catalog, pg_temp), DateStyle (ISO), IntervalStyle (postgres), TimeZone
// (UTC), extra_float_digits (3), bytea_output (hex), lc_monetary (C),
// standard_conforming_strings and array_nulls (on), and row_security (off: a
// policy that would hide a row from zdm is an error, never a silent skip).
// `nonatomic` lets a procedure commit between batches.
void open_session(bool nonatomic = false);
void close_session();

// A commit pops the settings pinned by open_session; a procedure that commits
// calls this right after each commit.
void pin_settings();

}  // namespace zdm::pg
