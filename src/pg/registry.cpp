// zdm's own tables (zdm.migrations, zdm.operations, zdm.ddl_log): every read
// and write of them from the SQL-callable functions goes through here. Writes
// run as the catalog's owner (see spi.hpp).
#include "pg/registry.hpp"

#include <cstdio>

#include "core/error.hpp"
#include "core/ops/add_foreign_key.hpp"
#include "core/plan.hpp"
#include "core/quote.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"

namespace zdm::pg {

using core::Error;
using core::ErrorCode;

namespace {

std::string rel(unsigned int relid) { return std::to_string(relid); }

std::string list_active() {
  Value names = query_value(
      "SELECT pg_catalog.string_agg(pg_catalog.quote_literal(name), ', ' ORDER BY created_at) "
      "FROM zdm.migrations WHERE state = 'active'");
  return names.value_or("none");
}

// A name[] column of zdm.operations, joined by the unit separator (0x1f), read
// as keep_new_name is: NULL on a 0.1.0 catalog, which has no such column.
#define ZDM_STORED_NAMES(column)                                                 \
  "(SELECT pg_catalog.string_agg(e.name, E'\\x1f' ORDER BY e.n) "                \
  "FROM pg_catalog.jsonb_array_elements_text(CASE WHEN pg_catalog.jsonb_typeof(" \
  "pg_catalog.to_jsonb(o) OPERATOR(pg_catalog.->) '" column                      \
  "') = 'array' "                                                                \
  "THEN pg_catalog.to_jsonb(o) OPERATOR(pg_catalog.->) '" column                 \
  "' END) WITH ORDINALITY "                                                      \
  "e(name, n))"

std::vector<std::string> split_stored_names(const Value& joined) {
  std::vector<std::string> out;
  if (!joined) return out;
  std::size_t start = 0;
  for (std::size_t end; (end = joined->find('\x1f', start)) != std::string::npos; start = end + 1)
    out.push_back(joined->substr(start, end - start));
  out.push_back(joined->substr(start));
  return out;
}

// The owner this statement resolved a migration's name to (owner_of,
// open_migration), for zdm.ddl_log: by the time a begin logs its statements,
// a superuser's name may mean two active migrations (begin just opened the
// second), which owner_of would refuse as ambiguous.
struct ResolvedOwner {
  std::string migration;
  std::string owner;
  TimestampTz statement = 0;
};
ResolvedOwner resolved_owner;

std::string remember_owner(const std::string& migration, const std::string& owner) {
  resolved_owner = {migration, owner, GetCurrentStatementStartTimestamp()};
  return owner;
}

const char* kOperationColumns =
    "SELECT o.id, o.migration, o.kind, o.column_name, o.new_column, o.tbl::pg_catalog.oid, "
    "o.backfill_state, o.new_type, o.up_expr, o.not_null, o.default_expr, o.check_name, "
    "o.down_expr, o.join_table::pg_catalog.oid, jn.nspname, jc.relname, o.join_key, "
    "o.join_value, o.target_key, o.references_sql, "
    // Read from the row as JSON: the library also runs against a 0.1.0
    // catalog, before ALTER EXTENSION UPDATE adds the column (NULL: false).
    "(pg_catalog.to_jsonb(o) OPERATOR(pg_catalog.->>) 'keep_new_name')::pg_catalog.bool, "
    ZDM_STORED_NAMES("reads") ", " ZDM_STORED_NAMES("ref_reads") " "
    "FROM zdm.operations o "
    "LEFT JOIN pg_catalog.pg_class jc ON jc.oid = o.join_table::pg_catalog.oid "
    "LEFT JOIN pg_catalog.pg_namespace jn ON jn.oid = jc.relnamespace ";

StoredOperation to_stored(const Row& r) {
  StoredOperation s;
  s.op.id = std::stol(*r[0]);
  s.op.migration = *r[1];
  s.op.kind = core::parse_op_kind(*r[2]);
  s.op.column = *r[3];
  s.op.new_column = r[4].value_or("");
  s.relid = static_cast<unsigned int>(std::stoul(*r[5]));
  s.backfill_state = *r[6];
  s.op.type_sql = r[7].value_or("");
  s.op.up = r[8].value_or("");
  s.op.down = r[12].value_or("");
  s.op.not_null = is_true(r[9]);
  s.op.default_sql = r[10].value_or("");
  s.op.check_name = r[11].value_or("");
  // A join table that no longer exists leaves join_schema and join_name empty.
  s.op.join_relid = r[13] && r[15] ? static_cast<unsigned int>(std::stoul(*r[13])) : 0;
  s.op.join_schema = r[14].value_or("");
  s.op.join_name = r[15].value_or("");
  s.op.join_key = r[16].value_or("");
  s.op.join_value = r[17].value_or("");
  s.op.target_key = r[18].value_or("");
  s.op.references_sql = r[19].value_or("");
  s.op.keep_new_name = is_true(r[20]);
  s.op.reads = split_stored_names(r[21]);
  s.op.ref_reads = split_stored_names(r[22]);
  return s;
}

// The active migrations the caller can act on: it is a member of the
// migration's owner and of the owner of every table they change (of the role
// that began them, for a dropped table). Other roles' migrations never make a
// call without a name ambiguous.
const char* kActiveForCaller =
    "SELECT m.name FROM zdm.migrations m WHERE m.state = 'active' "
    "AND pg_catalog.pg_has_role(m.owner::pg_catalog.oid, 'USAGE') AND NOT EXISTS ("
    "  SELECT 1 FROM zdm.operations o "
    "  LEFT JOIN pg_catalog.pg_class c ON c.oid = o.tbl::pg_catalog.oid "
    "  WHERE o.migration = m.name AND o.migration_owner = m.owner AND NOT CASE WHEN c.oid IS NULL "
    "    THEN pg_catalog.pg_has_role(m.created_by, 'USAGE') "
    "    ELSE pg_catalog.pg_has_role(c.relowner, 'USAGE') END) "
    "ORDER BY m.created_at";

// Migration names are scoped per owner: zdm.migrations is keyed on (owner,
// name), the owner being the role that owned the migration's table at begin,
// so another team's 'release_42' never blocks yours. A name resolves among the
// migrations of the roles the caller is a member of (a superuser: every role);
// of several, the only active one; else the caller is told which there are.
// Returns the owner's OID; every statement below then goes by (owner, name).
std::string owner_of(const std::string& migration) {
  std::vector<Row> named = query(
      "SELECT m.owner::pg_catalog.oid::pg_catalog.text, m.owner::pg_catalog.text, m.state "
      "FROM zdm.migrations m WHERE m.name = $1 "
      "AND pg_catalog.pg_has_role(m.owner::pg_catalog.oid, 'USAGE') "
      "ORDER BY m.created_at, m.owner::pg_catalog.text",
      {migration});
  if (named.size() == 1) return remember_owner(migration, *named[0][0]);
  if (named.empty()) {
    // Only another role's: it is that one, and acting on it is refused by the
    // ownership check that follows, naming the table.
    std::vector<Row> all = query(
        "SELECT m.owner::pg_catalog.oid::pg_catalog.text, m.owner::pg_catalog.text "
        "FROM zdm.migrations m WHERE m.name = $1 ORDER BY m.owner::pg_catalog.text",
        {migration});
    if (all.size() == 1) return remember_owner(migration, *all[0][0]);
    std::string others;
    for (const Row& r : all) others += (others.empty() ? "" : ", ") + *r[1];
    throw Error(ErrorCode::UndefinedObject, "migration \"" + migration + "\" does not exist",
                !all.empty() ? "Migration names are scoped per owner; migrations of that name "
                               "belong to roles you are not a member of: " +
                                   others + "."
                             : "Active migrations: " + list_active() + ".",
                "See SELECT * FROM zdm.status();");
  }
  const Row* active = nullptr;
  int n_active = 0;
  std::string which;
  for (const Row& r : named) {
    if (*r[2] == "active") {
      active = &r;
      n_active++;
    }
    which += (which.empty() ? "" : ", ") + *r[1] + " (" + *r[2] + ")";
  }
  if (n_active == 1) return remember_owner(migration, *(*active)[0]);
  throw Error(ErrorCode::InvalidParameter,
              "migration name \"" + migration + "\" is ambiguous: " + std::to_string(named.size()) +
                  " roles you act for have a migration of that name",
              "Migration names are scoped per owner (the role that owned the migration's table "
              "at begin); the owners: " +
                  which + ".",
              "Run the call as the owning role, e.g. SET ROLE " + *named[0][1] +
                  "; then the call; then RESET ROLE.");
}

// Whether zdm's catalog still has its 0.1.0 shape (names not scoped per
// owner): the library is updated before ALTER EXTENSION zdm UPDATE runs, and
// a migration begun in between must work (regress test upgrade). Only begin's
// reads and writes need it; the update gives every migration its owner.
bool legacy_catalog() {
  return !query_value(
              "SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
              "'zdm.migrations'::pg_catalog.regclass AND attname = 'owner' AND NOT attisdropped")
              .has_value();
}

std::string state_of(const std::string& migration, const std::string& owner) {
  return *query_value(
      "SELECT state FROM zdm.migrations WHERE name = $1 AND owner = $2::pg_catalog.oid",
      {migration, owner});
}

void require_owner_of_tables(const std::string& migration, const std::string& owner);

}  // namespace

std::vector<StoredOperation> operations_of(const std::string& migration) {
  std::vector<StoredOperation> out;
  for (const Row& r : query((std::string(kOperationColumns) +
                             "WHERE o.migration = $1 AND o.migration_owner = $2::pg_catalog.oid "
                             "ORDER BY o.id")
                                .c_str(),
                            {migration, owner_of(migration)}))
    out.push_back(to_stored(r));
  return out;
}

std::vector<core::Operation> open_operations_on(unsigned int relid,
                                                const std::string& except_migration) {
  std::vector<core::Operation> out;
  if (legacy_catalog() && except_migration.empty()) {
    for (const Row& r : query((std::string(kOperationColumns) +
                               "JOIN zdm.migrations m ON m.name = o.migration "
                               "WHERE m.state = 'active' AND (o.tbl = $1::pg_catalog.oid "
                               "OR o.join_table = $1::pg_catalog.oid) ORDER BY o.id")
                                  .c_str(),
                              {rel(relid)}))
      out.push_back(to_stored(r).op);
    return out;
  }
  for (const Row& r :
       query((std::string(kOperationColumns) +
              "JOIN zdm.migrations m ON m.name = o.migration AND m.owner = o.migration_owner "
              "WHERE m.state = 'active' "
              "AND (o.tbl = $1::pg_catalog.oid OR o.join_table = $1::pg_catalog.oid) "
              "AND (o.migration, o.migration_owner::pg_catalog.oid) IS DISTINCT FROM "
              "($2, $3::pg_catalog.oid) ORDER BY o.id")
                 .c_str(),
             {rel(relid), except_migration.empty() ? Value() : Value(except_migration),
              except_migration.empty() ? Value() : Value(owner_of(except_migration))}))
    out.push_back(to_stored(r).op);
  return out;
}

std::vector<core::Operation> open_operations_using(unsigned int relid) {
  std::vector<core::Operation> out = open_operations_on(relid);
  if (legacy_catalog()) return out;  // a 0.1.0 catalog has no foreign key operations
  for (const Row& r :
       query((std::string(kOperationColumns) +
              "JOIN zdm.migrations m ON m.name = o.migration AND m.owner = o.migration_owner "
              "WHERE m.state = 'active' AND o.kind = 'add_foreign_key' "
              "AND o.ref_table::pg_catalog.oid = $1::pg_catalog.oid ORDER BY o.id")
                 .c_str(),
             {rel(relid)}))
    out.push_back(core::add_foreign_key::referenced_side(to_stored(r).op));
  return out;
}

core::MigrationState migration_state(const std::string& migration) {
  return core::parse_state(state_of(migration, owner_of(migration)));
}

std::string resolve_migration(const std::optional<std::string>& requested) {
  if (requested) {
    migration_state(*requested);  // raises when it does not exist
    return *requested;
  }
  std::vector<Row> active = query(kActiveForCaller);
  if (active.size() == 1) return *active[0][0];
  std::string names;
  for (const Row& r : active) names += (names.empty() ? "'" : ", '") + *r[0] + "'";
  if (active.empty()) {
    std::string others = list_active();
    throw Error(ErrorCode::UndefinedObject,
                others == "none" ? "there is no active migration"
                                 : "there is no active migration you can act on",
                others == "none" ? std::string()
                                 : "Active migrations of tables you do not own: " + others + ".",
                "Start one with zdm.begin_rename() or another zdm.begin_*() function.");
  }
  throw Error(ErrorCode::InvalidParameter,
              std::to_string(active.size()) + " migrations are active; name the one you mean",
              "Active migrations: " + names + ".",
              "Pass the migration name, e.g. zdm.finish('name').");
}

namespace {

// open_migration on a 0.1.0 catalog (see legacy_catalog): one namespace.
std::string open_legacy_migration(const std::optional<std::string>& requested,
                                  const std::vector<std::string>& name_parts) {
  std::string name;
  if (requested) {
    core::check_identifier("migration", *requested);
    Value state = query_value("SELECT state FROM zdm.migrations WHERE name = $1", {*requested});
    if (state)
      throw Error(ErrorCode::FeatureNotSupported,
                  "cannot add to migration \"" + *requested + "\" before zdm's catalog is updated",
                  "The zdm library is newer than its catalog (version 0.1.0).",
                  "Run ALTER EXTENSION zdm UPDATE, then call this again.");
    name = *requested;
  } else {
    name = core::unique_name(
        core::readable_migration_name(name_parts), [](const std::string& candidate) {
          return query_value("SELECT 1 FROM zdm.migrations WHERE name = $1", {candidate})
              .has_value();
        });
  }
  execute_as_catalog_owner("INSERT INTO zdm.migrations (name, created_by) VALUES ($1, $2)",
                           {name, query_value("SELECT CURRENT_USER::pg_catalog.text")});
  return name;
}

// The walked table: the join table for join_to_column, else the table.
#define ZDM_WALKED_TABLE \
  "(CASE WHEN kind = 'join_to_column' THEN join_table ELSE tbl END)::pg_catalog.oid"
}  // namespace

std::string open_migration(const std::optional<std::string>& requested,
                           const std::vector<std::string>& name_parts, unsigned int relid) {
  if (legacy_catalog()) return open_legacy_migration(requested, name_parts);
  // The migration's owner is the table's: the caller's team's namespace,
  // whoever of the team (or a superuser) begins it.
  const std::string owner = *query_value(
      "SELECT c.relowner::pg_catalog.text FROM pg_catalog.pg_class c "
      "WHERE c.oid = $1::pg_catalog.oid",
      {rel(relid)});
  std::string name;
  if (requested) {
    core::check_identifier("migration", *requested);
    Value state = query_value(
        "SELECT state FROM zdm.migrations WHERE name = $1 AND owner = $2::pg_catalog.oid",
        {*requested, owner});
    if (state) {
      require_owner_of_tables(*requested, owner);
      core::check_transition(*requested, core::parse_state(*state), core::Action::AddOperation);
      remember_owner(*requested, owner);
      return *requested;
    }
    name = *requested;
    // The dual-write trigger tells migrations apart by name: two of one name
    // on one table (its owner changed since the first began) would share it.
    Value clash = query_value(
        "SELECT m.owner::pg_catalog.text FROM zdm.operations o JOIN zdm.migrations m "
        "ON m.name = o.migration AND m.owner = o.migration_owner "
        "WHERE m.name = $1 AND m.state = 'active' "
        "AND (o.tbl = $2::pg_catalog.oid OR o.join_table = $2::pg_catalog.oid) LIMIT 1",
        {name, rel(relid)});
    if (clash)
      throw Error(ErrorCode::ObjectInUse,
                  "the table is already under migration \"" + name + "\" of role " + *clash,
                  "The table's owner changed since that migration began; a second migration of "
                  "the same name on one table would share its trigger.",
                  "Finish or abort that migration first (as its owner), or choose another name.");
    // A caller acting for several owners (a superuser) is told that the name
    // now means more than one migration.
    Value others = query_value(
        "SELECT pg_catalog.string_agg(m.owner::pg_catalog.text, ', ' ORDER BY m.created_at) "
        "FROM zdm.migrations m WHERE m.name = $1 AND m.state = 'active' "
        "AND pg_catalog.pg_has_role(m.owner::pg_catalog.oid, 'USAGE')",
        {name});
    if (others) {
      const std::string owner_name =
          *query_value("SELECT $1::pg_catalog.oid::pg_catalog.regrole::pg_catalog.text", {owner});
      pg_guard([&] {
        ereport(NOTICE,
                (errmsg("zdm: migration \"%s\" is opened for role %s, the table's owner; the "
                        "active migration of that name of role %s is another migration",
                        name.c_str(), owner_name.c_str(), others->c_str()),
                 errhint("Migration names are scoped per owner. To finish or abort one of "
                         "them by name, run the call as its owner (SET ROLE).")));
      });
    }
  } else {
    name = core::unique_name(
        core::readable_migration_name(name_parts), [](const std::string& candidate) {
          return query_value("SELECT 1 FROM zdm.migrations WHERE name = $1", {candidate})
              .has_value();
        });
  }
  execute_as_catalog_owner(
      "INSERT INTO zdm.migrations (name, created_by, owner) "
      "VALUES ($1, $2, $3::pg_catalog.oid::pg_catalog.regrole)",
      {name, query_value("SELECT CURRENT_USER::pg_catalog.text"), owner});
  remember_owner(name, owner);
  return name;
}

long record_operation(const core::Operation& op, unsigned int relid) {
  auto optional = [](const std::string& s) { return s.empty() ? Value() : Value(s); };
  const bool legacy = legacy_catalog();
  Value id = query_value_as_catalog_owner(
      legacy
          ? "INSERT INTO zdm.operations (migration, kind, tbl, column_name, new_column, "
            "new_type, up_expr, not_null, default_expr, check_name, backfill_state, down_expr, "
            "join_table, join_key, join_value, target_key, references_sql) "
            "VALUES ($1, $2, $3::pg_catalog.oid, $4, $5, $6, $7, $8::pg_catalog.bool, $9, $10, "
            "$11, $12, $13::pg_catalog.oid, $14, $15, $16, $17) RETURNING id"
          : "INSERT INTO zdm.operations (migration, kind, tbl, column_name, new_column, new_type, "
            "up_expr, not_null, default_expr, check_name, backfill_state, down_expr, join_table, "
            "join_key, join_value, target_key, references_sql, migration_owner) "
            "SELECT $1, $2, $3::pg_catalog.oid, $4, $5, $6, $7, $8::pg_catalog.bool, $9, $10, $11, "
            "$12, $13::pg_catalog.oid, $14, $15, $16, $17, c.relowner::pg_catalog.regrole "
            "FROM pg_catalog.pg_class c WHERE c.oid = $3::pg_catalog.oid "
            "RETURNING id",
      {op.migration, std::string(core::op_kind_name(op.kind)), rel(relid), op.column,
       optional(op.new_column), optional(op.type_sql), optional(op.up),
       std::string(op.not_null ? "true" : "false"), optional(op.default_sql),
       optional(op.check_name), std::string(core::needs_backfill(op) ? "pending" : "done"),
       optional(op.down), op.join_relid == 0 ? Value() : Value(rel(op.join_relid)),
       optional(op.join_key), optional(op.join_value), optional(op.target_key),
       optional(op.references_sql)});
  // Only begin_alter_type's new_name sets it, which a 0.1.0 catalog (without
  // the column) cannot be called with.
  if (op.keep_new_name)
    execute_as_catalog_owner(
        "UPDATE zdm.operations SET keep_new_name = true WHERE id = $1::pg_catalog.int8", {*id});
  // Only index and constraint operations read columns, which a 0.1.0 catalog
  // cannot be called with either.
  auto names = [](const std::vector<std::string>& columns) {
    std::string joined;
    for (const std::string& c : columns) joined += (joined.empty() ? "" : "\x1f") + c;
    return columns.empty() ? Value() : Value(joined);
  };
  if (!op.reads.empty() || !op.ref_reads.empty())
    execute_as_catalog_owner(
        "UPDATE zdm.operations SET "
        "reads = pg_catalog.string_to_array($2, E'\\x1f')::pg_catalog.name[], "
        "ref_table = $3::pg_catalog.oid::pg_catalog.regclass, "
        "ref_reads = pg_catalog.string_to_array($4, E'\\x1f')::pg_catalog.name[] "
        "WHERE id = $1::pg_catalog.int8",
        {*id, names(op.reads), op.ref_relid == 0 ? Value() : Value(rel(op.ref_relid)),
         names(op.ref_reads)});
  // The walked table's inserts so far: status() and the NOTICEs tell the rows
  // inserted since begin that the backfill visits beyond its estimate. (A
  // 0.1.0 catalog, before ALTER EXTENSION zdm UPDATE, has no such column.)
  if (query_value("SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
                  "'zdm.operations'::pg_catalog.regclass AND attname = 'rows_inserted_base' "
                  "AND NOT attisdropped"))
    execute_as_catalog_owner(
        "UPDATE zdm.operations SET rows_inserted_base = "
        "pg_catalog.pg_stat_get_tuples_inserted(" ZDM_WALKED_TABLE
        ") + pg_catalog.pg_stat_get_xact_tuples_inserted(" ZDM_WALKED_TABLE
        ") WHERE id = $1::pg_catalog.int8",
        {*id});
  return std::stol(*id);
}

void require_migration_owner(const std::string& migration) {
  require_owner_of_tables(migration, owner_of(migration));
}

namespace {

void require_owner_of_tables(const std::string& migration, const std::string& owner) {
  // Every table the migration changes must be the caller's; for a table that
  // was dropped meanwhile, the caller must act for the role that began it.
  std::vector<Row> refused = query(
      "SELECT CASE WHEN c.oid IS NULL THEN 'a dropped table (OID ' || o.tbl::pg_catalog.oid || ')'"
      "            ELSE 'table \"' || pg_catalog.replace(n.nspname, '\"', '\"\"') || '\".\"' || "
      "                 pg_catalog.replace(c.relname, '\"', '\"\"') || '\"' END "
      "FROM zdm.operations o JOIN zdm.migrations m ON m.name = o.migration "
      "AND m.owner = o.migration_owner "
      "LEFT JOIN pg_catalog.pg_class c ON c.oid = o.tbl::pg_catalog.oid "
      "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE o.migration = $1 AND o.migration_owner = $2::pg_catalog.oid AND NOT CASE "
      "  WHEN c.oid IS NULL THEN pg_catalog.pg_has_role(m.created_by, 'USAGE') "
      "  ELSE pg_catalog.pg_has_role(c.relowner, 'USAGE') END "
      "ORDER BY o.id",
      {migration, owner});
  if (refused.empty()) return;
  throw Error(ErrorCode::InsufficientPrivilege, "must be owner of " + *refused[0][0],
              "Migration \"" + migration +
                  "\" changes it; only the owner of every table a "
                  "migration changes (or a superuser) can add to, backfill, finish or abort it.",
              "Run it as the tables' owner, or as a member of the owning role.");
}

}  // namespace

void record_migration_end(const std::string& migration, core::MigrationState final_state) {
  execute_as_catalog_owner(
      "UPDATE zdm.migrations SET state = $2, ended_at = pg_catalog.now() "
      "WHERE name = $1 AND owner = $3::pg_catalog.oid",
      {migration, std::string(core::state_name(final_state)), owner_of(migration)});
}

void lock_migration(const std::string& migration) {
  // A row lock on the migration's own catalog row, taken as the catalog's
  // owner: every other role only has SELECT on zdm.migrations, so none can
  // lock that row (SELECT ... FOR UPDATE needs UPDATE) and make zdm "busy"
  // (an advisory lock key, by contrast, anyone could take). NO KEY UPDATE
  // lets the foreign key checks of zdm.operations' inserts through.
  const std::string owner = owner_of(migration);
  Value got = query_value_as_catalog_owner(
      "SELECT 1 FROM zdm.migrations WHERE name = $1 AND owner = $2::pg_catalog.oid "
      "FOR NO KEY UPDATE SKIP LOCKED",
      {migration, owner});
  if (got) return;
  // The row's xmax is the locking transaction; each transaction holds a lock
  // on its own id, which names its backend.
  Value holder = query_value(
      "SELECT pg_catalog.string_agg(pg_catalog.format('pid %s (role %s, since %s): %s', a.pid, "
      "a.usename, a.xact_start, pg_catalog.left(a.query, 200)), '; ') "
      "FROM zdm.migrations m, pg_catalog.pg_locks l "
      "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
      "WHERE m.name = $1 AND m.owner = $2::pg_catalog.oid AND l.locktype = 'transactionid' "
      "AND l.mode = 'ExclusiveLock' AND l.granted AND l.transactionid = m.xmax",
      {migration, owner});
  throw Error(ErrorCode::ObjectInUse, "migration \"" + migration + "\" is busy in another session",
              "Held by " + holder.value_or("another session") + ".",
              "A backfill, finish or abort of this migration is running; wait for it to end.");
}

void record_join_table(long op_id, const std::string& join_table) {
  execute_as_catalog_owner(
      "UPDATE zdm.operations SET join_table = $2::pg_catalog.regclass "
      "WHERE id = $1::pg_catalog.int8",
      {std::to_string(op_id), join_table});
}

Value active_migration_names() {
  return query_value_as_catalog_owner(
      "SELECT pg_catalog.string_agg(pg_catalog.format('\"%s\"', m.name), ', ' "
      "ORDER BY m.created_at, m.name) FROM zdm.migrations m WHERE m.state = 'active'");
}

Value active_migrations_on(unsigned int relid) {
  return query_value_as_catalog_owner(
      "SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('\"%s\"', m.name), ', ') "
      "FROM zdm.operations o JOIN zdm.migrations m ON m.name = o.migration "
      "AND m.owner = o.migration_owner "
      "WHERE m.state = 'active' AND (o.tbl::pg_catalog.oid = $1::pg_catalog.oid "
      "OR o.join_table::pg_catalog.oid = $1::pg_catalog.oid)",
      {rel(relid)});
}

void wait_for_open_begins() { execute_as_catalog_owner("LOCK TABLE zdm.migrations IN SHARE MODE"); }

void log_ddl(const std::string& migration, const std::string& phase,
             const std::vector<std::string>& statements, int attempts, double lock_wait_ms) {
  char wait_text[64];
  snprintf(wait_text, sizeof wait_text, "%.3f milliseconds", lock_wait_ms);
  Value caller = query_value("SELECT CURRENT_USER::pg_catalog.text");
  // The migration's owner, as this statement resolved its name; none for a
  // run_ddl outside a migration or forget's label. A 0.1.0 catalog (before
  // ALTER EXTENSION zdm UPDATE) has no column for it.
  const bool with_owner = query_value(
                              "SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
                              "'zdm.ddl_log'::pg_catalog.regclass AND attname = 'migration_owner' "
                              "AND NOT attisdropped")
                              .has_value();
  const Value owner = !migration.empty() && resolved_owner.migration == migration &&
                              resolved_owner.statement == GetCurrentStatementStartTimestamp()
                          ? Value(resolved_owner.owner)
                          : Value();
  for (const std::string& s : statements)
    execute_as_catalog_owner(
        with_owner ? "INSERT INTO zdm.ddl_log (migration, phase, statement, attempts, lock_wait, "
                     "ran_by, migration_owner) VALUES (NULLIF($1, ''), $2, $3, "
                     "$4::pg_catalog.int4, $5::pg_catalog.interval, $6, "
                     "$7::pg_catalog.oid::pg_catalog.regrole)"
                   : "INSERT INTO zdm.ddl_log (migration, phase, statement, attempts, lock_wait, "
                     "ran_by) VALUES (NULLIF($1, ''), $2, $3, $4::pg_catalog.int4, "
                     "$5::pg_catalog.interval, $6)",
        {migration, phase, s, std::to_string(attempts), std::string(wait_text), caller, owner});
}

BackfillProgress read_backfill_progress(long op_id) {
  Row r = query(
              "SELECT backfill_state, backfill_position::pg_catalog.text, "
              "backfill_upper::pg_catalog.text, rows_done, rows_updated, rows_estimate, "
              "backfill_key IS NOT NULL OR backfill_state = 'pending', "
              "pg_catalog.array_to_string(backfill_key, E'\\x1f') "
              "FROM zdm.operations WHERE id = $1::pg_catalog.int8",
              {std::to_string(op_id)})
              .at(0);
  BackfillProgress p;
  p.state = *r[0];
  p.position = r[1];
  p.upper = r[2];
  p.rows_done = std::stol(*r[3]);
  p.rows_updated = std::stol(*r[4]);
  p.estimate = r[5];
  p.keyset = *r[6] == "t";
  p.key_names = r[7];
  return p;
}

void restart_backfill_walk(long op_id) {
  execute_as_catalog_owner(
      "UPDATE zdm.operations SET backfill_position = NULL, rows_done = 0 "
      "WHERE id = $1::pg_catalog.int8",
      {std::to_string(op_id)});
}

void record_backfill_start(long op_id, const Value& key_names, const Value& upper,
                           const Value& estimate) {
  execute_as_catalog_owner(
      "UPDATE zdm.operations SET backfill_state = 'running', "
      "backfill_key = pg_catalog.string_to_array($2, E'\\x1f')::pg_catalog.name[], "
      "backfill_upper = $3::pg_catalog.text[], rows_estimate = $4::pg_catalog.int8, "
      "backfill_started_at = pg_catalog.clock_timestamp(), "
      "rate_since = pg_catalog.clock_timestamp(), rate_since_rows = rows_done, "
      "backfill_pid = pg_catalog.pg_backend_pid() WHERE id = $1::pg_catalog.int8",
      {std::to_string(op_id), key_names, upper, estimate});
}

void record_batch(long op_id, long visited, long converted, long conflicts, const Value& position,
                  bool done, const std::string& rate_since_unix, long rate_since_rows) {
  execute_as_catalog_owner(
      "UPDATE zdm.operations SET rows_done = rows_done + $2::pg_catalog.int8, "
      "rows_updated = rows_updated + $3::pg_catalog.int8, "
      "conflicts = conflicts + $6::pg_catalog.int8, "
      "backfill_position = COALESCE($4::pg_catalog.text[], backfill_position), "
      "backfill_updated_at = pg_catalog.clock_timestamp(), throttle = NULL, "
      "backfill_pid = pg_catalog.pg_backend_pid(), "
      "throttle_pid = NULL, backfill_state = CASE WHEN $5::pg_catalog.bool THEN 'done' ELSE "
      "backfill_state END, "
      "backfill_finished_at = CASE WHEN $5::pg_catalog.bool THEN pg_catalog.clock_timestamp() "
      "END, rate_since = pg_catalog.to_timestamp($7::pg_catalog.float8), "
      "rate_since_rows = $8::pg_catalog.int8 WHERE id = $1::pg_catalog.int8",
      {std::to_string(op_id), std::to_string(visited), std::to_string(converted), position,
       std::string(done ? "true" : "false"), std::to_string(conflicts), rate_since_unix,
       std::to_string(rate_since_rows)});
}

long rows_inserted_since_begin(long op_id) {
  Value n =
      query_value("SELECT greatest(0, pg_catalog.pg_stat_get_tuples_inserted(" ZDM_WALKED_TABLE
                  ") + pg_catalog.pg_stat_get_xact_tuples_inserted(" ZDM_WALKED_TABLE
                  ") - rows_inserted_base)::pg_catalog.text FROM zdm.operations "
                  "WHERE id = $1::pg_catalog.int8",
                  {std::to_string(op_id)});
  return n ? std::stol(*n) : 0;
}

void record_throttle(long op_id, const std::string& reason) {
  execute_as_catalog_owner(
      "UPDATE zdm.operations SET throttle = $2, throttle_pid = pg_catalog.pg_backend_pid() "
      "WHERE id = $1::pg_catalog.int8",
      {std::to_string(op_id), reason});
}

Value migration_of_operation(long op_id) {
  return query_value("SELECT migration FROM zdm.operations WHERE id = $1::pg_catalog.int8",
                     {std::to_string(op_id)});
}

Value first_operation_id(const std::string& migration) {
  return query_value(
      "SELECT pg_catalog.min(id)::pg_catalog.text FROM zdm.operations WHERE migration = $1 "
      "AND migration_owner = $2::pg_catalog.oid",
      {migration, owner_of(migration)});
}

void record_worker_running(const std::string& migration, int pid) {
  execute_as_catalog_owner(
      "UPDATE zdm.migrations SET backfill_pid = $2::pg_catalog.int4, backfill_worker = 'running' "
      "WHERE name = $1 AND owner = $3::pg_catalog.oid",
      {migration, std::to_string(pid), owner_of(migration)});
}

bool claim_worker(const std::string& migration, int pid) {
  // The row lock waits for backfill_start's transaction; the row then read is
  // the one it left (a condition on the pid in the WHERE clause would be
  // tested against the version before it, and never wait).
  Value recorded = query_value_as_catalog_owner(
      "SELECT backfill_pid::pg_catalog.text FROM zdm.migrations WHERE name = $1 "
      "FOR NO KEY UPDATE",
      {migration});
  if (recorded != std::to_string(pid)) return false;
  record_worker_running(migration, pid);
  return true;
}

void clear_worker(const std::string& migration) {
  execute_as_catalog_owner(
      "UPDATE zdm.migrations SET backfill_pid = NULL, backfill_worker = NULL "
      "WHERE name = $1 AND owner = $2::pg_catalog.oid",
      {migration, owner_of(migration)});
}

void record_worker_outcome(long op_id, const std::string& outcome, int pid) {
  execute_as_catalog_owner(
      "UPDATE zdm.migrations SET backfill_worker = $2 WHERE backfill_pid = $3::pg_catalog.int4 "
      "AND (name, owner) = (SELECT migration, migration_owner FROM zdm.operations "
      "WHERE id = $1::pg_catalog.int8)",
      {std::to_string(op_id), outcome, std::to_string(pid)});
}

Value live_worker_pid(const std::string& migration) {
  return query_value(
      "SELECT m.backfill_pid::pg_catalog.text FROM zdm.migrations m "
      "JOIN pg_catalog.pg_stat_activity a ON a.pid = m.backfill_pid "
      "AND a.backend_type = 'zdm backfill' AND a.datid = (SELECT d.oid FROM "
      "pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()) "
      "WHERE m.name = $1 AND m.owner = $2::pg_catalog.oid",
      {migration, owner_of(migration)});
}

}  // namespace zdm::pg
