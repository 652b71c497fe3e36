// Cross-table sync. For each write to one shape, one statement on the other:
//   join table  INSERT (k, v)        -> UPDATE target SET column = v WHERE key = k
//               DELETE (k, v)        -> UPDATE target SET column = NULL WHERE key = k
//               UPDATE of k or v     -> the same, for the old and the new key
//               TRUNCATE             -> UPDATE target SET column = NULL (all rows)
//   target      INSERT/UPDATE, column v not NULL -> upsert join row (k, v)
//               column set to NULL, DELETE        -> DELETE join row k
// and BEFORE INSERT on the join table: lock the target row (FOR NO KEY
// UPDATE), so that an insert into the join table and an UPDATE of the target
// row take their row locks in the same order (target row first) instead of
// deadlocking.
//
// The statements are SPI plans prepared once per trigger and backend and kept
// (SPI_keepplan); the per-trigger entry is found by the trigger's OID. Every
// name is schema-qualified and every operator is OPERATOR(pg_catalog.=), so no
// name resolves through the caller's search_path. zdm_join_sync_off is set
// around each statement and reset in PG_FINALLY: the triggers that statement
// fires on the other table see it and do nothing, so there is no ping-pong.
#include "trigger/join_sync.hpp"

#include <cstring>

#include "pg/postgres.hpp"

extern "C" {
bool zdm_join_sync_off = false;
PGDLLEXPORT PG_FUNCTION_INFO_V1(zdm_join_sync_trigger);
}

namespace {

// The trigger's arguments, in the order zdm::core::join writes them.
enum Arg {
  kRole,
  kMigration,
  kJoinSchema,
  kJoinName,
  kJoinKey,
  kJoinValue,
  kTargetSchema,
  kTargetName,
  kTargetKey,
  kColumn,
  kNargs
};

enum Role { RoleLock, RoleJoin, RoleTruncate, RoleTarget };

struct SyncPlan {
  Oid tgoid;  // hash key
  Oid relid;  // the table the trigger is on
  bool valid;
  Role role;
  // The key and the value in the firing table: join_key and join_value on the
  // join table, target_key and the column on the target.
  AttrNumber key_attno, value_attno;
  bool key_byval, value_byval;
  int16 key_len, value_len;
  SPIPlanPtr set;    // lock: lock the target row; join: set the column; target: upsert the
                     // join row; truncate: clear the column everywhere
  SPIPlanPtr clear;  // join: clear the column of one target row; target: delete the join row
  char what[3 * NAMEDATALEN + 160];  // for error context
};

HTAB* sync_plans = NULL;

void invalidate_plans(Datum, Oid relid) {
  if (sync_plans == NULL) return;
  HASH_SEQ_STATUS status;
  SyncPlan* plan;
  hash_seq_init(&status, sync_plans);
  while ((plan = static_cast<SyncPlan*>(hash_seq_search(&status))) != NULL)
    if (relid == InvalidOid || plan->relid == relid) plan->valid = false;
}

void sync_context(void* arg) { errcontext("%s", static_cast<const SyncPlan*>(arg)->what); }

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

SPIPlanPtr prepare(const char* sql, int nargs, Oid* types) {
  SPIPlanPtr plan = SPI_prepare(sql, nargs, types);
  if (plan == NULL)
    elog(ERROR, "zdm: could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
  if (SPI_keepplan(plan) != 0) elog(ERROR, "zdm: could not keep the plan of \"%s\"", sql);
  return plan;
}

// Builds the entry from the trigger's arguments; runs inside SPI.
void build(SyncPlan* plan, Relation rel, Trigger* trigger) {
  if (trigger->tgnargs != kNargs)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("zdm: malformed arguments on trigger \"%s\"", trigger->tgname),
                    errhint("Create the trigger through zdm.begin_join_to_column() or "
                            "zdm.begin_column_to_join() only.")));
  char** a = trigger->tgargs;
  if (plan->set != NULL) SPI_freeplan(plan->set);
  if (plan->clear != NULL) SPI_freeplan(plan->clear);
  plan->set = plan->clear = NULL;
  plan->relid = RelationGetRelid(rel);

