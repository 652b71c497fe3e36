// Cross-table sync. For each write to one shape, one statement on the other:
//   join table  INSERT (k, v)        -> UPDATE target SET column = v WHERE key = k
//               DELETE (k, v)        -> UPDATE target SET column = NULL WHERE key = k
//               UPDATE of k or v     -> the same, for the old and the new key
//               TRUNCATE             -> UPDATE target SET column = NULL (all rows)
//   target      INSERT/UPDATE, column v not NULL -> upsert join row (k, v)
//               column set to NULL, DELETE        -> DELETE join row k
// and BEFORE INSERT on the join table: lock the target row (as FOR NO KEY
// UPDATE does), so that an insert into the join table and an UPDATE of the
// target row take their row locks in the same order (target row first) instead
// of deadlocking. The lock is a direct probe of the target key's unique btree
// index and table_tuple_lock (what logical replication's apply worker does),
// not an SQL statement: an SPI SELECT ... FOR NO KEY UPDATE, even prepared
// once, starts an executor per insert (numbers: bench/results-join.md).
//
// A trigger's arguments are its role and the operation's id; the rest (names)
// is read from zdm.operations once, when the trigger's entry is built. The
// statements are prepared then (SPI_prepare) and kept (SPI_keepplan); the entry is
// found by the trigger's OID and rebuilt after a relcache invalidation of
// either table (or evicted at the end of the transaction when no row rebuilt
// it: see evict_entries). Every name is schema-qualified and every operator is
// OPERATOR(pg_catalog.=), so no name resolves through the caller's
// search_path. Each statement runs quiet for its own operation on the table
// it writes (zdm_join_sync_quiet, restored in PG_FINALLY): that operation's
// triggers there do nothing, so there is no ping-pong, while the triggers of
// other operations that the statement reaches (through a user trigger or a
// cascade) still sync.
//
// Whose rights. The writer's own statement is checked by PostgreSQL as usual;
// what the trigger does on top is not the writer's to be allowed or refused:
//   - zdm's catalog is read as the role that owns it (the owner of
//     zdm.operations), so a DBA may revoke zdm's schema and tables from PUBLIC
//     and the applications' writes go on;
//   - the mirrored write to the other table runs as that table's owner, with
//     its FORCE ROW LEVEL SECURITY not applied, the way PostgreSQL runs a
//     foreign key's actions and checks (ri_triggers.c: the owner,
//     SECURITY_NOFORCE_RLS). A role that may write one shape may so write the
//     mirrored row of the other: a v1 app granted INSERT/DELETE on the join
//     table and only SELECT on the target keeps working once the migration
//     opens, and no policy can hide the row the sync must reach.
// SetUserIdAndSecContext is undone in PG_FINALLY; an error's transaction or
// subtransaction abort would restore it too.
#include "trigger/join_sync.hpp"

#include <cstring>

#include "common/backfill_scope.hpp"
#include "common/postgres.hpp"

extern "C" {
PGDLLEXPORT PG_FUNCTION_INFO_V1(zdm_join_sync_trigger);
}

