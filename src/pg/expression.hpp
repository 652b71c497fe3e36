// The up/down expressions of add_column and drop_column, and the types and
// defaults those operations take as text.
//
// At begin, an expression is parsed under the caller's search_path, checked
// (one expression; no subquery, aggregate, window or set-returning function;
// IMMUTABLE only, as a generated column's expression), coerced to its column's
// type by assignment, and deparsed again with
// every name outside pg_catalog schema-qualified. That normalized text is what
// zdm stores and hands to the trigger, which compiles it once per relation with
// search_path pinned to pg_catalog (src/trigger/expression.cpp): it never
// resolves a name through the search_path of whoever happens to write the row.
//
// Each one also refuses when a role that may write table `relid` could not
// execute a function the expression calls (refuse_writers_without_execute):
// the trigger, the CHECK, the index or the default computes it with the
// writer's rights, so that role's every write would fail after begin.
#pragma once

#include <string>
#include <vector>

namespace zdm::pg {

std::string normalize_type(const std::string& type_text);
// up: over the table's current columns, to `type_sql`, by assignment.
// `cast_from`: the column, when `text` is zdm's default conversion of it (then
// a missing assignment cast is refused with the USING that ALTER TABLE would
// need).
// `reads`, when given, receives the columns it reads (in attnum order).
std::string normalize_up(unsigned int relid, const std::string& text, const std::string& type_sql,
                         const std::string& cast_from = {},
                         std::vector<std::string>* reads = nullptr);
// down: over the table's columns, to the type of `column`, by assignment.
std::string normalize_down(unsigned int relid, const std::string& text, const std::string& column,
                           const std::string& cast_from = {});
// create_index: a key expression over the table (its own type kept) and the
// partial index's predicate (boolean); both IMMUTABLE, as PostgreSQL requires.
// `reads`, when given, receives the columns each reads.
std::string normalize_index_expression(unsigned int relid, const std::string& text,
                                       std::vector<std::string>* reads = nullptr);
std::string normalize_predicate(unsigned int relid, const std::string& text,
                                std::vector<std::string>* reads = nullptr);
// add_check's expression: over the table's columns, to boolean, as a CHECK
// constraint's (errors name it "expression").
std::string normalize_check(unsigned int relid, const std::string& text,
                            std::vector<std::string>* reads = nullptr);
// A DEFAULT for a column of `type_sql` of table `relid`: no column
// references; immutable.
std::string normalize_default(unsigned int relid, const std::string& text,
                              const std::string& type_sql);

}  // namespace zdm::pg
