// Identifier quoting and the names zdm gives to the objects it creates.
#pragma once

#include <string>
#include <vector>

namespace zdm::core {

// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes.
constexpr std::size_t kMaxIdentifierBytes = 63;

// Always quotes: "a""b". Every identifier zdm emits goes through this, so no
// user-supplied name is ever parsed as SQL.
std::string quote_ident(const std::string& ident);

// "schema"."name"
std::string quote_qualified(const std::string& schema, const std::string& name);

// A string literal, as PostgreSQL's quote_literal() writes it: '...' with
// quotes doubled, or E'...' with backslashes doubled too when the value holds
// one. For where a parameter cannot be used (trigger arguments in CREATE
// TRIGGER) and for the SQL that hints show. Either form reads the same whatever
// standard_conforming_strings says.
std::string quote_literal(const std::string& value);

// Cuts `name` to at most kMaxIdentifierBytes bytes without splitting a UTF-8
// character. When it had to cut, it appends a short hash so that two long names
// sharing a prefix stay distinct.
std::string fit_identifier(const std::string& name);

// The name of the trigger zdm installs on every table under migration. It sorts
// after ordinary user trigger names, so zdm sees what user BEFORE triggers set.
inline const char* dual_write_trigger_name() { return "zzz_zdm_dual_write"; }

// SQL that is true when two expressions differ, NULLs included, compared by
// binary image (record_image_eq): unlike IS DISTINCT FROM it needs no equality
// operator, so json, xml and point compare too. Called as a function: a
// ROW(...) op ROW(...) comparison would be expanded column by column.
std::string image_distinct_sql(const std::string& a, const std::string& b);

// A readable migration name such as "rename_person_last_name_to_surname".
// Anything that is not [a-z0-9_] becomes '_' so the name is easy to type.
std::string readable_migration_name(const std::vector<std::string>& parts);

// base, base_2, base_3, ... : the first candidate `taken` rejects is skipped.
template <typename Taken>
std::string unique_name(const std::string& base, Taken&& taken) {
  if (!taken(base)) return base;
  for (int i = 2;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (!taken(candidate)) return candidate;
  }
}

// The strings with separator between them ("" for none).
std::string joined(const std::vector<std::string>& parts, const char* separator);

}  // namespace zdm::core
