// The trigger's expression compiler: turns the up/down text that begin
// normalized (src/pg/expression.cpp: checked, coerced, every name outside
// pg_catalog qualified) into a planned expression over the table, once per
// dual-write cache entry. C-style: raises PostgreSQL errors.
#pragma once

#include "common/postgres.hpp"

extern "C" {
// `text` over `rel`, coerced by assignment to (typid, typmod) and planned
// (SQL functions inlined, constants folded) with search_path pinned to
// pg_catalog: it never resolves a name through the search_path of whoever
// writes the row. `what` ("up", "down") names it in errors. Appends to `calls`
// (a List of Oid) the functions whose EXECUTE its writer needs
// (zdm_functions_called), before and after planning.
Expr* zdm_compile_expression(Relation rel, const char* text, Oid typid, int32 typmod,
                             const char* what, List** calls);
}