namespace {

// The trigger's arguments (zdm::core::join writes them): its role and the
// operation's id.
enum Arg { kRole, kOperation, kNargs };

// What the trigger reads from zdm.operations, in this order.
enum Field {
  kMigration,
  kJoinSchema,
  kJoinName,
  kJoinKey,
  kJoinValue,
  kTargetSchema,
  kTargetName,
  kTargetKey,
  kColumn,
  kJoinOid,
  kTargetOid,
  kNfields
};

const char* const kOperationSql =
    "SELECT o.migration, jn.nspname, jc.relname, o.join_key, o.join_value, tn.nspname, "
    "tc.relname, o.target_key, o.column_name, jc.oid, tc.oid FROM zdm.operations o "
    "JOIN pg_catalog.pg_class jc ON jc.oid OPERATOR(pg_catalog.=) o.join_table::pg_catalog.oid "
    "JOIN pg_catalog.pg_namespace jn ON jn.oid OPERATOR(pg_catalog.=) jc.relnamespace "
    "JOIN pg_catalog.pg_class tc ON tc.oid OPERATOR(pg_catalog.=) o.tbl::pg_catalog.oid "
    "JOIN pg_catalog.pg_namespace tn ON tn.oid OPERATOR(pg_catalog.=) tc.relnamespace "
    "WHERE o.id OPERATOR(pg_catalog.=) $1";

// Whether the operation is open at all (see build()).
const char* const kOpenOperationSql =
    "SELECT 1 FROM zdm.operations o JOIN zdm.migrations m ON m.name OPERATOR(pg_catalog.=) "
    "o.migration AND m.owner::pg_catalog.oid OPERATOR(pg_catalog.=) "
    "o.migration_owner::pg_catalog.oid WHERE o.id OPERATOR(pg_catalog.=) $1 "
    "AND m.state OPERATOR(pg_catalog.=) 'active'";

enum Role { RoleLock, RoleJoin, RoleTruncate, RoleTarget };

struct SyncEntry {
  Oid tgoid;        // hash key
  int64 operation;  // the trigger's operation id, from its arguments
  Oid relid;        // the table the trigger is on
  Oid other_relid;  // the other table of the operation
  bool valid;
  bool orphan;  // no open operation: the trigger does nothing
  Role role;
  // The key and the value in the firing table: join_key and join_value on the
  // join table, target_key and the column on the target.
  AttrNumber key_attno, value_attno;
  bool key_byval, value_byval;
  int16 key_len, value_len;
  SPIPlanPtr set;    // lock: lock the target row; join: set the column; target: upsert the
                     // join row; truncate: clear the column everywhere
  SPIPlanPtr clear;  // join: clear the column of one target row; target: delete the join row
  // lock: the target key's unique btree index when the join key has its type
  // (InvalidOid: lock through `set`), and its equality function.
  Oid lock_index;
  RegProcedure lock_eq;
  Oid lock_collation;
  Oid run_as;  // the other table's owner: `set` and `clear` are prepared and run as it
  char what[3 * NAMEDATALEN + 160];  // for error context
  // The tables under which entries_by_table lists this entry (InvalidOid:
  // none).
  Oid indexed_relid, indexed_other_relid;
  // On the list of entries to evict at the end of the transaction.
  bool listed;
  SyncEntry* next_listed;
};

HTAB* sync_entries = NULL;

// The triggers whose entry reads a table (the one they are on, and the other
// table of their operation), so that an invalidation costs the entries it
// reaches, not a scan of the cache.
struct TableEntries {
  Oid relid;     // hash key
  List* tgoids;  // in TopMemoryContext
};
HTAB* entries_by_table = NULL;

// The entries an invalidation reached in this transaction, linked through the
// entries themselves: the callback allocates nothing.
SyncEntry* listed_entries = NULL;

void list_for_eviction(SyncEntry* entry) {
  entry->valid = false;
  if (entry->listed) return;
  entry->listed = true;
  entry->next_listed = listed_entries;
  listed_entries = entry;
}

// Either table of the entry changed: the entry is rebuilt on its next row, or
// evicted at the end of the transaction if none comes (evict_entries).
// Freeing it here could pull a statement from under the trigger that runs it:
// invalidations arrive whenever a lock is taken.
void invalidate_entries(Datum, Oid relid) {
  if (sync_entries == NULL) return;
  if (relid == InvalidOid) {
    HASH_SEQ_STATUS status;
    SyncEntry* entry;
    hash_seq_init(&status, sync_entries);
    while ((entry = static_cast<SyncEntry*>(hash_seq_search(&status))) != NULL)
      list_for_eviction(entry);
    return;
  }
  TableEntries* table =
      static_cast<TableEntries*>(hash_search(entries_by_table, &relid, HASH_FIND, NULL));
  if (table == NULL) return;
  ListCell* cell;
  foreach (cell, table->tgoids) {
    Oid tgoid = lfirst_oid(cell);
    SyncEntry* entry = static_cast<SyncEntry*>(hash_search(sync_entries, &tgoid, HASH_FIND, NULL));
    if (entry != NULL) list_for_eviction(entry);
  }
}

void index_under(Oid relid, Oid tgoid) {
  if (!OidIsValid(relid)) return;
  bool found;
  TableEntries* table =
      static_cast<TableEntries*>(hash_search(entries_by_table, &relid, HASH_ENTER, &found));
  if (!found) table->tgoids = NIL;
  MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
  table->tgoids = list_append_unique_oid(table->tgoids, tgoid);
  MemoryContextSwitchTo(old);
}

void unindex_under(Oid relid, Oid tgoid) {
  if (!OidIsValid(relid)) return;
  TableEntries* table =
      static_cast<TableEntries*>(hash_search(entries_by_table, &relid, HASH_FIND, NULL));
  if (table == NULL) return;
  table->tgoids = list_delete_oid(table->tgoids, tgoid);
  if (table->tgoids == NIL) (void)hash_search(entries_by_table, &relid, HASH_REMOVE, NULL);
}

// Lists the entry under the tables it reads now (after a build: the other
// table may have changed; before one, only the table it is on is known).
void index_entry(SyncEntry* entry) {
  if (entry->indexed_relid != entry->relid) {
    unindex_under(entry->indexed_relid, entry->tgoid);
    index_under(entry->relid, entry->tgoid);
    entry->indexed_relid = entry->relid;
  }
  if (entry->indexed_other_relid != entry->other_relid) {
    unindex_under(entry->indexed_other_relid, entry->tgoid);
    index_under(entry->other_relid, entry->tgoid);
    entry->indexed_other_relid = entry->other_relid;
  }
}

// A rebuilt entry's statements: one of them may be running further up the
// stack (its own statement fired a user trigger that invalidated the table
// and wrote back to it, firing this trigger again), so they are freed only at
// the end of the transaction.
List* retired_statements = NIL;  // of SPIPlanPtr, in TopMemoryContext

void retire(SPIPlanPtr statement) {
  if (statement == NULL) return;
  MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
  retired_statements = lappend(retired_statements, statement);
  MemoryContextSwitchTo(old);
}

// At the end of a transaction no statement is running, so the entries
// invalidated in it and not rebuilt since (a table dropped, the triggers gone
// with finish or abort, or simply not written again) are freed with their
// kept SPI statements.
void evict_entries(XactEvent event, void*) {
  if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE &&
      event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
    return;
  ListCell* cell;
  foreach (cell, retired_statements) SPI_freeplan(static_cast<SPIPlanPtr>(lfirst(cell)));
  list_free(retired_statements);
  retired_statements = NIL;
  SyncEntry* entry = listed_entries;
  listed_entries = NULL;
  while (entry != NULL) {
    SyncEntry* next = entry->next_listed;
    entry->listed = false;
    if (!entry->valid) {
      unindex_under(entry->indexed_relid, entry->tgoid);
      unindex_under(entry->indexed_other_relid, entry->tgoid);
      if (entry->set != NULL) SPI_freeplan(entry->set);
      if (entry->clear != NULL) SPI_freeplan(entry->clear);
      const Oid tgoid = entry->tgoid;
      (void)hash_search(sync_entries, &tgoid, HASH_REMOVE, NULL);
    }
    entry = next;
  }
}

void sync_context(void* arg) { errcontext("%s", static_cast<const SyncEntry*>(arg)->what); }

AttrNumber attno_of(Relation rel, const char* column, Trigger* trigger) {
  TupleDesc desc = RelationGetDescr(rel);
  for (int i = 0; i < desc->natts; i++) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (!att->attisdropped && strcmp(NameStr(att->attname), column) == 0) return att->attnum;
  }
  ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                  errmsg("zdm: column \"%s\" of table \"%s\" named by trigger \"%s\" does not "
                         "exist",
                         column, RelationGetRelationName(rel), trigger->tgname),
                  errhint("The table was changed by hand during a migration; abort the migration "
                          "with zdm.abort().")));
  return InvalidAttrNumber;
}

