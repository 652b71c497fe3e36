#include "core/backfill.hpp"

#include "core/quote.hpp"

namespace zdm::core {

namespace {

// "t.a, t.b"
std::string key_list(const std::vector<KeyColumn>& key, const std::string& alias,
                     const std::string& suffix = {}) {
  std::string out;
  for (const KeyColumn& k : key) {
    if (!out.empty()) out += ", ";
    out += alias + "." + quote_ident(k.name) + suffix;
  }
  return out;
}

// "(($1::text[])[1]::int4, ...)": a key stored as text[] back in its own types.
std::string key_param(const std::vector<KeyColumn>& key, int param) {
  std::string out = "(";
  for (std::size_t i = 0; i < key.size(); i++) {
    if (i > 0) out += ", ";
    out += "($" + std::to_string(param) + "::pg_catalog.text[])[" + std::to_string(i + 1) +
           "]::" + key[i].type_sql;
  }
  return out + ")";
}

std::string key_as_text_array(const std::vector<KeyColumn>& key, const std::string& alias) {
  std::string out = "ARRAY[";
  for (std::size_t i = 0; i < key.size(); i++) {
    if (i > 0) out += ", ";
    out += alias + "." + quote_ident(key[i].name) + "::pg_catalog.text";
  }
  return out + "]";
}

std::string touch(const BackfillSpec& spec) {
  return quote_ident(spec.touch_column) + " = t." + quote_ident(spec.touch_column);
}

}  // namespace

namespace {

// "(t.a, t.b) > (pos) AND (t.a, t.b) <= (last)", with, for a composite key,
// the same bounds on its leading column alone: the planner estimates a row
// comparison from its leading column's statistics, and a plain range on that
// column is what it reads its histogram for.
std::string key_range(const std::vector<KeyColumn>& key, bool from_start, int lower, int upper) {
  const std::string row = "(" + key_list(key, "t") + ")";
  std::string where = row + " <= " + key_param(key, upper);
  if (!from_start) where = row + " > " + key_param(key, lower) + " AND " + where;
  if (key.size() > 1) {
    const std::string lead = "t." + quote_ident(key[0].name);
    auto element = [&](int param) {
      return "($" + std::to_string(param) + "::pg_catalog.text[])[1]::" + key[0].type_sql;
    };
    if (!from_start) where += " AND " + lead + " >= " + element(lower);
    where += " AND " + lead + " <= " + element(upper);
  }
  return where;
}

}  // namespace

std::string keyset_batch_end_sql(const TableDesc& table, const std::vector<KeyColumn>& key,
                                 bool from_start) {
  return "WITH batch AS (SELECT " + key_list(key, "t") + " FROM " + table.qualified() +
         " t WHERE " + key_range(key, from_start, 1, 2) + " ORDER BY " + key_list(key, "t") +
         " LIMIT $3::pg_catalog.int4) "
         "SELECT (SELECT pg_catalog.count(*) FROM batch), (SELECT " +
         key_as_text_array(key, "b") + " FROM batch b ORDER BY " + key_list(key, "b", " DESC") +
         " LIMIT 1)";
}

std::string keyset_update_sql(const TableDesc& table, const std::vector<KeyColumn>& key,
                              const BackfillSpec& spec, bool from_start) {
  return "WITH converted AS (UPDATE " + table.qualified() + " t SET " + touch(spec) + " WHERE " +
         key_range(key, from_start, 1, 2) + " AND " + spec.needs_work +
         " RETURNING 1) SELECT pg_catalog.count(*) FROM converted";
}

std::string keyset_last_key_sql(const TableDesc& table, const std::vector<KeyColumn>& key) {
  return "SELECT " + key_as_text_array(key, "t") + " FROM " + table.qualified() + " t ORDER BY " +
         key_list(key, "t", " DESC") + " LIMIT 1";
}

std::string ctid_batch_sql(const TableDesc& table, const BackfillSpec& spec) {
  return "WITH converted AS (UPDATE " + table.qualified() + " t SET " + touch(spec) +
         " WHERE t.ctid >= $1::pg_catalog.tid AND t.ctid < $2::pg_catalog.tid AND " +
         spec.needs_work + " RETURNING 1) SELECT pg_catalog.count(*) FROM converted";
}

std::string block_start_tid(long block) { return "(" + std::to_string(block) + ",0)"; }

}  // namespace zdm::core
