// SQL through SPI for the catalog work of begin/finish/abort/backfill (never the
// trigger's hot path). Parameters travel as text and the SQL casts them, so no
// value is ever spliced into a statement.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace zdm::pg {

using Value = std::optional<std::string>;
using Row = std::vector<Value>;

std::vector<Row> query(const char* sql, const std::vector<Value>& params = {});
Value query_value(const char* sql, const std::vector<Value>& params = {});

// For statements that fire the user's own triggers (backfill's UPDATEs): they
// run under the caller's search_path with pg_catalog forced to its front, so
// user triggers resolve their names as they do for the application while no
// schema on the caller's path can shadow a built-in that zdm's SQL uses.
std::vector<Row> query_as_caller(const char* sql, const std::vector<Value>& params);

// The same search_path for anything else that must resolve names as the
// caller does (parsing an up/down expression); pop_search_path undoes it.
int push_caller_search_path();
void pop_search_path(int level);

// Writes to zdm's own tables run as the extension's owner: callers may migrate
// tables they own without being able to edit zdm's catalog by hand.
long execute_as_catalog_owner(const char* sql, const std::vector<Value>& params = {});
Value query_value_as_catalog_owner(const char* sql, const std::vector<Value>& params = {});

// Opens SPI and pins search_path to pg_catalog, pg_temp for the call, so that
// nothing zdm runs resolves names through the caller's search_path. `nonatomic`
// lets a procedure commit between batches.
void open_session(bool nonatomic = false);
void close_session();

// A commit pops the search_path pinned by open_session; a procedure that
// commits calls this right after each commit.
void pin_search_path();

}  // namespace zdm::pg
