// User tables as the planner sees them: pg_catalog read into core::TableDesc,
// the checks that refuse a table zdm cannot migrate, what still depends on a
// column or table that finish drops, and the state of the indexes a migration
// needs built.
#include "pg/table_desc.hpp"

#include "core/error.hpp"
#include "core/plan.hpp"
#include "core/quote.hpp"
#include "pg/boundary.hpp"
#include "pg/registry.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "commands/defrem.h"
}

namespace zdm::pg {

using core::Error;
using core::ErrorCode;

namespace {

std::string rel(unsigned int relid) { return std::to_string(relid); }

// pg_get_constraintdef ends a constraint that is not validated with NOT VALID;
// zdm adds that itself where it wants it.
std::string pg_strip_not_valid(std::string definition) {
  const std::string suffix = " NOT VALID";
  if (definition.size() >= suffix.size() &&
      definition.compare(definition.size() - suffix.size(), suffix.size(), suffix) == 0)
    definition.resize(definition.size() - suffix.size());
  return definition;
}

// Splits on the unit separator (0x1f) that the catalog query joins names with:
// unlike ',' it cannot appear in a name a user could type by accident.
std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == '\x1f') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

bool table_exists(unsigned int relid) {
  return query_value("SELECT 1 FROM pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid",
                     {rel(relid)})
      .has_value();
}

void require_rls_bypass(unsigned int relid) {
  std::vector<Row> rows = query(
      "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
      "  CURRENT_USER::pg_catalog.text "
      "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_catalog.pg_roles r ON r.rolname = CURRENT_USER "
      "WHERE c.oid = $1::pg_catalog.oid AND c.relrowsecurity AND c.relforcerowsecurity "
      "AND NOT (r.rolsuper OR r.rolbypassrls)",
      {rel(relid)});
  if (rows.empty()) return;
  const std::string table = *rows[0][0], role = *rows[0][1];
  throw Error(ErrorCode::InsufficientPrivilege,
              "table " + table + " has FORCE ROW LEVEL SECURITY, and role \"" + role +
                  "\" cannot bypass it",
              "Its policies apply to its owner too: the backfill would see only the rows they "
              "show this role, and finish would contract over the others.",
              "Run the migration as a role with BYPASSRLS (or a superuser), or run ALTER TABLE " +
                  table +
                  " NO FORCE ROW LEVEL SECURITY for the migration (its owner then bypasses the "
                  "policies) and FORCE it again after finish.");
}

core::TableDesc load_table(unsigned int relid, bool allow_family) {
  std::vector<Row> rows = query(
      "SELECT n.nspname, c.relname, c.relkind, pg_catalog.pg_has_role(c.relowner, 'USAGE'), "
      "c.relowner::pg_catalog.regrole::pg_catalog.text "
      "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.oid = $1::pg_catalog.oid",
      {rel(relid)});
  if (rows.empty())
    throw Error(ErrorCode::UndefinedObject, "table with OID " + rel(relid) + " does not exist");
  core::TableDesc t;
  t.oid = relid;
  t.schema = *rows[0][0];
  t.name = *rows[0][1];
  t.owner = *rows[0][4];
  if (t.owner.size() > 1 && t.owner.front() == '"')  // regrole quotes where it must
    t.owner = t.owner.substr(1, t.owner.size() - 2);
  if (*rows[0][2] == "p")
    throw Error(ErrorCode::WrongObjectType,
                t.qualified() + " is a partitioned table, which zdm does not migrate",
                "zdm's trigger, backfill and row checks work on one ordinary table; a partitioned "
                "table's rows live in its partitions, which zdm refuses too (they would need the "
                "change together).",
                "Run the change as plain DDL on the partitioned table through zdm.run_ddl "
                "(lock-safe, and it refuses what would scan or rewrite under a long lock), or in "
                "a maintenance window.");
  if (*rows[0][2] != "r")
    throw Error(ErrorCode::WrongObjectType, t.qualified() + " is not an ordinary table", {},
                "zdm migrates ordinary tables only.");
  if (t.schema == "zdm" || t.schema == "pg_catalog" || t.schema == "information_schema" ||
      t.schema.rfind("pg_toast", 0) == 0)
    throw Error(ErrorCode::WrongObjectType,
                t.qualified() + " belongs to " + (t.schema == "zdm" ? "zdm" : "the system"), {},
                "zdm migrates user tables only.");
  Value family = query_value(
      "SELECT CASE WHEN c.relispartition THEN 'it is a partition' "
      "  WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) "
      "    THEN 'it inherits from another table' "
      "  WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid) "
      "    THEN 'other tables inherit from it' END "
      "FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid",
      {rel(relid)});
  // abort undoes begin on the table (its DROP COLUMN / DROP CONSTRAINT recurse
  // to children), so a tree that grew during the window never traps a
  // migration; backfill and finish name the way out.
  if (family && !allow_family) {
    std::string hint =
        "Migrate a table outside any inheritance or partitioning tree; for one in a tree, run "
        "the change as plain DDL on its root through zdm.run_ddl, or detach it first (ALTER "
        "TABLE ... NO INHERIT ..., or DETACH PARTITION).";
    if (!open_operations_on(relid).empty())
      hint =
          "The tree grew during the migration. Detach the tables (ALTER TABLE ... NO INHERIT "
          "..., or DETACH PARTITION) and call again, or call zdm.abort(), which works on a "
          "tree. Tables involved: " +
          query_value(
              "SELECT pg_catalog.string_agg(r::pg_catalog.regclass::pg_catalog.text, "
              "', ' ORDER BY r) FROM (SELECT i.inhrelid FROM pg_catalog.pg_inherits i "
              "WHERE i.inhparent = $1::pg_catalog.oid UNION SELECT i.inhparent FROM "
              "pg_catalog.pg_inherits i WHERE i.inhrelid = $1::pg_catalog.oid) s(r)",
              {rel(relid)})
              .value_or("?") +
          ".";
    throw Error(ErrorCode::WrongObjectType,
                t.qualified() + " cannot be migrated by zdm: " + *family,
                "The dual-write trigger would not cover the whole inheritance tree.", hint);
  }
  if (!is_true(rows[0][3]))
    throw Error(ErrorCode::InsufficientPrivilege, "must be owner of table " + t.qualified(),
                "Only the table's owner (or a superuser) can migrate it.",
                "Run the migration as the owner, or as a role that is a member of it.");

  // search_path is pinned to pg_catalog, so format_type qualifies every type
  // that lives elsewhere.
  for (Row& r : query("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
                      "       CASE WHEN a.attcollation <> t.typcollation THEN "
                      "         pg_catalog.quote_ident(cn.nspname) || '.' || "
                      "pg_catalog.quote_ident(co.collname) END, "
                      "       a.attnotnull, a.attgenerated <> '', a.attidentity <> '' "
                      "FROM pg_catalog.pg_attribute a "
                      "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
                      "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
                      "LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace "
                      "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 "
                      "AND NOT a.attisdropped ORDER BY a.attnum",
                      {rel(relid)})) {
    core::Column c;
    c.name = *r[0];
    c.type_sql = *r[1];
    c.collation_sql = r[2].value_or("");
    c.not_null = is_true(r[3]);
    c.generated = is_true(r[4]);
    c.identity = is_true(r[5]);
    t.columns.push_back(std::move(c));
  }
  // What is attached to each column besides its type and constraints.
  for (Row& r : query(
           "SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum::pg_catalog.int4), "
           "  COALESCE(a.attstattarget::pg_catalog.int4, -1), "
           "  pg_catalog.array_to_string(a.attoptions, E'\\x1f'), "
           "  CASE WHEN a.attstorage <> t.typstorage THEN CASE a.attstorage WHEN 'p' THEN 'PLAIN' "
           "    WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' WHEN 'x' THEN 'EXTENDED' END END, "
#if PG_VERSION_NUM >= 140000
           "  CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END, "
#else
           "  NULL::pg_catalog.text, "
#endif
           "  t.typstorage <> 'p' "
           "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
           "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped "
           "ORDER BY a.attnum",
           {rel(relid)})) {
    core::ColumnExtras e;
    e.column = *r[0];
    e.has_comment = r[1].has_value();
    e.comment = r[1].value_or("");
    e.statistics_target = std::stoi(*r[2]);
    for (const std::string& option : split_names(r[3].value_or(""))) {
      std::size_t eq = option.find('=');
      // PostgreSQL's own attribute options only (a build may keep private
      // entries there, such as pg_attver, that are not to be set by hand).
      const std::string key = option.substr(0, eq == std::string::npos ? 0 : eq);
      if (key == "n_distinct" || key == "n_distinct_inherited")
        e.options.emplace_back(option.substr(0, eq), option.substr(eq + 1));
    }
    e.storage = r[4].value_or("");
    e.compression = r[5].value_or("");
    e.storage_settable = is_true(r[6]);
    t.extras.push_back(std::move(e));
  }
  for (Row& r : query("SELECT a.attname, CASE WHEN x.grantee = 0 THEN '' ELSE "
                      "  (SELECT rolname FROM pg_catalog.pg_roles WHERE oid = x.grantee) END, "
                      "  x.privilege_type, x.is_grantable "
                      "FROM pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) x "
                      "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 "
                      "AND NOT a.attisdropped ORDER BY a.attnum, 2, 3",
                      {rel(relid)}))
    for (core::ColumnExtras& e : t.extras)
      if (e.column == *r[0]) e.grants.push_back({r[1].value_or(""), *r[2], is_true(r[3])});
  // What reads each column, besides the table's own indexes, constraints and
  // defaults and zdm's triggers: views, rules and policies (normal
  // dependencies), generated columns (their pg_attrdef), triggers (UPDATE OF,
  // WHEN), and extended statistics (an automatic dependency: DROP COLUMN drops
  // them silently).
  for (Row& r : query(
           "SELECT DISTINCT a.attnum, a.attname, k.kind, CASE "
           "  WHEN k.kind = 'generated column' THEN 'generated ' || pg_catalog.pg_describe_object("
           "    'pg_catalog.pg_class'::pg_catalog.regclass, ad.adrelid, ad.adnum) "
           "  WHEN k.kind IN ('view', 'materialized view') THEN pg_catalog.pg_describe_object("
           "    'pg_catalog.pg_class'::pg_catalog.regclass, rv.ev_class, 0) "
           "  ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END "
           "FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a "
           "ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
           "LEFT JOIN pg_catalog.pg_attrdef ad ON d.classid = "
           "'pg_catalog.pg_attrdef'::pg_catalog.regclass AND ad.oid = d.objid "
           "LEFT JOIN pg_catalog.pg_rewrite rv ON d.classid = "
           "'pg_catalog.pg_rewrite'::pg_catalog.regclass AND rv.oid = d.objid "
           "CROSS JOIN LATERAL (SELECT CASE "
           "  WHEN d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN (SELECT CASE "
           "    c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'rule' END "
           "    FROM pg_catalog.pg_rewrite rw JOIN pg_catalog.pg_class c ON c.oid = rw.ev_class "
           "    WHERE rw.oid = d.objid) "
           "  WHEN d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'policy' "
           "  WHEN d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass "
           "    THEN 'generated column' "
           "  WHEN d.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN 'trigger' "
           "  WHEN d.classid = 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass "
           "    THEN 'statistics object' "
           "  ELSE 'other' END AS kind) k "
           "WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
           "AND d.refobjid = $1::pg_catalog.oid AND d.refobjsubid > 0 AND NOT a.attisdropped "
           "AND (d.deptype = 'n' OR (d.deptype = 'a' "
           "  AND d.classid = 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass)) "
           "AND NOT (d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND EXISTS ("
           "  SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.oid = d.objid "
           "  AND c.conrelid = $1::pg_catalog.oid)) "
           "AND NOT (d.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND EXISTS ("
           "  SELECT 1 FROM pg_catalog.pg_trigger tg WHERE tg.oid = d.objid "
           "  AND (tg.tgname OPERATOR(pg_catalog.~~) '0zdm\\_%' OR tg.tgname = $2))) "
           "ORDER BY 1, 3, 4",
           {rel(relid), std::string(core::dual_write_trigger_name())})) {
    t.dependents.push_back({*r[1], *r[2], r[3].value_or("")});
  }
  for (Row& r : query("SELECT c.conname, c.contype = 'c', "
                      "       (SELECT pg_catalog.string_agg(a.attname, E'\\x1f' ORDER BY a.attnum) "
                      "        FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.conrelid "
                      "        AND a.attnum = ANY (c.conkey)), c.convalidated "
                      "FROM pg_catalog.pg_constraint c WHERE c.conrelid = $1::pg_catalog.oid "
                      "ORDER BY c.conname",
                      {rel(relid)})) {
    t.constraint_names.push_back(*r[0]);
    if (is_true(r[1])) t.checks.push_back({*r[0], split_names(r[2].value_or("")), is_true(r[3])});
  }
  for (Row& r : query("SELECT a.attname FROM pg_catalog.pg_index i "
                      "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid "
                      "AND a.attnum = ANY (i.indkey::pg_catalog.int2[]) "
                      "WHERE i.indrelid = $1::pg_catalog.oid AND i.indisprimary ORDER BY a.attnum",
                      {rel(relid)}))
    t.primary_key.push_back(*r[0]);
  for (Row& r : query(
           "SELECT ic.relname, am.amname, i.indisunique, "
           "  COALESCE((SELECT con.conname FROM pg_catalog.pg_constraint con "
           "            WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid "
           "            AND con.contype IN ('u', 'p') LIMIT 1), ''), "
           "  (SELECT pg_catalog.string_agg(a.attname, E'\\x1f' ORDER BY k.ord) "
           "   FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY k(attnum, ord) "
           "   JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
           "   WHERE k.ord <= i.indnkeyatts), "
           "  (SELECT pg_catalog.string_agg(CASE WHEN (o.opt & 1) = 1 "
           "     THEN CASE WHEN (o.opt & 2) = 2 THEN ' DESC' ELSE ' DESC NULLS LAST' END "
           "     ELSE CASE WHEN (o.opt & 2) = 2 THEN ' NULLS FIRST' ELSE '-' END END, "
           "     E'\\x1f' ORDER BY o.ord) "
           "   FROM pg_catalog.unnest(i.indoption::pg_catalog.int2[]) WITH ORDINALITY o(opt, "
           "ord)), "
           "  (SELECT pg_catalog.string_agg(a.attname, E'\\x1f' ORDER BY k.ord) "
           "   FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY k(attnum, ord) "
           "   JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
           "   WHERE k.ord > i.indnkeyatts), "
           "  i.indexprs IS NULL AND i.indpred IS NULL AND NOT EXISTS ("
           "    SELECT 1 FROM pg_catalog.unnest(i.indclass::pg_catalog.oid[]) cl(opc) "
           "    JOIN pg_catalog.pg_opclass oc ON oc.oid = cl.opc WHERE NOT oc.opcdefault) "
           "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint x "
           "    WHERE x.conindid = i.indexrelid AND x.contype = 'x') "
           "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(i.indcollation::pg_catalog.oid[]) "
           "    WITH ORDINALITY co(coll, ord) JOIN pg_catalog.pg_attribute a "
           "    ON a.attrelid = i.indrelid AND a.attnum = (SELECT u.k FROM "
           "      pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY u(k, n) "
           "      WHERE u.n = co.ord) "
           "    WHERE co.coll <> 0 AND co.coll <> a.attcollation), "
           "  (SELECT pg_catalog.string_agg(a.attname, E'\\x1f') FROM pg_catalog.pg_depend d "
           "   JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid "
           "   AND a.attnum = d.refobjsubid "
           "   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
           "   AND d.objid = i.indexrelid AND d.refobjid = i.indrelid AND d.refobjsubid > 0) "
           "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
           "JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
           "WHERE i.indrelid = $1::pg_catalog.oid ORDER BY ic.relname",
           {rel(relid)})) {
    core::Index index;
    index.name = *r[0];
    index.method = *r[1];
    index.unique = is_true(r[2]);
    index.constraint = r[3].value_or("");
    index.keys = split_names(r[4].value_or(""));
    for (std::string& option : split_names(r[5].value_or("")))
      index.key_options.push_back(option == "-" ? "" : option);
    index.include = split_names(r[6].value_or(""));
    index.simple = is_true(r[7]);
    index.uses = split_names(r[8].value_or(""));
    t.indexes.push_back(std::move(index));
  }
  for (Row& r : query("SELECT DISTINCT a.attname FROM pg_catalog.pg_constraint c "
                      "JOIN pg_catalog.pg_attribute a ON a.attrelid = $1::pg_catalog.oid AND ("
                      "  (c.conrelid = $1::pg_catalog.oid AND a.attnum = ANY (c.conkey)) OR "
                      "  (c.confrelid = $1::pg_catalog.oid AND a.attnum = ANY (c.confkey))) "
                      "WHERE c.contype = 'f' ORDER BY 1",
                      {rel(relid)}))
    t.foreign_key_columns.push_back(*r[0]);
  for (Row& r :
       query("SELECT c.conname, c.convalidated, "
             "  (SELECT pg_catalog.string_agg(a.attname, E'\\x1f' ORDER BY k.ord) "
             "   FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(attnum, ord) "
             "   JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid "
             "   AND a.attnum = k.attnum), "
             "  pg_catalog.substring(pg_catalog.pg_get_constraintdef(c.oid), 'REFERENCES .*$'), "
             "  (SELECT pg_catalog.quote_ident(rn.nspname) || '.' || "
             "     pg_catalog.quote_ident(rc.relname) FROM pg_catalog.pg_class rc "
             "   JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace "
             "   WHERE rc.oid = c.confrelid), "
             "  (SELECT pg_catalog.string_agg(a.attname, E'\\x1f' ORDER BY k.ord) "
             "   FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY k(attnum, ord) "
             "   JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid "
             "   AND a.attnum = k.attnum) "
             "FROM pg_catalog.pg_constraint c WHERE c.conrelid = $1::pg_catalog.oid "
             "AND c.contype = 'f' ORDER BY c.conname",
             {rel(relid)}))
    t.foreign_keys.push_back({*r[0], split_names(r[2].value_or("")),
                              pg_strip_not_valid(r[3].value_or("")), is_true(r[1]),
                              r[4].value_or(""), split_names(r[5].value_or(""))});
  // Table-level privileges granted to others (column_to_join repeats them on
  // the join table it creates).
  for (Row& r : query("SELECT CASE WHEN x.grantee = 0 THEN '' ELSE "
                      "  (SELECT rolname FROM pg_catalog.pg_roles WHERE oid = x.grantee) END, "
                      "  x.privilege_type "
                      "FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x "
                      "WHERE c.oid = $1::pg_catalog.oid AND x.grantee <> c.relowner "
                      "ORDER BY 1, 2",
                      {rel(relid)}))
    t.privileges.emplace_back(r[0].value_or(""), *r[1]);
  for (Row& r : query("SELECT a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid) "
                      "FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_attribute a "
                      "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
                      "WHERE d.adrelid = $1::pg_catalog.oid AND NOT a.attisdropped",
                      {rel(relid)}))
    t.defaults.emplace_back(*r[0], r[1].value_or(""));
  t.has_dual_write_trigger =
      query_value(
          "SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = $1::pg_catalog.oid "
          "AND tgname = $2",
          {rel(relid), std::string(core::dual_write_trigger_name())})
          .has_value();
  return t;
}

namespace {

// finish would drop `object`, which `dependents` (pg_describe_object, joined)
// still need.
[[noreturn]] void refuse_dependents(const std::string& migration, const std::string& object,
                                    const std::string& as_used, const std::string& dependents) {
  throw Error(ErrorCode::ObjectInUse,
              "cannot finish migration \"" + migration + "\": other objects depend on " + object,
              "Depending on it: " + dependents + ".",
              "Change or drop those objects so that they no longer use " + as_used +
                  ", then call zdm.finish() again.");
}

}  // namespace

void check_no_dependents(unsigned int relid, const std::string& column,
                         const std::string& migration, const std::string& kept_as) {
  // Objects that depend on the column itself, or on an index over it (a
  // foreign key from another table). The table's own indexes and constraints
  // on the column go with it, as ALTER TABLE DROP COLUMN does, unless the
  // column's values live on under another column (`kept_as`: rename's finish
  // drops the new copy and gives the old column its name): then what was built
  // on the copy during the window would be lost silently, and is refused too,
  // but for zdm's own NOT VALID checks (named after the copy).
  Value dependents = query_value(
      "WITH col AS (SELECT a.attnum FROM pg_catalog.pg_attribute a "
      "             WHERE a.attrelid = $1::pg_catalog.oid AND a.attname = $2), "
      "idx AS (SELECT i.indexrelid FROM pg_catalog.pg_index i, col "
      "        WHERE i.indrelid = $1::pg_catalog.oid "
      "        AND col.attnum = ANY (i.indkey::pg_catalog.int2[])) "
      "SELECT pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, "
      "d.objsubid), ', ') FROM pg_catalog.pg_depend d, col "
      "WHERE (d.deptype = 'n' OR ($3::pg_catalog.bool AND d.deptype = 'a')) "
      "AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "AND ((d.refobjid = $1::pg_catalog.oid AND d.refobjsubid = col.attnum) "
      "     OR d.refobjid IN (SELECT indexrelid FROM idx)) "
      // The table's own constraints go with the column (DROP COLUMN drops them).
      "AND NOT (NOT $3::pg_catalog.bool "
      "  AND d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND EXISTS ("
      "  SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.oid = d.objid "
      "  AND c.conrelid = $1::pg_catalog.oid)) "
      // zdm's own NOT VALID checks on a copy.
      "AND NOT (d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND EXISTS ("
      "  SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.oid = d.objid "
      "  AND c.conrelid = $1::pg_catalog.oid AND c.contype = 'c' AND NOT c.convalidated "
      "  AND (pg_catalog.starts_with(c.conname, $2 || '_not_null') "
      "       OR pg_catalog.strpos(c.conname, '_' || $2) > 0))) "
      // zdm's own triggers are dropped by the same finish.
      "AND NOT (d.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND EXISTS ("
      "  SELECT 1 FROM pg_catalog.pg_trigger tg WHERE tg.oid = d.objid "
      "  AND (tg.tgname OPERATOR(pg_catalog.~~) '0zdm\\_%' "
      "       OR tg.tgname OPERATOR(pg_catalog.=) 'zzz_zdm_dual_write')))",
      {rel(relid), column, std::string(kept_as.empty() ? "false" : "true")});
  if (!dependents) return;
  if (kept_as.empty())
    refuse_dependents(migration, "column \"" + column + "\"", "the column", *dependents);
  throw Error(ErrorCode::ObjectInUse,
              "cannot finish migration \"" + migration + "\": objects were built on column \"" +
                  column + "\", which finish drops",
              "Built on it: " + *dependents + ". finish keeps the column \"" + kept_as +
                  "\" (with its indexes, constraints and statistics) under the name \"" + column +
                  "\", and drops the copy.",
              "Build them on \"" + kept_as + "\" instead (it takes the name \"" + column +
                  "\" at finish), or drop them and build them again after finish; then call "
                  "zdm.finish() again. Nothing was changed.");
}

void check_no_table_dependents(unsigned int relid, const std::string& migration,
                               const std::string& as_used) {
  // Objects outside the table that need it, its row type or a sequence it
  // owns (DROP TABLE drops those too): views, foreign keys from other tables,
  // columns of its type, other tables' defaults calling nextval on its
  // sequence. Its own indexes, constraints, triggers, defaults and sequences
  // go with it.
  Value dependents = query_value(
      "SELECT pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, "
      "d.objsubid), ', ') FROM pg_catalog.pg_depend d "
      "WHERE d.deptype = 'n' AND ((d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "  AND d.refobjid = $1::pg_catalog.oid) OR (d.refclassid = "
      "  'pg_catalog.pg_type'::pg_catalog.regclass AND d.refobjid = (SELECT reltype FROM "
      "  pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid)) "
      "  OR (d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid IN ("
      "    SELECT o.objid FROM pg_catalog.pg_depend o JOIN pg_catalog.pg_class sq "
      "    ON sq.oid = o.objid AND sq.relkind = 'S' "
      "    WHERE o.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "    AND o.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "    AND o.refobjid = $1::pg_catalog.oid AND o.deptype IN ('a', 'i')))) "
      "AND NOT (d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND EXISTS ("
      "  SELECT 1 FROM pg_catalog.pg_attrdef ad WHERE ad.oid = d.objid "
      "  AND ad.adrelid = $1::pg_catalog.oid)) "
      "AND NOT (d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "  AND d.objid = $1::pg_catalog.oid) "
      "AND NOT (d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND EXISTS ("
      "  SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.oid = d.objid "
      "  AND c.conrelid = $1::pg_catalog.oid)) "
      "AND NOT (d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND EXISTS ("
      "  SELECT 1 FROM pg_catalog.pg_index i WHERE i.indexrelid = d.objid "
      "  AND i.indrelid = $1::pg_catalog.oid)) "
      "AND NOT (d.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND EXISTS ("
      "  SELECT 1 FROM pg_catalog.pg_trigger tg WHERE tg.oid = d.objid "
      "  AND tg.tgrelid = $1::pg_catalog.oid))",
      {rel(relid)});
  if (!dependents) return;
  Value name =
      query_value("SELECT $1::pg_catalog.oid::pg_catalog.regclass::pg_catalog.text", {rel(relid)});
  refuse_dependents(migration, "table " + name.value_or(rel(relid)), as_used, *dependents);
}

namespace {

// "valid", "building" (a CREATE INDEX CONCURRENTLY is at work on it now),
// "invalid" (a build failed) or "missing", for an index of the table. A build
// of a role whose progress the caller may not read shows no index: any such
// build holding SHARE UPDATE EXCLUSIVE on the table counts (see
// refuse_running_index_builds).
std::string index_state(unsigned int relid, const std::string& index) {
  Value state = query_value(
      "SELECT CASE WHEN i.indisvalid THEN 'valid' "
      "  WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p "
      "               WHERE p.index_relid = i.indexrelid "
      "               OR (p.relid IS NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks l "
      "                   WHERE l.pid = p.pid AND l.locktype = 'relation' "
      "                   AND l.relation = i.indrelid AND l.granted "
      "                   AND l.mode = 'ShareUpdateExclusiveLock' "
      "                   AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d "
      "                     WHERE d.datname = pg_catalog.current_database())))) "
      "  THEN 'building' "
      "  ELSE 'invalid' END "
      "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
      "WHERE i.indrelid = $1::pg_catalog.oid AND c.relname = $2",
      {rel(relid), index});
  return state.value_or("missing");
}

struct IndexWork {
  std::vector<std::string> statements;  // to run: DROP of a failed build, then CREATE
  std::vector<std::string> building;    // being built by another session right now
  std::vector<std::string> invalid;     // left INVALID by a build that did not complete
};

IndexWork index_work(const std::string& migration) {
  IndexWork work;
  // An ended migration needs nothing more: its shadow columns are gone.
  if (migration_state(migration) != core::MigrationState::Active) return work;
  for (const StoredOperation& s : operations_of(migration)) {
    if (!table_exists(s.relid)) continue;
    core::TableDesc table = load_table(s.relid);
    core::Statements builds = core::concurrent_index_statements(table, s.op);
    std::vector<std::string> names = core::required_indexes(table, s.op);
    for (std::size_t i = 0; i < names.size(); i++) {
      std::string state = index_state(s.relid, names[i]);
      if (state == "valid") continue;
      if (state == "building") {
        work.building.push_back(names[i]);
        continue;
      }
      if (state == "invalid") {
        work.invalid.push_back(core::quote_qualified(table.schema, names[i]));
        work.statements.push_back("DROP INDEX CONCURRENTLY IF EXISTS " +
                                  core::quote_qualified(table.schema, names[i]));
      }
      work.statements.push_back(builds[i]);
    }
  }
  return work;
}

}  // namespace

std::vector<std::string> pending_statements(const std::string& migration) {
  return index_work(migration).statements;
}

void announce_pending_statements(const std::string& migration) {
  std::vector<std::string> statements = pending_statements(migration);
  if (statements.empty()) return;
  std::string list;
  for (const std::string& s : statements) list += s + ";\n";
  const std::string name = core::quote_literal(migration);
  pg_guard([&] {
    ereport(NOTICE,
            (errmsg("zdm: migration \"%s\" needs %d index build(s) before finish",
                    migration.c_str(), static_cast<int>(statements.size())),
             errdetail("Run outside a transaction block:\n%s", list.c_str()),
             errhint("In psql: SELECT * FROM zdm.pending_statements(%s) \\gexec", name.c_str())));
  });
}

void require_indexes_built(const std::string& migration) {
  IndexWork work = index_work(migration);
  if (work.statements.empty() && work.building.empty()) return;
  std::string detail;
  if (!work.building.empty()) {
    detail = "Being built by another session now:";
    for (const std::string& name : work.building) detail += " \"" + name + "\"";
    detail += ".";
  }
  if (!work.invalid.empty()) {
    if (!detail.empty()) detail += "\n";
    detail +=
        "INVALID, left by a CREATE INDEX CONCURRENTLY that failed, was cancelled or lost "
        "its session (the planner ignores it; writes may still maintain it):";
    for (const std::string& name : work.invalid) detail += " " + name;
    detail += ".";
  }
  if (!work.statements.empty()) {
    if (!detail.empty()) detail += "\n";
    detail +=
        "CREATE INDEX CONCURRENTLY cannot run inside a function; run these outside a "
        "transaction block:\n";
    for (const std::string& s : work.statements) detail += s + ";\n";
  }
  throw Error(ErrorCode::InvalidState,
              "cannot finish migration \"" + migration + "\": its index builds are not all done",
              detail,
              "In psql: SELECT * FROM zdm.pending_statements(" + core::quote_literal(migration) +
                  ") \\gexec (or wait for the builds under way); then call zdm.finish() again.");
}

// Dropping rename_table's view would take what was built on it (a view over
// the old name, ...) with it, or fail: refused first, naming them.
void check_view_unused(unsigned int view, const std::string& migration, const char* phase) {
  Value dependents = query_value(
      "SELECT pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, "
      "d.objsubid), ', ') FROM pg_catalog.pg_depend d "
      "WHERE d.deptype = 'n' AND ((d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "  AND d.refobjid = $1::pg_catalog.oid) OR (d.refclassid = "
      "  'pg_catalog.pg_type'::pg_catalog.regclass AND d.refobjid = (SELECT reltype FROM "
      "  pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid))) "
      "AND NOT (d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND EXISTS ("
      "  SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.oid = d.objid "
      "  AND r.ev_class = $1::pg_catalog.oid))",
      {std::to_string(view)});
  if (!dependents) return;
  Value name = query_value("SELECT $1::pg_catalog.oid::pg_catalog.regclass::pg_catalog.text",
                           {std::to_string(view)});
  throw Error(
      ErrorCode::ObjectInUse,
      std::string("cannot ") + phase + " migration \"" + migration +
          "\": other objects depend on view " + name.value_or("?") +
          ", which rename_table put under the table's old name",
      "Depending on it: " + *dependents + ".",
      std::string("Build them on the table's new name instead (or drop them), then call zdm.") +
          phase + "() again. Nothing was changed.");
}

std::optional<unsigned int> view_oid(const std::string& qualified_name) {
  Value oid = query_value(
      "SELECT c.oid::pg_catalog.text FROM pg_catalog.pg_class c "
      "WHERE c.oid = pg_catalog.to_regclass($1) AND c.relkind = 'v'",
      {qualified_name});
  if (!oid) return {};
  return static_cast<unsigned int>(std::stoul(*oid));
}

bool type_storage_settable(const std::string& type_sql) {
  return query_value(
             "SELECT typstorage <> 'p' FROM pg_catalog.pg_type WHERE oid = $1::pg_catalog.regtype",
             {type_sql}) == Value("t");
}

bool name_taken_in_schema(const std::string& schema, const std::string& name) {
  return query_value(
             "SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace = "
             "$1::pg_catalog.regnamespace "
             "AND c.relname = $2 UNION ALL SELECT 1 FROM pg_catalog.pg_type y "
             "WHERE y.typnamespace = $1::pg_catalog.regnamespace AND y.typname = $2",
             {core::quote_ident(schema), name})
      .has_value();
}

std::string rules_on(unsigned int relid) {
  return query_value(
             "SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rulename), ', ' "
             "ORDER BY r.rulename) FROM pg_catalog.pg_rewrite r "
             "WHERE r.ev_class = $1::pg_catalog.oid",
             {rel(relid)})
      .value_or("");
}

std::string column_only_grantees(unsigned int relid) {
  return query_value(
             "SELECT pg_catalog.string_agg(DISTINCT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE "
             "  pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END, ', ') "
             "FROM pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) x "
             "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped "
             "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c, "
             "  pg_catalog.aclexplode(c.relacl) y WHERE c.oid = $1::pg_catalog.oid "
             "  AND y.grantee = x.grantee AND y.privilege_type = 'SELECT') "
             "AND x.grantee <> (SELECT relowner FROM pg_catalog.pg_class "
             "  WHERE oid = $1::pg_catalog.oid)",
             {rel(relid)})
      .value_or("");
}

std::string columns_without_btree_opclass(unsigned int relid,
                                          const std::vector<std::string>& columns) {
  std::string out;
  for (const std::string& column : columns) {
    std::vector<Row> rows = query(
        "SELECT a.atttypid::pg_catalog.text, pg_catalog.format_type(a.atttypid, a.atttypmod) "
        "FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::pg_catalog.oid "
        "AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
        {rel(relid), column});
    if (rows.empty()) continue;  // validate names the unknown column
    const Oid type = static_cast<Oid>(std::stoul(*rows[0][0]));
    const Oid opclass = pg_guard([&] { return GetDefaultOpClass(type, BTREE_AM_OID); });
    if (opclass == InvalidOid)
      out += (out.empty() ? "" : ", ") + std::string("column ") + core::quote_ident(column) +
             " of type " + *rows[0][1];
  }
  return out;
}

// Whether the two key types compare with an equality operator of pg_catalog
// (the triggers name it OPERATOR(pg_catalog.=), out of the caller's
// search_path), both ways round.
bool keys_comparable(const core::TableDesc& join, const std::string& join_key,
                     const core::TableDesc& target, const std::string& target_key) {
  Value ok = query_value(
      "WITH k AS (SELECT (SELECT atttypid FROM pg_catalog.pg_attribute WHERE attrelid = "
      "$1::pg_catalog.oid AND attname = $2) AS j, (SELECT atttypid FROM pg_catalog.pg_attribute "
      "WHERE attrelid = $3::pg_catalog.oid AND attname = $4) AS t) "
      "SELECT k.j IS NULL OR k.t IS NULL OR (EXISTS (SELECT 1 FROM pg_catalog.pg_operator o "
      "  WHERE o.oprname = '=' AND o.oprnamespace = 'pg_catalog'::pg_catalog.regnamespace "
      "  AND o.oprleft = k.j AND o.oprright = k.t) AND EXISTS (SELECT 1 FROM "
      "  pg_catalog.pg_operator o WHERE o.oprname = '=' AND o.oprnamespace = "
      "  'pg_catalog'::pg_catalog.regnamespace AND o.oprleft = k.t AND o.oprright = k.j)) "
      "FROM k",
      {std::to_string(join.oid), join_key, std::to_string(target.oid), target_key});
  return ok && *ok == "t";
}

// The subscriptions that apply a publisher's changes to a table here, quoted
// and comma-separated; nothing when none does.
Value subscriptions_of(unsigned int relid) {
  return query_value(
      "SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s.subname::pg_catalog.text), ', ' "
      "ORDER BY s.subname) FROM pg_catalog.pg_subscription_rel r JOIN pg_catalog.pg_subscription "
      "s ON s.oid = r.srsubid WHERE r.srrelid = $1::pg_catalog.oid",
      {std::to_string(relid)});
}

bool relation_exists(const std::string& schema, const std::string& name) {
  return query_value(
             "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
             "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
             {schema, name})
      .has_value();
}

bool relation_named(const std::string& name) {
  return query_value("SELECT pg_catalog.to_regclass($1)", {name}).has_value();
}

bool is_current_user(const std::string& role) {
  return query_value("SELECT 1 WHERE $1 = CURRENT_USER", {role}).has_value();
}

std::optional<IndexMethod> index_method(const std::string& name) {
  std::vector<Row> rows = query(
      "SELECT a.amname::pg_catalog.text, pg_catalog.pg_indexam_has_property(a.oid, "
      "'can_unique')::pg_catalog.text FROM pg_catalog.pg_am a WHERE a.amtype = 'i' AND "
      "a.amname = $1",
      {name});
  if (rows.empty()) return {};
  return IndexMethod{*rows[0][0], rows[0][1] == Value("true")};
}

// begin_drop_index: the index's name and its table's OID; an error naming the
// object when the OID is not an index of an ordinary table.
std::pair<std::string, unsigned int> index_and_table(const std::string& index_oid) {
  std::vector<Row> rows = query(
      "SELECT c.relname, c.relkind::pg_catalog.text, i.indrelid "
      "FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_index i "
      "ON i.indexrelid = c.oid WHERE c.oid = $1::pg_catalog.oid",
      {index_oid});
  if (rows.empty())
    throw Error(ErrorCode::UndefinedObject, "index with OID " + index_oid + " does not exist");
  if (*rows[0][1] != "i" || !rows[0][2])
    throw Error(ErrorCode::WrongObjectType,
                *rows[0][1] == "I" ? "\"" + *rows[0][0] +
                                         "\" is an index of a partitioned table, which zdm does "
                                         "not migrate"
                                   : "\"" + *rows[0][0] + "\" is not an index",
                {},
                *rows[0][1] == "I"
                    ? "Drop it with plain DDL through zdm.run_ddl (lock-safe), or in a "
                      "maintenance window."
                    : "Pass the name of an index (see \\di).");
  return {*rows[0][0], static_cast<unsigned int>(std::stoul(*rows[0][2]))};
}

// A PRIMARY KEY, UNIQUE or EXCLUDE constraint: renaming it renames its index.
bool constraint_has_index(unsigned int relid, const std::string& name) {
  return query_value(
             "SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conrelid = "
             "$1::pg_catalog.oid AND c.conname = $2 AND c.conindid <> 0 "
             "AND c.contype IN ('p', 'u', 'x')",
             {std::to_string(relid), name})
      .has_value();
}

}  // namespace zdm::pg