// What the sync's statements run under: the written table's owner, with that
// table's FORCE ROW LEVEL SECURITY not applied (as a foreign key's actions).
const int kSyncSecurity = SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS;

// Prepares one of the sync's statements as the role that will run it, so that
// its names resolve and its policies apply as they will when it runs.
SPIPlanPtr prepare(Oid run_as, const char* sql, int nargs, Oid* types) {
  Oid saved_user;
  int saved_sec;
  GetUserIdAndSecContext(&saved_user, &saved_sec);
  SPIPlanPtr volatile statement = NULL;
  SetUserIdAndSecContext(run_as, saved_sec | kSyncSecurity);
  PG_TRY();
  { statement = SPI_prepare(sql, nargs, types); }
  PG_FINALLY();
  { SetUserIdAndSecContext(saved_user, saved_sec); }
  PG_END_TRY();
  if (statement == NULL)
    elog(ERROR, "zdm: could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
  if (SPI_keepplan(statement) != 0) elog(ERROR, "zdm: could not keep the prepared \"%s\"", sql);
  return statement;
}

// The target key's unique btree index on exactly that column, usable with a
// key of type `key_type`: sets the entry's lock_* fields, or leaves lock_index
// invalid (the lock then goes through SQL).
void find_lock_index(SyncEntry* entry, Oid target_relid, const char* target_key, Oid key_type) {
  entry->lock_index = InvalidOid;
  AttrNumber attno = get_attnum(target_relid, target_key);
  if (attno == InvalidAttrNumber) return;
  Relation target = table_open(target_relid, AccessShareLock);
  List* indexes = RelationGetIndexList(target);
  ListCell* lc;
  foreach (lc, indexes) {
    Relation index = index_open(lfirst_oid(lc), AccessShareLock);
    Form_pg_index form = index->rd_index;
    if (entry->lock_index == InvalidOid && form->indisunique && form->indimmediate &&
        form->indisvalid && form->indnkeyatts == 1 && form->indkey.values[0] == attno &&
        index->rd_rel->relam == BTREE_AM_OID && RelationGetIndexExpressions(index) == NIL &&
        RelationGetIndexPredicate(index) == NIL && index->rd_opcintype[0] == key_type) {
      Oid op =
          get_opfamily_member(index->rd_opfamily[0], key_type, key_type, BTEqualStrategyNumber);
      if (OidIsValid(op)) {
        entry->lock_index = RelationGetRelid(index);
        entry->lock_eq = get_opcode(op);
        entry->lock_collation = index->rd_indcollation[0];
      }
    }
    index_close(index, AccessShareLock);
  }
  list_free(indexes);
  table_close(target, AccessShareLock);
}

Oid relation_owner(Oid relid) {
  HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "zdm: cache lookup failed for relation %u", relid);
  Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
  ReleaseSysCache(tuple);
  return owner;
}

