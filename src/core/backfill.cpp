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

std::string keyset_batch_sql(const TableDesc& table, const std::vector<KeyColumn>& key,
                             const BackfillSpec& spec, bool from_start) {
  const std::string row = "(" + key_list(key, "t") + ")";
  std::string where = row + " <= " + key_param(key, 2);
  if (!from_start) where = row + " > " + key_param(key, 1) + " AND " + where;
  return "WITH batch AS (SELECT " + key_list(key, "t") + " FROM " + table.qualified() +
         " t WHERE " + where + " ORDER BY " + key_list(key, "t") +
         " LIMIT $3::pg_catalog.int4), "
         "converted AS (UPDATE " +
         table.qualified() + " t SET " + touch(spec) + " FROM batch b WHERE " + row + " = (" +
         key_list(key, "b") + ") AND " + spec.needs_work +
         " RETURNING 1) "
         "SELECT (SELECT pg_catalog.count(*) FROM batch), "
         "(SELECT pg_catalog.count(*) FROM converted), (SELECT " +
         key_as_text_array(key, "b") + " FROM batch b ORDER BY " + key_list(key, "b", " DESC") +
         " LIMIT 1)";
}

std::string keyset_last_key_sql(const TableDesc& table, const std::vector<KeyColumn>& key) {
  return "SELECT " + key_as_text_array(key, "t") + " FROM " + table.qualified() + " t ORDER BY " +
         key_list(key, "t", " DESC") + " LIMIT 1";
}

std::string ctid_batch_sql(const TableDesc& table, const BackfillSpec& spec) {
  return "WITH converted AS (UPDATE " + table.qualified() + " t SET " + touch(spec) +
         " WHERE t.ctid >= pg_catalog.format('(%s,0)', $1::pg_catalog.int8)::pg_catalog.tid "
         "AND t.ctid < pg_catalog.format('(%s,0)', $2::pg_catalog.int8)::pg_catalog.tid AND " +
         spec.needs_work + " RETURNING 1) SELECT pg_catalog.count(*) FROM converted";
}

}  // namespace zdm::core
