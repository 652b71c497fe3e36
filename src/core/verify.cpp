#include "core/verify.hpp"

#include "core/quote.hpp"

namespace zdm::core {

namespace {

std::string column_ref(const std::string& column) { return "t." + quote_ident(column); }

// An expression stored normalized, in the column's own type: deparsed text
// may leave an implicit (assignment) cast out.
std::string typed(const std::string& expr, const std::string& type_sql) {
  return "CAST((" + expr + ") AS " + type_sql + ")";
}

std::string type_of(const TableDesc& table, const std::string& column) {
  const Column* c = table.find_column(column);
  return c == nullptr ? std::string() : c->type_sql;
}

std::string all_of(const std::vector<std::string>& terms) {
  std::string out;
  for (const std::string& t : terms) out += (out.empty() ? "" : " AND ") + t;
  return "(" + out + ")";
}

std::string equal(const std::string& a, const std::string& b) {
  return "NOT " + image_distinct_sql(a, b);
}

}  // namespace

std::string verify_sql(const TableDesc& table, const std::vector<Operation>& ops) {
  std::vector<std::string> from_old;  // the new side as the old side implies it
  std::vector<std::string> from_new;  // the old side as the new side implies it
  for (const Operation& op : ops) {
    switch (op.kind) {
      case OpKind::Rename:
        from_old.push_back(equal(column_ref(op.new_column), column_ref(op.column)));
        from_new.push_back(equal(column_ref(op.column), column_ref(op.new_column)));
        break;
      case OpKind::AddColumn:
        if (!op.up.empty())
          from_old.push_back(equal(column_ref(op.column), typed(op.up, type_of(table, op.column))));
        break;
      case OpKind::DropColumn:
        if (!op.down.empty())
          from_new.push_back(
              equal(column_ref(op.column), typed(op.down, type_of(table, op.column))));
        break;
      case OpKind::SetNotNull:
        if (!has_shadow_column(op)) break;
        [[fallthrough]];
      case OpKind::AlterType:
        from_old.push_back(
            equal(column_ref(op.new_column), typed(op.up, type_of(table, op.new_column))));
        if (!op.down.empty())
          from_new.push_back(
              equal(column_ref(op.column), typed(op.down, type_of(table, op.column))));
        break;
      default:  // join operations compare their two tables instead
        break;
    }
  }
  if (from_old.empty() || from_new.empty()) return "";
  std::string key = "t.ctid::pg_catalog.text";
  if (!table.primary_key.empty()) {
    key = "pg_catalog.concat_ws(', '";
    for (const std::string& k : table.primary_key)
      key += ", " + column_ref(k) + "::pg_catalog.text";
    key += ")";
  }
  return "WITH differing AS (SELECT " + key + " AS k FROM " + table.qualified() + " t WHERE NOT (" +
         all_of(from_old) + " OR " + all_of(from_new) +
         ")) SELECT pg_catalog.count(*), (SELECT pg_catalog.string_agg(s.k, '; ') FROM (SELECT "
         "d.k FROM differing d LIMIT 10) s) FROM differing";
}

}  // namespace zdm::core