  if (strcmp(a[kRole], "lock") == 0)
    plan->role = RoleLock;
  else if (strcmp(a[kRole], "join") == 0)
    plan->role = RoleJoin;
  else if (strcmp(a[kRole], "truncate") == 0)
    plan->role = RoleTruncate;
  else if (strcmp(a[kRole], "target") == 0)
    plan->role = RoleTarget;
  else
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("zdm: unknown role \"%s\" on trigger \"%s\"", a[kRole], trigger->tgname),
                    errhint("The installed zdm library is older than its catalog; update it.")));
  snprintf(plan->what, sizeof(plan->what),
           "zdm: keeping table \"%s\" and column \"%s\" of table \"%s\" in sync (migration "
           "\"%s\")",
           a[kJoinName], a[kColumn], a[kTargetName], a[kMigration]);

  const char* join = quote_qualified_identifier(a[kJoinSchema], a[kJoinName]);
  const char* target = quote_qualified_identifier(a[kTargetSchema], a[kTargetName]);
  const char* jk = quote_identifier(a[kJoinKey]);
  const char* jv = quote_identifier(a[kJoinValue]);
  const char* tk = quote_identifier(a[kTargetKey]);
  const char* col = quote_identifier(a[kColumn]);

  if (plan->role == RoleTruncate) {
    plan->set = prepare(psprintf("UPDATE %s SET %s = NULL WHERE %s IS NOT NULL", target, col, col),
                        0, NULL);
    plan->valid = true;
    return;
  }
  bool on_join = plan->role != RoleTarget;
  plan->key_attno = attno_of(rel, on_join ? a[kJoinKey] : a[kTargetKey], trigger);
  plan->value_attno = attno_of(rel, on_join ? a[kJoinValue] : a[kColumn], trigger);
  Form_pg_attribute key = TupleDescAttr(RelationGetDescr(rel), plan->key_attno - 1);
  Form_pg_attribute value = TupleDescAttr(RelationGetDescr(rel), plan->value_attno - 1);
  plan->key_byval = key->attbyval;
  plan->key_len = key->attlen;
  plan->value_byval = value->attbyval;
  plan->value_len = value->attlen;
  Oid types[2] = {key->atttypid, value->atttypid};
  switch (plan->role) {
    case RoleLock:
      plan->set = prepare(psprintf("SELECT 1 FROM %s WHERE %s OPERATOR(pg_catalog.=) $1 FOR NO "
                                   "KEY UPDATE",
                                   target, tk),
                          1, types);
      break;
    case RoleJoin:
      plan->set = prepare(
          psprintf("UPDATE %s SET %s = $2 WHERE %s OPERATOR(pg_catalog.=) $1", target, col, tk), 2,
          types);
      plan->clear = prepare(
          psprintf("UPDATE %s SET %s = NULL WHERE %s OPERATOR(pg_catalog.=) $1", target, col, tk),
          1, types);
      break;
    case RoleTarget:
      plan->set = prepare(psprintf("INSERT INTO %s (%s, %s) VALUES ($1, $2) ON CONFLICT (%s) DO "
                                   "UPDATE SET %s = EXCLUDED.%s",
                                   join, jk, jv, jk, jv, jv),
                          2, types);
      plan->clear = prepare(psprintf("DELETE FROM %s WHERE %s OPERATOR(pg_catalog.=) $1", join, jk),
                            1, types);
      break;
    case RoleTruncate:
      break;
  }
  plan->valid = true;
}

SyncPlan* plan_for(Relation rel, Trigger* trigger) {
  if (sync_plans == NULL) {
    HASHCTL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = sizeof(SyncPlan);
    sync_plans = hash_create("zdm join-sync plans", 16, &ctl, HASH_ELEM | HASH_BLOBS);
  }
  bool found;
  SyncPlan* plan =
      static_cast<SyncPlan*>(hash_search(sync_plans, &trigger->tgoid, HASH_ENTER, &found));
  if (!found) {
    plan->valid = false;
    plan->set = plan->clear = NULL;
  }
  if (!plan->valid) build(plan, rel, trigger);
  return plan;
}