// The role that owns zdm's catalog (the owner of zdm.operations); the caller
// when there is none, and then the query names what is missing.
Oid catalog_owner(void) {
  Oid schema = get_namespace_oid("zdm", true);
  Oid operations = OidIsValid(schema) ? get_relname_relid("operations", schema) : InvalidOid;
  return OidIsValid(operations) ? relation_owner(operations) : GetUserId();
}

// Reads zdm's catalog as its owner (see the top of the file), and as committed
// now, not as the transaction's snapshot saw it: a REPEATABLE READ transaction
// that began before begin committed fires the new triggers too, and must find
// their operation (it is cached for the backend's life).
int select_latest(const char* sql, Oid type, Datum arg) {
  Oid saved_user;
  int saved_sec;
  GetUserIdAndSecContext(&saved_user, &saved_sec);
  Oid owner = catalog_owner();
  volatile int rc = 0;
  SetUserIdAndSecContext(owner, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
  PG_TRY();
  {
    SPIPlanPtr statement = SPI_prepare(sql, 1, &type);
    if (statement == NULL)
      elog(ERROR, "zdm: could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
    rc = SPI_execute_snapshot(statement, &arg, NULL, GetLatestSnapshot(), InvalidSnapshot, true,
                              false, 1);
    SPI_freeplan(statement);
  }
  PG_FINALLY();
  { SetUserIdAndSecContext(saved_user, saved_sec); }
  PG_END_TRY();
  return rc;
}

// Builds the entry from the trigger's arguments and the operation in
// zdm.operations; runs inside SPI.
void build(SyncEntry* entry, Relation rel, Trigger* trigger) {
  if (trigger->tgnargs != kNargs)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("zdm: malformed arguments on trigger \"%s\"", trigger->tgname),
                    errhint("Create the trigger through zdm.begin_join_to_column() or "
                            "zdm.begin_column_to_join() only.")));
  char** args = trigger->tgargs;
  retire(entry->set);
  retire(entry->clear);
  entry->set = entry->clear = NULL;
  entry->lock_index = InvalidOid;
  entry->relid = RelationGetRelid(rel);

  if (strcmp(args[kRole], "lock") == 0)
    entry->role = RoleLock;
  else if (strcmp(args[kRole], "join") == 0)
    entry->role = RoleJoin;
  else if (strcmp(args[kRole], "truncate") == 0)
    entry->role = RoleTruncate;
  else if (strcmp(args[kRole], "target") == 0)
    entry->role = RoleTarget;
  else
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
             errmsg("zdm: unknown role \"%s\" on trigger \"%s\"", args[kRole], trigger->tgname),
             errhint("The installed zdm library is older than its catalog; update it.")));

  Oid id_type = INT8OID;
  Datum id = DirectFunctionCall1(int8in, CStringGetDatum(args[kOperation]));
  entry->orphan = false;
  if (select_latest(kOperationSql, id_type, id) != SPI_OK_SELECT || SPI_processed != 1) {
    // No open operation at all: the trigger outlived its migration (a table
    // restored by pg_dump -t or --schema-only, without zdm's catalog rows).
    // Nothing can finish or abort it, and blocking every write of the
    // application would be an outage: the write goes through unsynced, and a
    // WARNING (once per backend) says how to remove the leftovers.
    if (select_latest(kOpenOperationSql, id_type, id) == SPI_OK_SELECT && SPI_processed == 0) {
      ereport(WARNING,
              (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
               errmsg("zdm: trigger \"%s\" on table \"%s\" belongs to operation %s, which no "
                      "open migration holds; writes are not synced",
                      trigger->tgname, RelationGetRelationName(rel), args[kOperation]),
               errhint("Remove zdm's leftovers from the table with SELECT zdm.forget(%s).",
                       quote_literal_cstr(
                           quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                                      RelationGetRelationName(rel))))));
      entry->orphan = true;
      entry->other_relid = InvalidOid;
      entry->valid = true;
      return;
    }
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("zdm: trigger \"%s\" on table \"%s\" belongs to operation %s, which "
                           "zdm.operations does not hold with both of its tables",
                           trigger->tgname, RelationGetRelationName(rel), args[kOperation]),
                    errhint("A table of the migration was dropped or replaced; abort the "
                            "migration with zdm.abort().")));
  }
  const char* a[kNfields];
  for (int i = 0; i < kNfields; i++)
    a[i] = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1);
  Oid join_oid = static_cast<Oid>(strtoul(a[kJoinOid], NULL, 10));
  Oid target_oid = static_cast<Oid>(strtoul(a[kTargetOid], NULL, 10));
  bool on_join = entry->role != RoleTarget;
  if (entry->relid != (on_join ? join_oid : target_oid))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("zdm: trigger \"%s\" is on the wrong table for its role \"%s\"",
                           trigger->tgname, args[kRole]),
                    errhint("Create the trigger through zdm.begin_join_to_column() or "
                            "zdm.begin_column_to_join() only.")));
  entry->other_relid = on_join ? target_oid : join_oid;
  entry->run_as = relation_owner(entry->other_relid);
  snprintf(entry->what, sizeof(entry->what),
           "zdm: keeping table \"%s\" and column \"%s\" of table \"%s\" in sync (migration "
           "\"%s\")",
           a[kJoinName], a[kColumn], a[kTargetName], a[kMigration]);

  const char* join = quote_qualified_identifier(a[kJoinSchema], a[kJoinName]);
  const char* target = quote_qualified_identifier(a[kTargetSchema], a[kTargetName]);
  const char* jk = quote_identifier(a[kJoinKey]);
  const char* jv = quote_identifier(a[kJoinValue]);
  const char* tk = quote_identifier(a[kTargetKey]);
  const char* col = quote_identifier(a[kColumn]);

  if (entry->role == RoleTruncate) {
    entry->set = prepare(entry->run_as,
                         psprintf("UPDATE %s SET %s = NULL WHERE %s IS NOT NULL", target, col, col),
                         0, NULL);
    entry->valid = true;
    return;
  }
  entry->key_attno = attno_of(rel, on_join ? a[kJoinKey] : a[kTargetKey], trigger);
  entry->value_attno = attno_of(rel, on_join ? a[kJoinValue] : a[kColumn], trigger);
  Form_pg_attribute key = TupleDescAttr(RelationGetDescr(rel), entry->key_attno - 1);
  Form_pg_attribute value = TupleDescAttr(RelationGetDescr(rel), entry->value_attno - 1);
  entry->key_byval = key->attbyval;
  entry->key_len = key->attlen;
  entry->value_byval = value->attbyval;
  entry->value_len = value->attlen;
  Oid types[2] = {key->atttypid, value->atttypid};
  switch (entry->role) {
    case RoleLock:
      find_lock_index(entry, target_oid, a[kTargetKey], key->atttypid);
      if (entry->lock_index == InvalidOid)
        entry->set = prepare(entry->run_as,
                             psprintf("SELECT 1 FROM %s WHERE %s OPERATOR(pg_catalog.=) $1 FOR NO "
                                      "KEY UPDATE",
                                      target, tk),
                             1, types);
      break;
    case RoleJoin:
      entry->set = prepare(
          entry->run_as,
          psprintf("UPDATE %s SET %s = $2 WHERE %s OPERATOR(pg_catalog.=) $1", target, col, tk), 2,
          types);
      entry->clear = prepare(
          entry->run_as,
          psprintf("UPDATE %s SET %s = NULL WHERE %s OPERATOR(pg_catalog.=) $1", target, col, tk),
          1, types);
      break;
    case RoleTarget:
      entry->set = prepare(entry->run_as,
                           psprintf("INSERT INTO %s (%s, %s) VALUES ($1, $2) ON CONFLICT (%s) DO "
                                    "UPDATE SET %s = EXCLUDED.%s",
                                    join, jk, jv, jk, jv, jv),
                           2, types);
      entry->clear = prepare(
          entry->run_as, psprintf("DELETE FROM %s WHERE %s OPERATOR(pg_catalog.=) $1", join, jk), 1,
          types);
      break;
    case RoleTruncate:
      break;
  }
  entry->valid = true;
}

