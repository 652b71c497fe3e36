// The checks that refuse begin or finish by reading a user table (refusals.hpp).
#include "pg/refusals.hpp"

#include <vector>

#include "core/error.hpp"
#include "core/ops/add_foreign_key.hpp"
#include "core/ops/join.hpp"
#include "core/ops/rename_table.hpp"
#include "core/plan.hpp"
#include "core/quote.hpp"
#include "core/verify.hpp"
#include "pg/boundary.hpp"
#include "pg/registry.hpp"
#include "pg/spi.hpp"
#include "pg/table_desc.hpp"

namespace zdm::pg {

using zdm::core::Error;
using zdm::core::ErrorCode;

// finish drops one of a join operation's two shapes: first, every (key, value)
// pair must be in both, or it would be lost.
void check_join_in_sync(const std::string& migration, const zdm::core::TableDesc& target,
                        const zdm::core::Operation& op) {
  if (op.join_relid == 0) return;  // nothing left to compare; finish's plan decides
  zdm::core::TableDesc join = zdm::pg::load_table(op.join_relid);
  zdm::pg::Row diff =
      zdm::pg::query_as_caller(zdm::core::join::difference_sql(join, target, op).c_str(), {}).at(0);
  if (*diff[0] == "0") return;
  throw Error(ErrorCode::InvalidState,
              "cannot finish migration \"" + migration + "\": " + *diff[0] +
                  " (key, value) pair(s) are in only one of " + join.qualified() + " and " +
                  target.qualified() + "." + zdm::core::quote_ident(op.column),
              "Keys, first ones: " + diff[1].value_or("{}") +
                  ". Finish would lose them. A join row whose key matches no target row, or a "
                  "conflict the backfill reported, leaves such a pair.",
              "Settle those rows (see the backfill's warnings and zdm.status().conflicts), run "
              "CALL zdm.backfill(" +
                  zdm::core::quote_literal(migration) + ") again, then call zdm.finish().");
}

// Refuses to finish while a row's two shapes disagree (zdm::core::verify_sql),
// naming up to 10 keys: contracting would lose the side that holds the write.
void verify_rows(const std::string& migration, const zdm::core::TableDesc& table,
                 const std::string& sql) {
  zdm::pg::Row found = zdm::pg::query(sql.c_str()).at(0);
  if (*found[0] == "0") return;
  const std::string key = table.primary_key.empty() ? std::string("ctid") : [&] {
    std::string k;
    for (const std::string& c : table.primary_key) k += (k.empty() ? "" : ", ") + c;
    return k;
  }();
  throw Error(ErrorCode::InvalidState,
              "cannot finish migration \"" + migration + "\": " + *found[0] + " row(s) of " +
                  table.qualified() + " hold two shapes that disagree",
              "Their old-side columns are not what the new side implies, nor the other way "
              "round: they were written past zdm's trigger (disabled, or a write it did not "
              "see). Keys (" +
                  key + "), first ones: " + found[1].value_or("") + ".",
              "Re-sync each from the side that holds the right value with an UPDATE that "
              "assigns that side's column to itself (UPDATE ... SET col = col WHERE ...: zdm's "
              "trigger then recomputes the other side), then call zdm.finish() again. Nothing "
              "was changed.");
}

// A subscriber finishing before its publisher has (and before it has applied
// everything up to the publisher's finish) stops its apply worker: the
// publisher still sends the column finish drops. zdm cannot see the
// publisher, so finish says it, and how to recover.
void notice_subscriptions(const std::string& migration, unsigned int relid,
                          const zdm::core::TableDesc& table) {
  zdm::pg::Value subs = zdm::pg::subscriptions_of(relid);
  if (!subs) return;
  const std::string name = table.qualified();
  zdm::pg::pg_guard([&] {
    ereport(
        NOTICE,
        (errmsg("zdm: table %s is replicated here by subscription %s", name.c_str(), subs->c_str()),
         errdetail("Finish migration \"%s\" here only after the publisher has finished it "
                   "and this subscription has applied everything up to that finish; "
                   "before, its apply worker stops with \"missing replicated column\".",
                   migration.c_str()),
         errhint("If it stops: add the column back here as a plain column until the "
                 "subscription has caught up with the publisher's finish, then drop it.")));
  });
}

// finish validates a constraint that begin added NOT VALID: first, count the
// rows that violate it and name their keys (PostgreSQL's VALIDATE would name
// one row at most), changing nothing.
void check_no_violations(const std::string& migration, const zdm::core::TableDesc& table,
                         const zdm::core::Operation& op) {
  const std::string sql = zdm::core::constraint_violations_sql(table, op);
  if (sql.empty() || !table.has_constraint(op.check_name)) return;
  zdm::pg::Row found = zdm::pg::query_as_caller(sql.c_str(), {}).at(0);
  if (*found[0] == "0") return;
  const bool foreign_key = op.kind == zdm::core::OpKind::AddForeignKey;
  throw Error(ErrorCode::InvalidState,
              "cannot finish migration \"" + migration + "\": " + *found[0] + " row(s) of " +
                  table.qualified() + " violate constraint \"" + op.check_name + "\"",
              std::string(foreign_key ? "Their key columns match no referenced row. Keys -> "
                                        "referencing values, first ones: "
                                      : "Keys, first ones: ") +
                  found[1].value_or("") + ".",
              "Fix those rows (new writes are already bound by the constraint), then call "
              "zdm.finish(" +
                  zdm::core::quote_literal(migration) + ") again; or zdm.abort(" +
                  zdm::core::quote_literal(migration) + ").");
}

// add_unique: while its index is not valid (not built yet, or a build that
// failed on duplicates), finish names the duplicate keys, which no build can
// get past.
void check_no_duplicates(const std::string& migration, unsigned int relid,
                         const zdm::core::Operation& op) {
  if (op.kind != zdm::core::OpKind::AddUnique || !zdm::pg::table_exists(relid)) return;
  if (zdm::pg::query_value("SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c "
                           "ON c.oid = i.indexrelid WHERE i.indrelid = $1::pg_catalog.oid "
                           "AND c.relname = $2 AND i.indisvalid",
                           {std::to_string(relid), op.column}))
    return;
  zdm::core::TableDesc table = zdm::pg::load_table(relid);
  zdm::pg::Row found =
      zdm::pg::query_as_caller(zdm::core::duplicate_keys_sql(table, op).c_str(), {}).at(0);
  if (*found[0] == "0") return;
  throw Error(
      ErrorCode::InvalidState,
      "cannot finish migration \"" + migration + "\": " + *found[0] +
          " key value(s) occur more than once in " + table.qualified() +
          ", so its unique index \"" + op.column + "\" cannot be built",
      "Duplicated (" + op.up + "), first ones, with their counts: " + found[1].value_or("") + ".",
      "Make those rows unique (new writes can still add duplicates until the index is "
      "valid), then run SELECT * FROM zdm.pending_statements(" +
          zdm::core::quote_literal(migration) +
          ") \\gexec and call zdm.finish() again; or zdm.abort(" +
          zdm::core::quote_literal(migration) + ").");
}

IndexBlockers index_blockers(const std::string& index_oid) {
  zdm::pg::Row r = zdm::pg::query(
                       "SELECT (SELECT x.conname::pg_catalog.text FROM pg_catalog.pg_constraint x "
                       "  WHERE x.conindid = i.indexrelid AND x.conrelid = i.indrelid "
                       "  AND x.contype IN ('p', 'u', 'x') LIMIT 1), "
                       "(SELECT pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object("
                       "  d.classid, d.objid, d.objsubid), ', ') FROM pg_catalog.pg_depend d "
                       "  WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
                       "  AND d.refobjid = i.indexrelid AND d.deptype = 'n') "
                       "FROM pg_catalog.pg_index i WHERE i.indexrelid = $1::pg_catalog.oid",
                       {index_oid})
                       .at(0);
  return {r[0].value_or(""), r[1].value_or("")};
}

// drop_index's finish: what was built on the index during the window.
void refuse_index_blockers(const std::string& migration, unsigned int relid,
                           const std::string& index) {
  zdm::pg::Value oid = zdm::pg::query_value(
      "SELECT c.oid FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c "
      "ON c.oid = i.indexrelid WHERE i.indrelid = $1::pg_catalog.oid AND c.relname = $2",
      {std::to_string(relid), index});
  if (!oid) return;  // gone already: nothing to drop
  IndexBlockers blockers = index_blockers(*oid);
  if (blockers.constraint.empty() && blockers.dependents.empty()) return;
  throw Error(ErrorCode::ObjectInUse,
              "cannot finish migration \"" + migration + "\": index \"" + index +
                  "\" is needed by other objects",
              "Depending on it: " +
                  (blockers.constraint.empty() ? std::string()
                                               : "constraint " + blockers.constraint +
                                                     (blockers.dependents.empty() ? "" : ", ")) +
                  blockers.dependents + ".",
              "Drop those (zdm.begin_drop_constraint for a constraint), or abort migration \"" +
                  migration + "\" to keep the index; then call zdm.finish() again.");
}

void refuse_replica_identity_drop(unsigned int relid, const std::string& name, bool constraint) {
  std::vector<zdm::pg::Row> rows = zdm::pg::query(
      "WITH idx AS (SELECT i.indexrelid, i.indrelid, i.indisreplident, i.indisprimary "
      "  FROM pg_catalog.pg_index i WHERE i.indrelid = $1::pg_catalog.oid AND i.indexrelid = "
      "  CASE WHEN $3::pg_catalog.bool THEN (SELECT x.conindid FROM pg_catalog.pg_constraint x "
      "    WHERE x.conrelid = $1::pg_catalog.oid AND x.conname = $2 AND x.contype IN ('p', 'u')) "
      "  ELSE (SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_index ci "
      "    ON ci.indexrelid = c.oid WHERE ci.indrelid = $1::pg_catalog.oid AND c.relname = $2) "
      "  END) "
      "SELECT pg_catalog.quote_ident(ic.relname), "
      "  i.indrelid::pg_catalog.regclass::pg_catalog.text, "
      "  pg_catalog.string_agg(DISTINCT pg_catalog.quote_ident(p.pubname), ', ') "
      "FROM idx i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
      "JOIN pg_catalog.pg_class t ON t.oid = i.indrelid "
      "JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
      "JOIN pg_catalog.pg_publication_tables pt "
      "  ON pt.schemaname = n.nspname AND pt.tablename = t.relname "
      "JOIN pg_catalog.pg_publication p ON p.pubname = pt.pubname "
      "WHERE (p.pubupdate OR p.pubdelete) "
      "AND (i.indisreplident OR (t.relreplident = 'd' AND i.indisprimary)) "
      "GROUP BY ic.relname, i.indrelid",
      {std::to_string(relid), name, constraint ? "true" : "false"});
  if (rows.empty()) return;
  const std::string index = *rows[0][0], table = *rows[0][1], publications = *rows[0][2];
  throw Error(
      ErrorCode::ObjectInUse,
      "cannot drop " + (constraint ? "constraint \"" + name + "\": its index " : "index ") + index +
          (constraint ? " is" : ": it is") + " the replica identity of table " + table +
          ", and publication " + publications + " publishes its updates or deletes",
      "Without a replica identity PostgreSQL refuses every UPDATE and DELETE on a table that "
      "publishes them: both apps' writes would fail from finish on.",
      "Give the table another replica identity first (ALTER TABLE " + table +
          " REPLICA IDENTITY USING INDEX another unique index, or REPLICA IDENTITY FULL), or "
          "remove it from the publication.");
}

// The constraint's columns and what depends on it: for a PRIMARY KEY, UNIQUE
// or EXCLUDE, also what depends on its index (a foreign key from anywhere).
zdm::core::DropConstraintRequest constraint_facts(unsigned int relid, const std::string& name) {
  zdm::core::DropConstraintRequest request;
  request.name = name;
  std::vector<zdm::pg::Row> rows = zdm::pg::query(
      "SELECT (SELECT pg_catalog.string_agg(a.attname, E'\\x1f' ORDER BY a.attnum) "
      "  FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.conrelid "
      "  AND a.attnum = ANY (c.conkey)), "
      "(SELECT pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, "
      "  d.objsubid), ', ') FROM pg_catalog.pg_depend d WHERE d.deptype = 'n' "
      "  AND ((d.refclassid = 'pg_catalog.pg_constraint'::pg_catalog.regclass "
      "        AND d.refobjid = c.oid) "
      "    OR (c.contype IN ('p', 'u', 'x') "
      "        AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "        AND d.refobjid = c.conindid)) "
      "  AND NOT (d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass "
      "           AND d.objid = c.oid)) "
      "FROM pg_catalog.pg_constraint c WHERE c.conrelid = $1::pg_catalog.oid AND c.conname = $2",
      {std::to_string(relid), name});
  if (rows.empty()) return request;
  std::string columns = rows[0][0].value_or("");
  for (std::size_t start = 0; !columns.empty();) {
    std::size_t end = columns.find('\x1f', start);
    request.columns.push_back(columns.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  request.dependents = rows[0][1].value_or("");
  return request;
}

// drop_constraint's finish: what was built on the constraint during the window.
void refuse_constraint_dependents(const std::string& migration, const zdm::core::TableDesc& table,
                                  const std::string& name) {
  zdm::core::DropConstraintRequest facts = constraint_facts(table.oid, name);
  if (facts.dependents.empty()) return;
  throw Error(ErrorCode::ObjectInUse,
              "cannot finish migration \"" + migration +
                  "\": other objects depend on "
                  "constraint \"" +
                  name + "\" of table " + table.qualified(),
              "Depending on it: " + facts.dependents + ".",
              "Drop those (zdm.begin_drop_constraint for a foreign key), or abort migration \"" +
                  migration + "\" to keep the constraint; then call zdm.finish() again.");
}

// rename_table's view under the old name, when it is still there: locked with
// the table (the old app locks the view first, then the table; lock_tables
// takes both at once, under the lock timeout, so neither order can stall).
std::optional<unsigned int> rename_table_view_oid(unsigned int relid,
                                                  const zdm::core::Operation& op) {
  if (op.kind != zdm::core::OpKind::RenameTable || !zdm::pg::table_exists(relid)) return {};
  zdm::core::TableDesc table = zdm::pg::load_table(relid, true);
  return zdm::pg::view_oid(zdm::core::rename_table::view_name(table, op));
}

// The referenced table of a foreign key, as far as validation needs it: its
// name and columns. Only REFERENCES on it is needed (PostgreSQL checks that
// when the constraint is added), not ownership.
zdm::core::TableDesc load_referenced_table(unsigned int relid) {
  std::vector<zdm::pg::Row> rows = zdm::pg::query(
      "SELECT n.nspname, c.relname, c.relkind::pg_catalog.text FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::pg_catalog.oid",
      {std::to_string(relid)});
  if (rows.empty())
    throw Error(ErrorCode::UndefinedObject,
                "table with OID " + std::to_string(relid) + " does not exist");
  zdm::core::TableDesc t;
  t.oid = relid;
  t.schema = *rows[0][0];
  t.name = *rows[0][1];
  if (*rows[0][2] != "r" && *rows[0][2] != "p")
    throw Error(ErrorCode::WrongObjectType, "ref_table " + t.qualified() + " is not a table", {},
                "A foreign key references an ordinary or a partitioned table.");
  if (t.schema == "pg_catalog" || t.schema == "information_schema" || t.schema == "zdm")
    throw Error(
        ErrorCode::WrongObjectType,
        "ref_table " + t.qualified() + " belongs to " + (t.schema == "zdm" ? "zdm" : "the system"),
        {}, "Reference a user table.");
  for (zdm::pg::Row& r :
       zdm::pg::query("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
                      "a.attnotnull FROM pg_catalog.pg_attribute a "
                      "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 "
                      "AND NOT a.attisdropped ORDER BY a.attnum",
                      {std::to_string(relid)})) {
    zdm::core::Column c;
    c.name = *r[0];
    c.type_sql = *r[1];
    c.not_null = *r[2] == "t";
    t.columns.push_back(std::move(c));
  }
  return t;
}

// The checks of the referenced side that need the catalog, in the order
// PostgreSQL would fail them: comparable key types, then a unique index.
void check_references(const zdm::core::TableDesc& table, const zdm::core::TableDesc& ref,
                      const zdm::core::AddForeignKeyRequest& request) {
  for (std::size_t i = 0; i < request.columns.size(); i++) {
    // Compared as their base types (a domain as what it is over): equal, an
    // implicit cast, or an equality operator across the two.
    std::vector<zdm::pg::Row> mismatch = zdm::pg::query(
        "WITH t AS (SELECT (SELECT a.atttypid FROM pg_catalog.pg_attribute a "
        "  WHERE a.attrelid = $1::pg_catalog.oid AND a.attname = $2) AS f, "
        "  (SELECT a.atttypid FROM pg_catalog.pg_attribute a "
        "  WHERE a.attrelid = $3::pg_catalog.oid AND a.attname = $4) AS r), "
        "b AS (SELECT t.f, t.r, (SELECT COALESCE(NULLIF(y.typbasetype, 0), y.oid) "
        "  FROM pg_catalog.pg_type y WHERE y.oid = t.f) AS fb, "
        "  (SELECT COALESCE(NULLIF(y.typbasetype, 0), y.oid) "
        "  FROM pg_catalog.pg_type y WHERE y.oid = t.r) AS rb FROM t) "
        "SELECT pg_catalog.format_type(b.f, NULL), pg_catalog.format_type(b.r, NULL) FROM b "
        "WHERE NOT (b.fb = b.rb "
        "  OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast c WHERE c.castsource = b.fb "
        "             AND c.casttarget = b.rb AND c.castcontext = 'i') "
        "  OR EXISTS (SELECT 1 FROM pg_catalog.pg_operator o WHERE o.oprname = '=' "
        "             AND o.oprleft = b.fb AND o.oprright = b.rb AND o.oprcanmerge))",
        {std::to_string(table.oid), request.columns[i], std::to_string(ref.oid),
         request.ref_columns[i]});
    if (!mismatch.empty())
      throw Error(ErrorCode::InvalidParameter,
                  "key columns \"" + request.columns[i] + "\" and \"" + request.ref_columns[i] +
                      "\" are of incompatible types: " + *mismatch[0][0] + " and " +
                      *mismatch[0][1],
                  "A foreign key compares them with the referenced column's equality operator.",
                  "Reference a column of a comparable type, or change one column's type first "
                  "(zdm.begin_alter_type).");
  }
  if (zdm::pg::query_value(
          "SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = $1::pg_catalog.oid "
          "AND i.indisunique AND i.indisvalid AND i.indimmediate AND i.indpred IS NULL "
          "AND i.indexprs IS NULL AND i.indnkeyatts = $3::pg_catalog.int4 "
          "AND (SELECT pg_catalog.array_agg(k ORDER BY k) FROM pg_catalog.unnest("
          "  (i.indkey::pg_catalog.int2[])[0:i.indnkeyatts - 1]) k) = "
          "  (SELECT pg_catalog.array_agg(a.attnum ORDER BY a.attnum) "
          "   FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::pg_catalog.oid "
          "   AND a.attname = ANY (pg_catalog.string_to_array($2, E'\\x1f')))",
          {std::to_string(ref.oid), zdm::core::joined(request.ref_columns, "\x1f"),
           std::to_string(request.ref_columns.size())}))
    return;
  const std::string columns = zdm::core::joined(request.ref_columns, ", ");
  // zdm.begin_add_unique refuses a partitioned table: its index is built on
  // each partition, then attached.
  if (zdm::pg::query_value("SELECT 1 FROM pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid "
                           "AND relkind = 'p'",
                           {std::to_string(ref.oid)}))
    throw Error(ErrorCode::InvalidState,
                "there is no unique index on partitioned table " + ref.qualified() + " (" +
                    columns + ") for the foreign key to reference",
                "A foreign key needs a valid, non-partial unique index (or PRIMARY KEY or UNIQUE "
                "constraint) on exactly the referenced columns; on a partitioned table they must "
                "include the partition key.",
                "Add one first without a long lock: CREATE UNIQUE INDEX ... ON ONLY " +
                    ref.qualified() +
                    " (invalid at first), CREATE UNIQUE INDEX CONCURRENTLY on each partition, and "
                    "ALTER INDEX ... ATTACH PARTITION each; zdm.begin_add_unique does not take "
                    "partitioned tables.");
  throw Error(
      ErrorCode::InvalidState,
      "there is no unique index on " + ref.qualified() + " (" + columns +
          ") for the foreign key to reference",
      "A foreign key needs a valid, non-partial unique index (or PRIMARY KEY or UNIQUE "
      "constraint) on exactly the referenced columns.",
      "Add one first without a long lock: zdm.begin_add_unique(" +
          zdm::core::quote_literal(ref.qualified()) + ", ARRAY[" +
          [&] {
            std::string a;
            for (const std::string& c : request.ref_columns)
              a += (a.empty() ? "" : ", ") + zdm::core::quote_literal(c);
            return a;
          }() +
          "]), run its pending statements and finish it.");
}

// An up, down, CHECK, default or index expression runs in the writing
// session with the writer's rights, as PostgreSQL runs a column default or a
// generated column: a role that may write the table but not execute a function
// the expression calls would get "permission denied" on every write once begin
// commits (the old app down at begin). Refused here instead, with the GRANTs.
// The writers: a role that can log in, one such a role can SET ROLE to (a
// group role), and the owner (the trigger compiles the expression as it);
// superusers pass every check. When PUBLIC may write, PUBLIC is named.
void refuse_writers_without_execute(unsigned int relid, const std::vector<unsigned int>& functions,
                                    const char* what) {
  if (functions.empty()) return;
  std::string oids = "{";
  for (unsigned int f : functions) oids += (oids.size() > 1 ? "," : "") + std::to_string(f);
  oids += "}";
  std::vector<zdm::pg::Row> rows = zdm::pg::query(
      "WITH f AS (SELECT p.oid, p.oid::pg_catalog.regprocedure::pg_catalog.text AS name "
      "             FROM pg_catalog.pg_proc p "
      "            WHERE p.oid OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.oid[]) "
      "              AND p.proacl IS NOT NULL), "  // NULL: the default, EXECUTE for PUBLIC
      "public_denied AS ( "
      "  SELECT 'PUBLIC'::pg_catalog.text AS role, f.name FROM f "
      "   WHERE pg_catalog.has_any_column_privilege('public'::pg_catalog.name, $1::pg_catalog.oid, "
      "                                             'INSERT, UPDATE') "
      "     AND NOT pg_catalog.has_function_privilege('public'::pg_catalog.name, f.oid, "
      "'EXECUTE')) "
      "SELECT role, name FROM public_denied "
      "UNION ALL "
      "SELECT pg_catalog.quote_ident(r.rolname), f.name FROM f, pg_catalog.pg_roles r "
      " WHERE NOT EXISTS (SELECT FROM public_denied) AND NOT r.rolsuper "
      "   AND pg_catalog.has_any_column_privilege(r.oid, $1::pg_catalog.oid, 'INSERT, UPDATE') "
      "   AND NOT pg_catalog.has_function_privilege(r.oid, f.oid, 'EXECUTE') "
      // Who could write as r, last (the planner orders quals by cost): only the
      // few roles that may write and may not execute get here, and a login
      // role or the owner needs no search among the members.
      "   AND (r.rolcanlogin "
      "        OR r.oid OPERATOR(pg_catalog.=) (SELECT c.relowner FROM pg_catalog.pg_class c "
      "                                          WHERE c.oid OPERATOR(pg_catalog.=) "
      "                                                $1::pg_catalog.oid) "
      "        OR EXISTS (SELECT FROM pg_catalog.pg_roles l "
      "                    WHERE l.rolcanlogin AND NOT l.rolsuper "
      "                      AND pg_catalog.pg_has_role(l.oid, r.oid, 'MEMBER'))) "
      "ORDER BY 1, 2",
      {std::to_string(relid), oids});
  if (rows.empty()) return;
  // Per role its functions, per function its roles, in the order read.
  std::vector<std::pair<std::string, std::vector<std::string>>> by_role, by_function;
  auto add = [](std::vector<std::pair<std::string, std::vector<std::string>>>& to,
                const std::string& key, const std::string& value) {
    for (auto& [k, values] : to)
      if (k == key) {
        values.push_back(value);
        return;
      }
    to.push_back({key, {value}});
  };
  for (const zdm::pg::Row& row : rows) {
    add(by_role, *row[0], *row[1]);
    add(by_function, *row[1], *row[0]);
  }
  std::vector<std::string> roles, named;
  for (const auto& [role, fs] : by_role) roles.push_back(role);
  const size_t shown = 10;
  for (size_t i = 0; i < roles.size() && i < shown; i++) named.push_back(roles[i]);
  std::string who = (roles.size() == 1 ? "role " : "roles ") + zdm::core::joined(named, ", ");
  if (roles.size() > shown) who += " and " + std::to_string(roles.size() - shown) + " more";
  if (roles.size() == 1 && roles[0] == "PUBLIC") who = "PUBLIC (every role)";
  std::vector<std::string> function_names;
  std::string grants;
  for (const auto& [function, grantees] : by_function) {
    function_names.push_back(function);
    grants +=
        "GRANT EXECUTE ON FUNCTION " + function + " TO " + zdm::core::joined(grantees, ", ") + "; ";
  }
  const std::string kind = what;
  const std::string expression = kind == "expression"     ? "the CHECK expression"
                                 : kind == "default_expr" ? "default_expr"
                                 : kind == "index key"    ? "the index key expression"
                                 : kind == "where_clause" ? "the index's where_clause"
                                                          : "the " + kind + " expression";
  std::string detail =
      (kind == "up" || kind == "down"
           ? "zdm computes " + expression +
                 " in the writing session, with the writer's rights, as PostgreSQL computes a "
                 "column default or a generated column: after begin"
       : kind == "default_expr"
           ? std::string("It becomes the column's DEFAULT, which PostgreSQL computes with the "
                         "writer's rights: after finish")
       : kind == "expression"
           ? "PostgreSQL computes " + expression + " with the writer's rights: after begin"
           : "PostgreSQL computes " + expression +
                 " with the writer's rights: once the index is built") +
      (kind == "default_expr" ? ", their INSERTs" : ", their INSERTs and UPDATEs") +
      " would fail with \"permission denied for function\".";
  if (function_names.size() > 1) {
    detail += " Missing:";
    for (size_t i = 0; i < by_role.size() && i < shown; i++)
      detail += std::string(i == 0 ? " " : "; ") + by_role[i].first + ": " +
                zdm::core::joined(by_role[i].second, ", ");
    detail += ".";
  }
  detail += " Nothing was changed.";
  throw Error(ErrorCode::InsufficientPrivilege,
              who + " may write table " + zdm::pg::load_table(relid).qualified() +
                  " but not execute " + (function_names.size() == 1 ? "function " : "functions ") +
                  zdm::core::joined(function_names, ", ") + ", which " + expression + " calls",
              detail, grants + "then call begin again.");
}

}  // namespace zdm::pg