// Runs one of the plan's statements with zdm's own triggers off.
void run(SyncPlan* plan, SPIPlanPtr statement, Datum key, bool key_null, Datum value,
         bool value_null) {
  Datum values[2] = {key, value};
  char nulls[2] = {key_null ? 'n' : ' ', value_null ? 'n' : ' '};
  ErrorContextCallback callback;
  callback.callback = sync_context;
  callback.arg = plan;
  callback.previous = error_context_stack;
  error_context_stack = &callback;
  bool was_off = zdm_join_sync_off;
  volatile int rc = 0;
  zdm_join_sync_off = true;
  PG_TRY();
  { rc = SPI_execute_plan(statement, values, nulls, false, 0); }
  PG_FINALLY();
  { zdm_join_sync_off = was_off; }
  PG_END_TRY();
  error_context_stack = callback.previous;
  if (rc < 0) elog(ERROR, "zdm: join sync failed: %s", SPI_result_code_string(rc));
}

bool same(Datum a, bool a_null, Datum b, bool b_null, bool byval, int16 len) {
  if (a_null || b_null) return a_null == b_null;
  return datum_image_eq(a, b, byval, len);
}

}  // namespace

void zdm_join_sync_init(void) { CacheRegisterRelcacheCallback(invalidate_plans, (Datum)0); }

extern "C" Datum zdm_join_sync_trigger(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("zdm.join_sync_trigger() must be called as a trigger")));
  TriggerData* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  TriggerEvent event = td->tg_event;
  bool before = TRIGGER_FIRED_BEFORE(event);
  Datum result = before ? PointerGetDatum(td->tg_trigtuple) : PointerGetDatum(NULL);
  if (zdm_join_sync_off) return result;

  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "zdm: SPI_connect failed");
  SyncPlan* plan = plan_for(td->tg_relation, td->tg_trigger);
  if (plan->role == RoleTruncate) {
    run(plan, plan->set, (Datum)0, true, (Datum)0, true);
    SPI_finish();
    return result;
  }
  TupleDesc desc = RelationGetDescr(td->tg_relation);
  bool key_null, value_null, old_key_null = true, old_value_null = true;
  Datum old_key = (Datum)0, old_value = (Datum)0;
  HeapTuple row = TRIGGER_FIRED_BY_UPDATE(event) ? td->tg_newtuple : td->tg_trigtuple;
  Datum key = heap_getattr(row, plan->key_attno, desc, &key_null);
  Datum value = heap_getattr(row, plan->value_attno, desc, &value_null);
  if (TRIGGER_FIRED_BY_UPDATE(event)) {
    old_key = heap_getattr(td->tg_trigtuple, plan->key_attno, desc, &old_key_null);
    old_value = heap_getattr(td->tg_trigtuple, plan->value_attno, desc, &old_value_null);
  }
  bool key_changed = TRIGGER_FIRED_BY_UPDATE(event) &&
                     !same(old_key, old_key_null, key, key_null, plan->key_byval, plan->key_len);
  bool value_changed =
      TRIGGER_FIRED_BY_UPDATE(event) &&
      !same(old_value, old_value_null, value, value_null, plan->value_byval, plan->value_len);

  switch (plan->role) {
    case RoleLock:
      if (!key_null) run(plan, plan->set, key, false, (Datum)0, true);
      break;
    case RoleJoin:
      if (TRIGGER_FIRED_BY_DELETE(event)) {
        run(plan, plan->clear, key, key_null, (Datum)0, true);
      } else if (TRIGGER_FIRED_BY_INSERT(event) || key_changed || value_changed) {
        if (key_changed && !old_key_null) run(plan, plan->clear, old_key, false, (Datum)0, true);
        if (!key_null) run(plan, plan->set, key, false, value, value_null);
      }
      break;
    case RoleTarget:
      if (TRIGGER_FIRED_BY_DELETE(event)) {
        run(plan, plan->clear, key, key_null, (Datum)0, true);
      } else if (TRIGGER_FIRED_BY_INSERT(event) || key_changed || value_changed) {
        if (key_changed && !old_key_null) run(plan, plan->clear, old_key, false, (Datum)0, true);
        if (key_null) break;
        if (!value_null)
          run(plan, plan->set, key, false, value, false);
        else if (value_changed && !key_changed)
          run(plan, plan->clear, key, false, (Datum)0, true);
      }
      break;
    case RoleTruncate:
      break;
  }
  SPI_finish();
  return result;
}