// Locks the target row whose key is `key` (the latest version, waiting for
// transactions that are changing it), as SELECT ... FOR NO KEY UPDATE would.
// No row: nothing to lock (the foreign key, if any, reports it).
// `target` is open and locked (RowShareLock), and the entry was valid after
// that lock was taken, so its lock_index exists.
void lock_target_row(const SyncEntry* entry, Relation target, Datum key) {
  Relation index = index_open(entry->lock_index, AccessShareLock);
  ScanKeyData skey;
  ScanKeyInit(&skey, 1, BTEqualStrategyNumber, entry->lock_eq, key);
  skey.sk_collation = entry->lock_collation;
  TupleTableSlot* slot = table_slot_create(target, NULL);
  SnapshotData dirty;
  InitDirtySnapshot(dirty);
#if PG_VERSION_NUM >= 180000
  IndexScanDesc scan = index_beginscan(target, index, &dirty, NULL, 1, 0);
#else
  IndexScanDesc scan = index_beginscan(target, index, &dirty, 1, 0);
#endif
  for (;;) {
    index_rescan(scan, &skey, 1, NULL, 0);
    if (!index_getnext_slot(scan, ForwardScanDirection, slot)) break;
    // A transaction that inserts or updates the row right now: wait for it,
    // then look again.
    TransactionId xwait = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;
    if (TransactionIdIsValid(xwait)) {
      XactLockTableWait(xwait, target, &slot->tts_tid, XLTW_Lock);
      continue;
    }
    TM_FailureData failure;
    TM_Result result = table_tuple_lock(target, &slot->tts_tid, GetLatestSnapshot(), slot,
                                        GetCurrentCommandId(false), LockTupleNoKeyExclusive,
                                        LockWaitBlock, 0, &failure);
    if (result == TM_Updated || result == TM_Deleted) continue;  // changed meanwhile: again
    if (result != TM_Ok && result != TM_SelfModified && result != TM_Invisible)
      elog(ERROR, "zdm: unexpected result %d locking a row of \"%s\"", static_cast<int>(result),
           RelationGetRelationName(target));
    break;
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  index_close(index, NoLock);
}

// The trigger's entry; build() fills it when it is not valid.
SyncEntry* entry_for(Trigger* trigger, Oid relid) {
  if (sync_entries == NULL) {
    HASHCTL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = sizeof(SyncEntry);
    sync_entries = hash_create("zdm join-sync cache entries", 16, &ctl, HASH_ELEM | HASH_BLOBS);
    ctl.entrysize = sizeof(TableEntries);
    entries_by_table =
        hash_create("zdm join-sync cache entries by table", 16, &ctl, HASH_ELEM | HASH_BLOBS);
  }
  bool found;
  SyncEntry* entry =
      static_cast<SyncEntry*>(hash_search(sync_entries, &trigger->tgoid, HASH_ENTER, &found));
  if (!found) {
    entry->valid = false;
    entry->orphan = false;
    entry->set = entry->clear = NULL;
    entry->listed = false;
    entry->relid = relid;
    entry->other_relid = entry->indexed_relid = entry->indexed_other_relid = InvalidOid;
    // Indexed at once, so that even an entry whose build fails leaves with its
    // table.
    index_entry(entry);
  }
  // Read before the entry is built, so that a write that must stay quiet never
  // builds one. (build() validates the arguments.)
  if (!entry->valid)
    entry->operation =
        trigger->tgnargs == kNargs ? strtoll(trigger->tgargs[kOperation], NULL, 10) : 0;
  return entry;
}

// Runs one of the entry's statements as the other table's owner, quiet for
// this operation on that table (the one it writes).
void run(SyncEntry* entry, SPIPlanPtr statement, Datum key, bool key_null, Datum value,
         bool value_null) {
  Datum values[2] = {key, value};
  char nulls[2] = {key_null ? 'n' : ' ', value_null ? 'n' : ' '};
  ErrorContextCallback callback;
  callback.callback = sync_context;
  callback.arg = entry;
  callback.previous = error_context_stack;
  error_context_stack = &callback;
  Oid saved_user;
  int saved_sec;
  GetUserIdAndSecContext(&saved_user, &saved_sec);
  volatile int rc = 0;
  const ZdmJoinSyncQuiet previous = zdm_join_sync_quiet_set(entry->other_relid, entry->operation);
  SetUserIdAndSecContext(entry->run_as, saved_sec | kSyncSecurity);
  PG_TRY();
  { rc = SPI_execute_plan(statement, values, nulls, false, 0); }
  PG_FINALLY();
  {
    SetUserIdAndSecContext(saved_user, saved_sec);
    zdm_join_sync_quiet_restore(previous);
  }
  PG_END_TRY();
  error_context_stack = callback.previous;
  if (rc < 0) elog(ERROR, "zdm: join sync failed: %s", SPI_result_code_string(rc));
}

bool same(Datum a, bool a_null, Datum b, bool b_null, bool byval, int16 len) {
  if (a_null || b_null) return a_null == b_null;
  return datum_image_eq(a, b, byval, len);
}

}  // namespace

