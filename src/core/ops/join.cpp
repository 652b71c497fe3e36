#include "core/ops/join.hpp"

#include "core/error.hpp"
#include "core/ops/common.hpp"
#include "core/quote.hpp"

namespace zdm::core::join {

namespace {

bool to_column(const Operation& op) { return op.kind == OpKind::JoinToColumn; }

std::string join_qualified(const Operation& op) {
  return quote_qualified(op.join_schema, op.join_name);
}

std::string trigger_name(const char* what, const Operation& op) {
  return std::string("0zdm_") + what + "_" + std::to_string(op.id);
}

// zdm.join_sync_trigger's arguments: its role on this table and the
// operation's id; the trigger reads the rest from zdm.operations once per
// backend. (Every statement on either table copies a trigger's arguments, so
// they are kept short.)
std::string trigger_call(const char* role, const Operation& op) {
  return quote_qualified("zdm", "join_sync_trigger") + "(" + quote_literal(role) + ", " +
         quote_literal(std::to_string(op.id)) + ")";
}

// zdm's own write on the other table fires these triggers too; they return
// at once while that write runs quiet for their operation
// (zdm_join_sync_quiet). (A WHEN clause calling a function
// would keep that event from being queued, but PostgreSQL prepares a trigger's
// WHEN expression once per statement and table, which costs more than the
// ignored event does; numbers: bench/results-join.md.)
Statements create_triggers(const TableDesc& target, const Operation& op) {
  const std::string join = join_qualified(op);
  const std::string row = " FOR EACH ROW EXECUTE FUNCTION ";
  // ENABLE ALWAYS: writes under session_replication_role = replica (bulk
  // loads, a subscriber's apply worker) stay in sync too.
  return {"CREATE TRIGGER " + quote_ident(lock_trigger_name(op)) + " BEFORE INSERT ON " + join +
              row + trigger_call("lock", op),
          enable_always(join, lock_trigger_name(op)),
          "CREATE TRIGGER " + quote_ident(sync_trigger_name(op)) + " AFTER INSERT OR UPDATE OF " +
              quote_ident(op.join_key) + ", " + quote_ident(op.join_value) + " OR DELETE ON " +
              join + row + trigger_call("join", op),
          enable_always(join, sync_trigger_name(op)),
          "CREATE TRIGGER " + quote_ident(truncate_trigger_name(op)) + " AFTER TRUNCATE ON " +
              join + " FOR EACH STATEMENT EXECUTE FUNCTION " + trigger_call("truncate", op),
          enable_always(join, truncate_trigger_name(op)),
          "CREATE TRIGGER " + quote_ident(sync_trigger_name(op)) + " AFTER INSERT OR UPDATE OF " +
              quote_ident(op.target_key) + ", " + quote_ident(op.column) + " OR DELETE ON " +
              target.qualified() + row + trigger_call("target", op),
          enable_always(target.qualified(), sync_trigger_name(op))};
}

Statements drop_join_triggers(const Operation& op) {
  Statements out;
  for (const std::string& name :
       {lock_trigger_name(op), sync_trigger_name(op), truncate_trigger_name(op)})
    out.push_back("DROP TRIGGER IF EXISTS " + quote_ident(name) + " ON " + join_qualified(op));
  return out;
}

std::string drop_target_trigger(const TableDesc& target, const Operation& op) {
  return "DROP TRIGGER IF EXISTS " + quote_ident(sync_trigger_name(op)) + " ON " +
         target.qualified();
}

// Replaces the ON DELETE action of a REFERENCES clause by `action`, unless it
// is NO ACTION or RESTRICT (which refuse the delete in both shapes).
std::string with_delete_action(const std::string& references, const std::string& action) {
  const std::string marker = " ON DELETE ";
  std::size_t at = references.find(marker);
  if (at == std::string::npos) return references;
  std::size_t from = at + marker.size();
  std::size_t to = references.size();
  for (const char* next : {" DEFERRABLE", " NOT DEFERRABLE", " INITIALLY"}) {
    std::size_t n = references.find(next, from);
    if (n != std::string::npos && n < to) to = n;
  }
  if (references.compare(from, 8, "RESTRICT") == 0) return references;
  return references.substr(0, from) + action + references.substr(to);
}

void refuse_not_unique(const TableDesc& table, const std::string& column, const char* what,
                       const std::string& why) {
  throw Error(ErrorCode::InvalidState,
              std::string(what) + " \"" + column + "\" is not unique in table " + table.qualified(),
              why + " zdm needs a unique index (or constraint) on exactly that column.",
              "CREATE UNIQUE INDEX CONCURRENTLY ON " + table.qualified() + " (" +
                  quote_ident(column) + "); then begin the migration again.");
}

// The table the backfill walks (the copy's source) and its key.
struct Walk {
  std::string table;
  std::string key;
  std::string key_type;
};

Walk walk_of(const TableDesc& join, const TableDesc& target, const Operation& op) {
  if (to_column(op))
    return {join.qualified(), quote_ident(op.join_key),
            require_column(join, op.join_key, "").type_sql};
  return {target.qualified(), quote_ident(op.target_key),
          require_column(target, op.target_key, "").type_sql};
}

}  // namespace

std::string sync_trigger_name(const Operation& op) { return trigger_name("sync", op); }
std::string lock_trigger_name(const Operation& op) { return trigger_name("lock", op); }
std::string truncate_trigger_name(const Operation& op) { return trigger_name("truncate", op); }

std::string references_for_column(const std::string& join_references) {
  return with_delete_action(join_references, "SET NULL");
}

std::string references_for_join(const std::string& column_references) {
  return with_delete_action(column_references, "CASCADE");
}

Operation validate_join_to_column(const TableDesc& join, const TableDesc& target,
                                  const JoinToColumnRequest& request,
                                  const std::vector<Operation>& open_on_join,
                                  const std::vector<Operation>& open_on_target) {
  if (join.oid == target.oid)
    throw Error(
        ErrorCode::InvalidParameter,
        "join_table and target must be two different tables, not both " + target.qualified());
  const std::string column = request.new_column.empty() ? request.value_column : request.new_column;
  check_identifier("new_column", column);
  const Column& key = require_column(join, request.join_key,
                                     "Pass the join table's column that holds the target's key.");
  const Column& value =
      require_column(join, request.value_column,
                     "Pass the join table's column whose value becomes the target's column.");
  const Column& target_key = require_column(target, request.target_key,
                                            "Pass the target's column that join_key refers to.");
  if (request.join_key == request.value_column)
    throw Error(ErrorCode::InvalidParameter,
                "join_key and value_column must be two different columns, not both \"" +
                    request.join_key + "\"");
  if (target.find_column(column) != nullptr)
    throw Error(ErrorCode::DuplicateColumn, column_of(target, column) + " already exists", {},
                "Pass new_column => 'a name the target does not use'.");
  if (join.unique_index_on(key.name) == nullptr)
    refuse_not_unique(join, key.name, "join_key",
                      "Each target row holds one value, so each key may have one join row.");
  if (target.unique_index_on(target_key.name) == nullptr)
    refuse_not_unique(target, target_key.name, "target_key",
                      "Each join row must find exactly one target row.");
  if (!value.not_null)
    throw Error(ErrorCode::InvalidState,
                "value_column \"" + value.name + "\" of table " + join.qualified() + " may be NULL",
                "A join row with a NULL value could not be told apart from no join row once it "
                "is a column.",
                "Delete or fill those rows, then ALTER TABLE " + join.qualified() +
                    " ALTER COLUMN " + quote_ident(value.name) + " SET NOT NULL.");
  if (!request.key_types_comparable)
    throw Error(ErrorCode::InvalidParameter,
                "join_key \"" + key.name + "\" (" + key.type_sql + ") and target_key \"" +
                    target_key.name + "\" (" + target_key.type_sql + ") cannot be compared",
                "No equality operator takes these two types.",
                "Give both key columns the same type first.");
  Operation op;
  op.kind = OpKind::JoinToColumn;
  op.column = column;
  op.type_sql = type_with_collation(value);
  op.join_relid = join.oid;
  op.join_schema = join.schema;
  op.join_name = join.name;
  op.join_key = key.name;
  op.join_value = value.name;
  op.target_key = target_key.name;
  if (const ForeignKey* fk = join.foreign_key_of(value.name)) {
    op.references_sql = references_for_column(fk->references);
    op.check_name = free_constraint_name(target, target.name + "_" + column + "_fkey");
  }
  check_overlaps(target, op, {column, target_key.name}, {}, open_on_target);
  check_overlaps(join, op, {key.name, value.name}, {}, open_on_join);
  return op;
}

Operation validate_column_to_join(const TableDesc& target, const ColumnToJoinRequest& request,
                                  const std::vector<Operation>& open_on_target) {
  check_identifier("join_table", request.join_table);
  const Column& target_key = require_column(
      target, request.target_key, "Pass the target's key column that the join table refers to.");
  const Column& value = require_column(target, request.value_column,
                                       "Pass the column whose values move to the join table.");
  if (request.target_key == request.value_column)
    throw Error(ErrorCode::InvalidParameter,
                "target_key and value_column must be two different columns, not both \"" +
                    request.target_key + "\"");
  const std::string key = request.join_key.empty()
                              ? fit_identifier(target.name + "_" + request.target_key)
                              : request.join_key;
  const std::string join_value =
      request.new_column.empty() ? request.value_column : request.new_column;
  check_identifier("join_key", key);
  check_identifier("new_column", join_value);
  if (key == join_value)
    throw Error(ErrorCode::InvalidParameter,
                "the join table's key and value columns would both be named \"" + key + "\"", {},
                "Pass join_key or new_column.");
  if (target.unique_index_on(target_key.name) == nullptr)
    refuse_not_unique(target, target_key.name, "target_key",
                      "Each join row must find exactly one target row.");
  if (value.generated)
    throw Error(ErrorCode::FeatureNotSupported,
                column_of(target, value.name) + " is a generated column", {},
                "Move the columns it is computed from instead.");
  Operation op;
  op.kind = OpKind::ColumnToJoin;
  op.column = value.name;
  op.type_sql = type_with_collation(value);
  op.join_schema = target.schema;
  op.join_name = request.join_table;
  op.join_key = key;
  op.join_value = join_value;
  op.target_key = target_key.name;
  op.check_name = fit_identifier(request.join_table + "_" + key + "_key");
  if (const ForeignKey* fk = target.foreign_key_of(value.name))
    op.references_sql = references_for_join(fk->references);
  check_overlaps(target, op, {value.name, target_key.name}, {}, open_on_target);
  return op;
}

Statements begin(const TableDesc& target, const Operation& op) {
  Statements out;
  if (to_column(op)) {
    // No default: a value appears in the column only through a join row or
    // the new app.
    out.push_back(alter_table(target) + "ADD COLUMN " + quote_ident(op.column) + " " + op.type_sql);
    if (!op.check_name.empty())
      out.push_back(alter_table(target) + "ADD CONSTRAINT " + quote_ident(op.check_name) +
                    " FOREIGN KEY (" + quote_ident(op.column) + ") " + op.references_sql +
                    " NOT VALID");
  } else {
    const Column& key = require_column(target, op.target_key, "");
    const std::string join = join_qualified(op);
    std::string create =
        "CREATE TABLE " + join + " (" + quote_ident(op.join_key) + " " + type_with_collation(key) +
        " NOT NULL, " + quote_ident(op.join_value) + " " + op.type_sql +
        " NOT NULL, PRIMARY KEY (" + quote_ident(op.join_key) + ", " + quote_ident(op.join_value) +
        "), CONSTRAINT " + quote_ident(op.check_name) + " UNIQUE (" + quote_ident(op.join_key) +
        "), FOREIGN KEY (" + quote_ident(op.join_key) + ") REFERENCES " + target.qualified() +
        " (" + quote_ident(op.target_key) + ") ON DELETE CASCADE";
    if (!op.references_sql.empty())
      create += ", FOREIGN KEY (" + quote_ident(op.join_value) + ") " + op.references_sql;
    out.push_back(create + ")");
    // The apps reach the join table with the target's privileges: the old
    // app's writes to the target write the join table through the trigger.
    if (!target.owner.empty())
      out.push_back("ALTER TABLE " + join + " OWNER TO " + quote_ident(target.owner));
    for (const auto& [grantee, privilege] : target.privileges)
      out.push_back("GRANT " + privilege + " ON " + join + " TO " +
                    (grantee.empty() ? std::string("PUBLIC") : quote_ident(grantee)));
  }
  for (std::string& s : create_triggers(target, op)) out.push_back(std::move(s));
  return out;
}

bool needs_backfill(const Operation&) { return true; }

BackfillSpec backfill(const TableDesc&, const Operation& op) {
  throw Error(ErrorCode::Internal,
              op.describe() + " copies rows between two tables; it has no same-table backfill");
}

Statements finish_validation(const TableDesc& target, const Operation& op) {
  if (!to_column(op) || op.check_name.empty()) return {};
  return {alter_table(target) + "VALIDATE CONSTRAINT " + quote_ident(op.check_name)};
}

Statements finish(const TableDesc& target, const Operation& op) {
  Statements out{drop_target_trigger(target, op)};
  if (to_column(op)) {
    require_column(target, op.column, "Abort the migration with zdm.abort() and start again.");
    if (!op.join_name.empty()) out.push_back("DROP TABLE " + join_qualified(op));
    return out;
  }
  if (op.join_name.empty())
    throw Error(
        ErrorCode::InvalidState, "the join table of " + op.describe() + " was dropped",
        "Column \"" + op.column + "\" holds the only copy of the data; finish would drop it.",
        "Abort the migration with zdm.abort() and start again.");
  for (std::string& s : drop_join_triggers(op)) out.push_back(std::move(s));
  out.push_back("ALTER TABLE " + join_qualified(op) + " DROP CONSTRAINT " +
                quote_ident(op.check_name));
  out.push_back(alter_table(target) + "DROP COLUMN " + quote_ident(op.column));
  return out;
}

Statements abort(const TableDesc& target, const Operation& op) {
  Statements out{drop_target_trigger(target, op)};
  if (to_column(op)) {
    if (!op.join_name.empty())
      for (std::string& s : drop_join_triggers(op)) out.push_back(std::move(s));
    if (target.find_column(op.column) != nullptr)
      out.push_back(alter_table(target) + "DROP COLUMN " + quote_ident(op.column));
  } else if (!op.join_name.empty()) {
    out.push_back("DROP TABLE " + join_qualified(op));
  }
  return out;
}

BackfillSql backfill_sql(const TableDesc& join, const TableDesc& target, const Operation& op) {
  const Walk w = walk_of(join, target, op);
  const std::string j = join.qualified(), t = target.qualified();
  const std::string jk = quote_ident(op.join_key), jv = quote_ident(op.join_value);
  const std::string tk = quote_ident(op.target_key), col = quote_ident(op.column);
  const Column& join_key = require_column(join, op.join_key, "");
  const Column& target_key = require_column(target, op.target_key, "");
  const std::string source_key = to_column(op) ? "w." + jk : "t." + tk;
  // The batch's source rows whose value the other shape does not hold after
  // the copy, told apart by what is there: no row of the key (other_key IS
  // NULL), or a row that holds another value (a user trigger changed or
  // skipped the copy's write). `other_in_batch` and `source_in_batch` restrict
  // both sides to the batch.
  const std::string other_key = to_column(op) ? "t." + tk : "w." + jk;
  auto first_keys_where = [&](const std::string& condition) {
    return "(pg_catalog.array_agg(" + source_key + "::pg_catalog.text ORDER BY " + source_key +
           ") FILTER (WHERE " + condition + "))[1:10]";
  };
  auto conflicts_sql = [&](const std::string& other_in_batch, const std::string& source_in_batch) {
    return "SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE " + other_key +
           " IS NULL), " + first_keys_where(other_key + " IS NULL") + ", " +
           first_keys_where(other_key + " IS NOT NULL") + " FROM " +
           (to_column(op) ? j + " w LEFT JOIN " + t + " t" : t + " t LEFT JOIN " + j + " w") +
           " ON t." + tk + " = w." + jk + " AND " + other_in_batch + " WHERE " + source_in_batch +
           " AND " + image_distinct_sql("t." + col, "w." + jv);
  };
  BackfillSql sql;
  sql.last_key = "SELECT ARRAY[w." + w.key + "::pg_catalog.text] FROM " + w.table + " w WHERE w." +
                 w.key + " IS NOT NULL ORDER BY w." + w.key + " DESC LIMIT 1";
  const std::string after = "w." + w.key + " > ($1::pg_catalog.text[])[1]::" + w.key_type + " AND ";
  auto walk_keys = [&](const std::string& after) {
    return "SELECT w." + w.key + " AS k FROM " + w.table + " w WHERE " + after + "w." + w.key +
           " <= ($2::pg_catalog.text[])[1]::" + w.key_type + " ORDER BY w." + w.key +
           " LIMIT $3::pg_catalog.int4";
  };
  // A key range is one range scan of each table's key index, where a list of
  // 5,000 keys was 5,000 index descents per table and statement, and as many
  // selectivity estimates per plan. A range means the same rows in both
  // tables only when both keys sort alike: the same type and collation.
  sql.by_range = join_key.type_sql == target_key.type_sql &&
                 join_key.collation_sql == target_key.collation_sql;
  if (sql.by_range) {
    auto in_range = [&](const std::string& column) {
      return column + " >= ($1::pg_catalog.text[])[1]::" + w.key_type + " AND " + column +
             " <= ($2::pg_catalog.text[])[1]::" + w.key_type;
    };
    // The batch is [its first key, hi]. join_to_column walks the join table
    // but locks and updates the target rows of the range, so the range also
    // ends at the batch_size-th target key: a join table far sparser than the
    // target must not make a batch lock the target rows in between by the
    // million.
    auto batch = [&](const std::string& after) {
      const std::string target_end = to_column(op)
                                         ? "(SELECT t." + tk + " FROM " + t + " t WHERE t." + tk +
                                               " >= b.a[1] ORDER BY t." + tk +
                                               " OFFSET $3::pg_catalog.int4 - 1 LIMIT 1)"
                                         : "NULL::" + w.key_type;
      return "SELECT ARRAY[b.a[1]::pg_catalog.text], (SELECT pg_catalog.count(*) FROM "
             "pg_catalog.unnest(b.a) u(k) WHERE u.k <= e.hi), ARRAY[e.hi::pg_catalog.text], b.n < "
             "$3::pg_catalog.int4 AND e.hi IS NOT DISTINCT FROM b.a[b.n] FROM (SELECT "
             "pg_catalog.array_agg(s.k ORDER "
             "BY s.k) AS a, pg_catalog.count(*)::pg_catalog.int4 AS n FROM (" +
             walk_keys(after) +
             ") s) b CROSS JOIN LATERAL (SELECT CASE WHEN c.te < b.a[b.n] THEN "
             "c.te ELSE b.a[b.n] END AS hi FROM (SELECT " +
             target_end + " AS te OFFSET 0) c) e";
    };
    sql.first_keys = batch("");
    sql.next_keys = batch(after);
    // Every target row of the range is locked, and only those are copied to:
    // the copy then reads the join table in a statement of its own, with a
    // snapshot taken after the locks, so that a join row deleted meanwhile by
    // a transaction that held the target row is seen as deleted (a single
    // UPDATE ... FROM would read it from its older snapshot and bring it
    // back). The lock reads no join row.
    sql.lock = "SELECT pg_catalog.count(*) FROM (SELECT 1 FROM " + t + " t WHERE " +
               in_range("t." + tk) + " ORDER BY t." + tk +
               (to_column(op) ? " FOR NO KEY UPDATE" : " FOR SHARE") + ") s";
    if (to_column(op)) {
      // Returns the rows written, those whose value a user trigger changed on
      // the way, and the join rows of the range: when every join row wrote
      // its value, nothing is left to check.
      sql.copy = "WITH c AS (UPDATE " + t + " t SET " + col + " = w." + jv + " FROM " + j +
                 " w WHERE t." + tk + " = w." + jk + " AND " + in_range("w." + jk) + " AND " +
                 in_range("t." + tk) + " AND " + image_distinct_sql("t." + col, "w." + jv) +
                 " RETURNING " + image_distinct_sql("t." + col, "w." + jv) +
                 " AS changed) SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE "
                 "c.changed), (SELECT pg_catalog.count(*) FROM " +
                 j + " w WHERE " + in_range("w." + jk) + ") FROM c";
    } else {
      sql.copy = "WITH c AS (INSERT INTO " + j + " (" + jk + ", " + jv + ") SELECT t." + tk +
                 ", t." + col + " FROM " + t + " t WHERE " + in_range("t." + tk) + " AND t." + col +
                 " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM " + j + " w WHERE w." + jk + " = t." +
                 tk + " AND " + in_range("w." + jk) +
                 ") ON CONFLICT DO NOTHING RETURNING 1) SELECT pg_catalog.count(*), NULL, NULL "
                 "FROM c";
    }
    sql.conflicts = conflicts_sql(in_range(other_key), in_range(source_key));
    return sql;
  }
  // Keys that sort differently in the two tables (integer against bigint, two
  // collations): the batch is its list of keys, as text.
  const std::string keys = "($1::pg_catalog.text[])::" + w.key_type + "[]";
  auto batch = [&](const std::string& after) {
    return "SELECT pg_catalog.array_agg(s.k::pg_catalog.text ORDER BY s.k), pg_catalog.count(*), "
           "ARRAY[(pg_catalog.array_agg(s.k::pg_catalog.text ORDER BY s.k DESC))[1]], "
           "pg_catalog.count(*) < $3::pg_catalog.int4 FROM (" +
           walk_keys(after) + ") s";
  };
  sql.first_keys = batch("");
  sql.next_keys = batch(after);
  // Locks first, then the copy in a statement of its own (see above).
  sql.lock = "SELECT pg_catalog.count(*) FROM (SELECT 1 FROM " + t + " t WHERE t." + tk +
             " = ANY (" + keys + ") ORDER BY t." + tk +
             (to_column(op) ? " FOR NO KEY UPDATE" : " FOR SHARE") + ") s";
  if (to_column(op)) {
    // Both sides restricted to the batch's keys, so that each is read through
    // its key's index: with only the join side restricted, the planner hashed
    // a sequential scan of the whole target, once per batch.
    sql.copy = "WITH c AS (UPDATE " + t + " t SET " + col + " = w." + jv + " FROM " + j +
               " w WHERE t." + tk + " = w." + jk + " AND w." + jk + " = ANY (" + keys + ") AND t." +
               tk + " = ANY (" + keys + ") AND " + image_distinct_sql("t." + col, "w." + jv) +
               " RETURNING 1) SELECT pg_catalog.count(*), NULL, NULL FROM c";
  } else {
    sql.copy = "WITH c AS (INSERT INTO " + j + " (" + jk + ", " + jv + ") SELECT t." + tk + ", t." +
               col + " FROM " + t + " t WHERE t." + tk + " = ANY (" + keys + ") AND t." + col +
               " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM " + j + " w WHERE w." + jk + " = t." +
               tk + " AND w." + jk + " = ANY (" + keys +
               ")) ON CONFLICT DO NOTHING RETURNING 1) SELECT pg_catalog.count(*), NULL, NULL FROM "
               "c";
  }
  sql.conflicts =
      conflicts_sql(other_key + " = ANY (" + keys + ")", source_key + " = ANY (" + keys + ")");
  return sql;
}

std::string difference_sql(const TableDesc& join, const TableDesc& target, const Operation& op) {
  const std::string join_pairs = "SELECT w." + quote_ident(op.join_key) + "::pg_catalog.text, w." +
                                 quote_ident(op.join_value) + "::pg_catalog.text FROM " +
                                 join.qualified() + " w";
  const std::string column_pairs = "SELECT t." + quote_ident(op.target_key) +
                                   "::pg_catalog.text, t." + quote_ident(op.column) +
                                   "::pg_catalog.text FROM " + target.qualified() + " t WHERE t." +
                                   quote_ident(op.column) + " IS NOT NULL";
  return "SELECT pg_catalog.count(*), (pg_catalog.array_agg(d.k ORDER BY d.k))[1:10] FROM ((" +
         join_pairs + " EXCEPT " + column_pairs + ") UNION ALL (" + column_pairs + " EXCEPT " +
         join_pairs + ")) d(k, v)";
}

}  // namespace zdm::core::join