void zdm_join_sync_init(void) {
  CacheRegisterRelcacheCallback(invalidate_entries, (Datum)0);
  RegisterXactCallback(evict_entries, NULL);
}

int zdm_join_sync_cache_entries(void) {
  return sync_entries == NULL ? 0 : static_cast<int>(hash_get_num_entries(sync_entries));
}

extern "C" Datum zdm_join_sync_trigger(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("zdm.join_sync_trigger() must be called as a trigger")));
  TriggerData* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  TriggerEvent event = td->tg_event;
  bool before = TRIGGER_FIRED_BEFORE(event);
  Datum result = before ? PointerGetDatum(td->tg_trigtuple) : PointerGetDatum(NULL);

  SyncEntry* entry = entry_for(td->tg_trigger, RelationGetRelid(td->tg_relation));
  if (zdm_join_sync_quiet.relid == RelationGetRelid(td->tg_relation) &&
      zdm_join_sync_quiet.operation == entry->operation)
    return result;
  bool connected = false;
  TupleDesc desc = RelationGetDescr(td->tg_relation);
  for (;;) {
    if (!entry->valid) {
      if (!connected && SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "zdm: SPI_connect failed");
      connected = true;
      build(entry, td->tg_relation, td->tg_trigger);
      index_entry(entry);
    }
    if (entry->orphan) {
      if (connected) SPI_finish();
      return result;
    }
    if (entry->role != RoleLock || entry->lock_index == InvalidOid) break;
    // Taking the target's lock may wait, and processes the invalidations that
    // arrived meanwhile: the cached index may have been dropped or replaced
    // (REINDEX CONCURRENTLY, DROP INDEX). Only a entry still valid under the
    // lock may open it; else rebuild and lock again. (A dropped target leaves
    // the entry invalid, and build() names the broken operation.)
    Relation target = try_relation_open(entry->other_relid, RowShareLock);
    if (target == NULL || !entry->valid) {
      entry->valid = false;
      if (target != NULL) relation_close(target, NoLock);
      continue;
    }
    bool key_null;
    Datum key = heap_getattr(td->tg_trigtuple, entry->key_attno, desc, &key_null);
    if (!key_null) lock_target_row(entry, target, key);
    relation_close(target, NoLock);
    if (connected) SPI_finish();
    return result;
  }
  if (!connected && SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "zdm: SPI_connect failed");
  if (entry->role == RoleTruncate) {
    run(entry, entry->set, (Datum)0, true, (Datum)0, true);
    SPI_finish();
    return result;
  }
  bool key_null, value_null, old_key_null = true, old_value_null = true;
  Datum old_key = (Datum)0, old_value = (Datum)0;
  HeapTuple row = TRIGGER_FIRED_BY_UPDATE(event) ? td->tg_newtuple : td->tg_trigtuple;
  Datum key = heap_getattr(row, entry->key_attno, desc, &key_null);
  Datum value = heap_getattr(row, entry->value_attno, desc, &value_null);
  if (TRIGGER_FIRED_BY_UPDATE(event)) {
    old_key = heap_getattr(td->tg_trigtuple, entry->key_attno, desc, &old_key_null);
    old_value = heap_getattr(td->tg_trigtuple, entry->value_attno, desc, &old_value_null);
  }
  bool key_changed = TRIGGER_FIRED_BY_UPDATE(event) &&
                     !same(old_key, old_key_null, key, key_null, entry->key_byval, entry->key_len);
  bool value_changed =
      TRIGGER_FIRED_BY_UPDATE(event) &&
      !same(old_value, old_value_null, value, value_null, entry->value_byval, entry->value_len);

  switch (entry->role) {
    case RoleLock:
      if (!key_null) run(entry, entry->set, key, false, (Datum)0, true);
      break;
    case RoleJoin:
      if (TRIGGER_FIRED_BY_DELETE(event)) {
        run(entry, entry->clear, key, key_null, (Datum)0, true);
      } else if (TRIGGER_FIRED_BY_INSERT(event) || key_changed || value_changed) {
        if (key_changed && !old_key_null) run(entry, entry->clear, old_key, false, (Datum)0, true);
        if (!key_null) run(entry, entry->set, key, false, value, value_null);
      }
      break;
    case RoleTarget:
      if (TRIGGER_FIRED_BY_DELETE(event)) {
        run(entry, entry->clear, key, key_null, (Datum)0, true);
      } else if (TRIGGER_FIRED_BY_INSERT(event) || key_changed || value_changed) {
        if (key_changed && !old_key_null) run(entry, entry->clear, old_key, false, (Datum)0, true);
        if (key_null) break;
        if (!value_null)
          run(entry, entry->set, key, false, value, false);
        else if (value_changed && !key_changed)
          run(entry, entry->clear, key, false, (Datum)0, true);
      }
      break;
    case RoleTruncate:
      break;
  }
  SPI_finish();
  return result;
}
