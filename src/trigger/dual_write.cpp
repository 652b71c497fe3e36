// Hot path. Per row: deform the row (and, on UPDATE, the row before it), compare
// datums, evaluate only the conversions whose inputs the write touched, and at
// most one heap_form_tuple. The row is deformed straight into the arrays of the
// entry's virtual slot, which the expressions read: no copy per expression and
// no palloc beyond the result tuple. No SPI, no catalog lookups, no string
// compares: everything else is compiled once per relation from the trigger's
// arguments into an entry cached in CacheMemoryContext.
#include "trigger/dual_write.hpp"

#include <cstring>

#include "common/backfill_scope.hpp"
#include "common/guc.hpp"
#include "common/postgres.hpp"
#include "core/model.hpp"
#include "core/writer.hpp"
#include "trigger/expression.hpp"

extern "C" {
#include "catalog/pg_proc.h"
#include "utils/regproc.h"
PGDLLEXPORT PG_FUNCTION_INFO_V1(zdm_dual_write_trigger);
}

namespace {

using zdm::core::OpKind;

// The columns an expression reads (for a plain copy: the one column copied).
struct Reads {
  AttrNumber* attnos;
  int n;
};

// The functions an expression calls (zdm_functions_called), whose EXECUTE the
// writer needs, and the role they were last checked for: checked again when
// another role writes, or when role memberships change (a GRANT or REVOKE of
// EXECUTE changes pg_proc, which rebuilds the entry).
struct Calls {
  Oid* functions;
  int n;
  Oid checked_user;  // InvalidOid: not yet
  uint32 checked_generation;
};

// One operation: an old-side and a new-side column (either may be absent),
// and how each is computed from the other side: an expression, or when there
// is none and both columns exist, a plain copy (rename).
struct CompiledOp {
  OpKind kind;
  int group;             // the operations of one migration form a group and share a side
  AttrNumber old_attno;  // 0 when absent (add_column)
  AttrNumber new_attno;  // 0 when absent (drop_column)
  bool old_byval, new_byval;
  bool old_has_default, new_has_default;  // an INSERT may have filled it without the writer
  int16 old_len, new_len;
  ExprState* up;     // new column from the row; NULL: copy, or nothing
  ExprState* down;   // old column from the row; NULL: copy, or nothing
  Reads up_reads;    // what computing the new column reads
  Reads down_reads;  // what computing the old column reads
  mutable Calls up_calls, down_calls;
  // An UPDATE that touches nothing this operation reads still fills its new
  // column when it is NULL (a row the backfill has not reached) if that cannot
  // fail (a plain copy) or the row needs it: a NOT NULL or CHECK constraint
  // reads the column, and the updated row would otherwise violate it.
  bool fill_when_null;
  const char* migration;
  const char* old_name;
  const char* new_name;
  const char* table;
};

struct DualWriteEntry {
  Oid relid;  // hash key
  Oid tgoid;
  bool valid;
  bool stale;             // invalidated while being built: rebuild on the next row
  MemoryContext context;  // everything below; deleted when the entry is rebuilt
  int nops;
  CompiledOp* ops;
  bool* recompute;  // per operation, scratch for one row
  int ngroups;
  int* group_end;  // per group, one past its last operation
  int natts;
  // The row is deformed into the slot's own arrays, edited in place, read by
  // the expressions through the slot, and formed again.
  TupleTableSlot* slot;
  Datum* values;  // slot->tts_values
  bool* nulls;    // slot->tts_isnull
  ExprContext* econtext;
  // UPDATE: the row before, deformed once; and per column (by attno) whether
  // the write touched it: assigned by the statement, or changed OLD vs NEW.
  Datum* old_values;
  bool* old_nulls;
  bool* touched;
  bool* differs;        // changed OLD vs NEW (or by zdm), a subset of touched
  AttrNumber* watched;  // the columns whose `touched` the operations consult
  int nwatched;
  // The row's key for error messages: the primary key, else the replica
  // identity index; nkey 0 when there is none.
  int nkey;
  AttrNumber* key_attnos;
  FmgrInfo* key_output;
  const char* key_names;  // "(id)" or "(a, b)"
  // Which group the backfill forces to the old side (-1: none), as of
  // forced_generation.
  uint32 forced_generation;
  int forced_group;
  // On the list of entries to evict at the end of the transaction (a relcache
  // invalidation of the table: its trigger or the table itself may be gone).
  bool listed;
  DualWriteEntry* next_listed;
};

HTAB* entries = NULL;
// Bumped when a role or a role membership changes: every Calls is checked
// again for its next writer.
uint32 role_generation = 1;
// The entries a relcache invalidation reached in this transaction, linked
// through the entries themselves: the callback allocates nothing.
DualWriteEntry* listed_entries = NULL;

void mark_invalid(DualWriteEntry* entry) {
  entry->valid = false;
  entry->stale = true;
}

void list_for_eviction(DualWriteEntry* entry) {
  mark_invalid(entry);
  if (entry->listed) return;
  entry->listed = true;
  entry->next_listed = listed_entries;
  listed_entries = entry;
}

// The table (or every table, for InvalidOid) changed: its entry is rebuilt on
// its next row, or evicted at the end of the transaction if none comes
// (evict_entries). Freeing it here could pull it from under a row in flight:
// invalidations arrive whenever a lock is taken.
void invalidate_relation(Datum, Oid relid) {
  if (entries == NULL) return;
  if (relid == InvalidOid) {
    HASH_SEQ_STATUS status;
    DualWriteEntry* entry;
    hash_seq_init(&status, entries);
    while ((entry = static_cast<DualWriteEntry*>(hash_seq_search(&status))) != NULL)
      list_for_eviction(entry);
    return;
  }
  DualWriteEntry* entry =
      static_cast<DualWriteEntry*>(hash_search(entries, &relid, HASH_FIND, NULL));
  if (entry != NULL) list_for_eviction(entry);
}

// A function was created, replaced or dropped. expression_planner inlines SQL
// functions into the compiled up/down, so any of them may now be stale; which
// ones the inlining consumed is not recorded, so every entry is rebuilt (the
// tables are still there: nothing is evicted).
void invalidate_on_function_change(Datum, int, uint32) {
  if (entries == NULL) return;
  HASH_SEQ_STATUS status;
  DualWriteEntry* entry;
  hash_seq_init(&status, entries);
  while ((entry = static_cast<DualWriteEntry*>(hash_seq_search(&status))) != NULL)
    mark_invalid(entry);
}

void invalidate_on_role_change(Datum, int, uint32) { role_generation++; }

// At the end of a transaction no statement is running and no trigger's
// fn_extra outlives it, so the entries invalidated in it and not rebuilt since
// (the table dropped, its trigger gone with finish or abort, or simply not
// written again) are freed: the cache holds the tables being written, not
// every table a long-lived backend ever wrote. The cost is the invalidated
// entries, not the cache.
void evict_entries(XactEvent event, void*) {
  if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE &&
      event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
    return;
  DualWriteEntry* entry = listed_entries;
  listed_entries = NULL;
  while (entry != NULL) {
    DualWriteEntry* next = entry->next_listed;
    entry->listed = false;
    if (!entry->valid) {
      if (entry->context != NULL) MemoryContextDelete(entry->context);
      entry->context = NULL;
      const Oid relid = entry->relid;
      (void)hash_search(entries, &relid, HASH_REMOVE, NULL);
    }
    entry = next;
  }
}

AttrNumber attno_by_name(TupleDesc desc, Relation rel, const char* column) {
  for (int i = 0; i < desc->natts; i++) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (!att->attisdropped && strcmp(NameStr(att->attname), column) == 0) return att->attnum;
  }
  ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                  errmsg("zdm: column \"%s\" of table \"%s\" named by the dual-write trigger "
                         "does not exist",
                         column, RelationGetRelationName(rel)),
                  errhint("The table was changed by hand during a migration; finish or abort "
                          "the migration with zdm.finish() or zdm.abort().")));
  return InvalidAttrNumber;
}

// Names the migration, the column and the row when an up/down expression
// fails on a row (a failed cast, a division by zero). Runs while an error is
// being reported, so it must not raise one itself: a key value is shown only
// when its output function reads nothing but the datum (no NULL, no toasted
// or compressed value to fetch).
struct Computing {
  const DualWriteEntry* entry;
  const CompiledOp* op;
  bool up;
};

const char* row_key(const DualWriteEntry* entry) {
  if (entry->nkey == 0) return "";
  StringInfoData out;
  initStringInfo(&out);
  appendStringInfo(&out, ", row %s=(", entry->key_names);
  for (int i = 0; i < entry->nkey; i++) {
    const int a = entry->key_attnos[i] - 1;
    if (i > 0) appendStringInfoString(&out, ", ");
    if (entry->nulls[a]) {
      appendStringInfoString(&out, "null");
      continue;
    }
    Datum value = entry->values[a];
    if (TupleDescAttr(entry->slot->tts_tupleDescriptor, a)->attlen == -1 &&
        (VARATT_IS_EXTERNAL(DatumGetPointer(value)) ||
         VARATT_IS_COMPRESSED(DatumGetPointer(value)))) {
      appendStringInfoString(&out, "...");
      continue;
    }
    appendStringInfoString(&out, OutputFunctionCall(&entry->key_output[i], value));
  }
  appendStringInfoChar(&out, ')');
  return out.data;
}

void expression_context(void* arg) {
  const Computing* c = static_cast<const Computing*>(arg);
  errcontext(
      "zdm: computing column \"%s\" of table \"%s\" with the %s expression of "
      "migration \"%s\"%s",
      c->up ? c->op->new_name : c->op->old_name, c->op->table, c->up ? "up" : "down",
      c->op->migration, row_key(c->entry));
}

void compile_context(void* arg) {
  const CompiledOp* op = static_cast<const CompiledOp*>(arg);
  errcontext("zdm: compiling an expression of migration \"%s\" on table \"%s\"", op->migration,
             op->table);
}

// The columns `expr` reads; a whole-row reference reads them all.
Reads reads_of(Expr* expr, TupleDesc desc) {
  Bitmapset* read = NULL;
  pull_varattnos(reinterpret_cast<Node*>(expr), 1, &read);
  const bool whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, read);
  Reads out;
  out.attnos = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber) * (desc->natts + 1)));
  out.n = 0;
  for (int i = 0; i < desc->natts; i++) {
    const AttrNumber attno = TupleDescAttr(desc, i)->attnum;
    if (TupleDescAttr(desc, i)->attisdropped) continue;
    if (whole_row || bms_is_member(attno - FirstLowInvalidHeapAttributeNumber, read))
      out.attnos[out.n++] = attno;
  }
  return out;
}

Reads one_column(AttrNumber attno) {
  Reads out;
  out.attnos = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber)));
  out.attnos[0] = attno;
  out.n = 1;
  return out;
}

// Compiles an operation's expression into the column `target`, as the
// table's owner: its names (qualified at begin) resolve and its plan is made
// the same way whoever writes first in this backend, and the writer needs no
// USAGE on the schemas and types it names, as for a column default, whose
// stored tree names them by OID. Whose EXECUTE it needs is checked per writer
// before each evaluation (require_execute), and functions run as the writer.
ExprState* compile(Relation rel, const char* text, Form_pg_attribute target, const char* what,
                   Reads* reads, Calls* calls) {
  Oid saved_user;
  int saved_sec;
  GetUserIdAndSecContext(&saved_user, &saved_sec);
  Expr* volatile expr = NULL;
  ExprState* volatile state = NULL;
  List* volatile called = NIL;
  SetUserIdAndSecContext(rel->rd_rel->relowner, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
  PG_TRY();
  {
    List* functions = NIL;
    expr = zdm_compile_expression(rel, text, target->atttypid, target->atttypmod, what, &functions);
    called = functions;
    state = ExecInitExpr(expr, NULL);
  }
  PG_FINALLY();
  { SetUserIdAndSecContext(saved_user, saved_sec); }
  PG_END_TRY();
  *reads = reads_of(expr, RelationGetDescr(rel));
  calls->n = list_length(called);
  calls->functions = static_cast<Oid*>(palloc(sizeof(Oid) * (calls->n + 1)));
  for (int i = 0; i < calls->n; i++) calls->functions[i] = list_nth_oid(called, i);
  calls->checked_user = InvalidOid;
  calls->checked_generation = 0;
  return state;
}

#if PG_VERSION_NUM >= 160000
#define ZDM_EXECUTE_ACLCHECK(function, role) \
  object_aclcheck(ProcedureRelationId, (function), (role), ACL_EXECUTE)
#else
#define ZDM_EXECUTE_ACLCHECK(function, role) pg_proc_aclcheck((function), (role), ACL_EXECUTE)
#endif

// The writer's EXECUTE on what an expression calls, as PostgreSQL checks it
// when it initializes a column default or a generated column for a statement.
// Checked once per role (and again after a change of roles or functions);
// the error names the function, the migration and the grant.
void require_execute(const CompiledOp& op, Calls& calls, bool up) {
  const Oid user = GetUserId();
  if (calls.checked_user == user && calls.checked_generation == role_generation) return;
  for (int i = 0; i < calls.n; i++) {
    if (ZDM_EXECUTE_ACLCHECK(calls.functions[i], user) == ACLCHECK_OK) continue;
    const char* function = format_procedure(calls.functions[i]);
    const char* role = GetUserNameFromId(user, false);
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
             errmsg("permission denied for function %s", function),
             errdetail("Migration \"%s\" computes column \"%s\" of table \"%s\" with its %s "
                       "expression, which calls this function, with the writer's rights (as "
                       "PostgreSQL computes a column default or a generated column); role "
                       "\"%s\" may write the table but not execute the function.",
                       op.migration, up ? op.new_name : op.old_name, op.table, up ? "up" : "down",
                       role),
             errhint("GRANT EXECUTE ON FUNCTION %s TO %s;", function, quote_identifier(role))));
  }
  calls.checked_user = user;
  calls.checked_generation = role_generation;
}

// The key that names a row in errors: the primary key, else the replica
// identity index (both on plain NOT NULL columns).
void set_row_key(DualWriteEntry* entry, Relation rel) {
#if PG_VERSION_NUM >= 180000
  Oid index = RelationGetPrimaryKeyIndex(rel, true);
#else
  Oid index = RelationGetPrimaryKeyIndex(rel);
#endif
  if (!OidIsValid(index)) index = RelationGetReplicaIndex(rel);
  entry->nkey = 0;
  if (!OidIsValid(index)) return;
  HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
  if (!HeapTupleIsValid(tuple)) return;
  Form_pg_index form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
  const int n = form->indnkeyatts;
  entry->key_attnos = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber) * n));
  entry->key_output = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * n));
  StringInfoData names;
  initStringInfo(&names);
  appendStringInfoChar(&names, '(');
  bool usable = true;
  TupleDesc desc = RelationGetDescr(rel);
  for (int i = 0; i < n; i++) {
    const AttrNumber attno = form->indkey.values[i];
    if (attno <= 0 || attno > desc->natts) {
      usable = false;  // an expression: not a column
      break;
    }
    Form_pg_attribute att = TupleDescAttr(desc, attno - 1);
    Oid output;
    bool varlena;
    getTypeOutputInfo(att->atttypid, &output, &varlena);
    fmgr_info_cxt(output, &entry->key_output[i], CurrentMemoryContext);
    entry->key_attnos[i] = attno;
    if (i > 0) appendStringInfoString(&names, ", ");
    appendStringInfoString(&names, quote_identifier(NameStr(att->attname)));
  }
  ReleaseSysCache(tuple);
  appendStringInfoChar(&names, ')');
  if (!usable) return;
  entry->key_names = names.data;
  entry->nkey = n;
}

// Parses the trigger's arguments, six per operation: kind, migration, old-side
// column, new-side column, up, down (see zdm::core::trigger_args).
void build_entry(DualWriteEntry* entry, Relation rel, Trigger* trigger) {
  TupleDesc desc = RelationGetDescr(rel);
  int nargs = trigger->tgnargs;
  if (nargs % 6 != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("zdm: malformed arguments on trigger \"%s\"", trigger->tgname),
                    errhint("Create the trigger through zdm.begin_*() only.")));
  if (entry->context != NULL) MemoryContextDelete(entry->context);
  entry->context = NULL;
  entry->stale = false;
  MemoryContext context =
      AllocSetContextCreate(CacheMemoryContext, "zdm dual-write cache", ALLOCSET_SMALL_SIZES);
  entry->context = context;
  MemoryContext old = MemoryContextSwitchTo(context);
  int nops = nargs / 6;
  CompiledOp* ops = static_cast<CompiledOp*>(palloc0(sizeof(CompiledOp) * (nops + 1)));
  for (int i = 0; i < nops; i++) {
    char** arg = trigger->tgargs + i * 6;
    CompiledOp& op = ops[i];
    const char* kind = arg[0];
    if (strcmp(kind, "rename") == 0)
      op.kind = OpKind::Rename;
    else if (strcmp(kind, "add_column") == 0)
      op.kind = OpKind::AddColumn;
    else if (strcmp(kind, "drop_column") == 0)
      op.kind = OpKind::DropColumn;
    else if (strcmp(kind, "alter_type") == 0)
      op.kind = OpKind::AlterType;
    else
      ereport(ERROR,
              (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
               errmsg("zdm: unknown operation \"%s\" on trigger \"%s\"", kind, trigger->tgname),
               errhint("The installed zdm library is older than its catalog; update it.")));
    op.migration = pstrdup(arg[1]);
    // zdm lists a migration's operations together; a new name starts a group.
    op.group = i == 0 ? 0 : ops[i - 1].group + (strcmp(ops[i - 1].migration, op.migration) != 0);
    op.table = pstrdup(RelationGetRelationName(rel));
    op.old_name = pstrdup(arg[2]);
    op.new_name = pstrdup(arg[3]);
    Form_pg_attribute old_att = NULL, new_att = NULL;
    if (arg[2][0] != '\0') {
      op.old_attno = attno_by_name(desc, rel, arg[2]);
      old_att = TupleDescAttr(desc, op.old_attno - 1);
      op.old_byval = old_att->attbyval;
      op.old_len = old_att->attlen;
      op.old_has_default = old_att->atthasdef;
    }
    if (arg[3][0] != '\0') {
      op.new_attno = attno_by_name(desc, rel, arg[3]);
      new_att = TupleDescAttr(desc, op.new_attno - 1);
      op.new_byval = new_att->attbyval;
      op.new_len = new_att->attlen;
      op.new_has_default = new_att->atthasdef;
    }
    // A plain copy moves a datum from one column to the other as it is: the two
    // must share one type, or the copy would be garbage (or a crash) on read.
    if (old_att != NULL && new_att != NULL && (arg[4][0] == '\0' || arg[5][0] == '\0') &&
        old_att->atttypid != new_att->atttypid)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("zdm: columns \"%s\" and \"%s\" of table \"%s\" no longer have "
                             "the same type",
                             NameStr(old_att->attname), NameStr(new_att->attname),
                             RelationGetRelationName(rel)),
                      errhint("The table was changed by hand during a migration; abort the "
                              "migration with zdm.abort().")));
    ErrorContextCallback callback;
    callback.callback = compile_context;
    callback.arg = &op;
    callback.previous = error_context_stack;
    error_context_stack = &callback;
    if (arg[4][0] != '\0' && new_att != NULL)
      op.up = compile(rel, arg[4], new_att, "up", &op.up_reads, &op.up_calls);
    else if (old_att != NULL && new_att != NULL)
      op.up_reads = one_column(op.old_attno);
    if (arg[5][0] != '\0' && old_att != NULL)
      op.down = compile(rel, arg[5], old_att, "down", &op.down_reads, &op.down_calls);
    else if (old_att != NULL && new_att != NULL)
      op.down_reads = one_column(op.new_attno);
    error_context_stack = callback.previous;
  }
  // The columns a constraint reads: NOT NULL, or an expression of a CHECK
  // (zdm's own CHECK (c IS NOT NULL) NOT VALID during the window among them).
  bool* constrained = static_cast<bool*>(palloc0(sizeof(bool) * (desc->natts + 1)));
  for (int a = 1; a <= desc->natts; a++) constrained[a] = TupleDescAttr(desc, a - 1)->attnotnull;
  if (desc->constr != NULL)
    for (int c = 0; c < desc->constr->num_check; c++) {
      Bitmapset* read = NULL;
      pull_varattnos(static_cast<Node*>(stringToNode(desc->constr->check[c].ccbin)), 1, &read);
      for (int a = 1; a <= desc->natts; a++)
        constrained[a] |= bms_is_member(a - FirstLowInvalidHeapAttributeNumber, read);
    }
  for (int i = 0; i < nops; i++) {
    CompiledOp& op = ops[i];
    if (op.new_attno != InvalidAttrNumber)
      op.fill_when_null =
          (op.up == NULL && op.old_attno != InvalidAttrNumber) || constrained[op.new_attno];
  }
  pfree(constrained);
  entry->ops = ops;
  entry->nops = nops;
  entry->recompute = static_cast<bool*>(palloc0(sizeof(bool) * (nops + 1)));
  entry->ngroups = nops == 0 ? 0 : ops[nops - 1].group + 1;
  entry->group_end = static_cast<int*>(palloc0(sizeof(int) * (entry->ngroups + 1)));
  for (int i = 0; i < nops; i++) entry->group_end[ops[i].group] = i + 1;
  entry->natts = desc->natts;
  // A private copy of the descriptor: a slot on the relcache's own one would
  // pin it in the current resource owner, which this entry outlives.
  entry->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(desc), &TTSOpsVirtual);
  entry->values = entry->slot->tts_values;
  entry->nulls = entry->slot->tts_isnull;
  entry->econtext = CreateStandaloneExprContext();
  entry->old_values = static_cast<Datum*>(palloc0(sizeof(Datum) * (desc->natts + 1)));
  entry->old_nulls = static_cast<bool*>(palloc0(sizeof(bool) * (desc->natts + 1)));
  entry->touched = static_cast<bool*>(palloc0(sizeof(bool) * (desc->natts + 1)));
  entry->differs = static_cast<bool*>(palloc0(sizeof(bool) * (desc->natts + 1)));
  bool* watch = static_cast<bool*>(palloc0(sizeof(bool) * (desc->natts + 1)));
  for (int i = 0; i < nops; i++) {
    const CompiledOp& op = ops[i];
    watch[op.old_attno] = watch[op.new_attno] = true;
    for (int k = 0; k < op.up_reads.n; k++) watch[op.up_reads.attnos[k]] = true;
    for (int k = 0; k < op.down_reads.n; k++) watch[op.down_reads.attnos[k]] = true;
  }
  entry->watched = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber) * (desc->natts + 1)));
  entry->nwatched = 0;
  for (int a = 1; a <= desc->natts; a++)
    if (watch[a]) entry->watched[entry->nwatched++] = static_cast<AttrNumber>(a);
  pfree(watch);
  set_row_key(entry, rel);
  MemoryContextSwitchTo(old);
  entry->tgoid = trigger->tgoid;
  entry->forced_generation = 0;
  entry->forced_group = -1;
  // An invalidation that arrived while compiling applies to what was read.
  entry->valid = !entry->stale;
}

DualWriteEntry* entry_for(Relation rel, Trigger* trigger) {
  if (entries == NULL) {
    HASHCTL ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = sizeof(DualWriteEntry);
    ctl.hcxt = CacheMemoryContext;
    entries = hash_create("zdm dual-write cache entries", 32, &ctl,
                          HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
  }
  Oid relid = RelationGetRelid(rel);
  bool found;
  DualWriteEntry* entry =
      static_cast<DualWriteEntry*>(hash_search(entries, &relid, HASH_ENTER, &found));
  if (!found) {
    entry->context = NULL;
    entry->valid = false;
    entry->listed = false;
  }
  if (!entry->valid || entry->tgoid != trigger->tgoid) {
    entry->valid = false;  // stays invalid if the build fails
    build_entry(entry, rel, trigger);
  }
  return entry;
}

// The group of the migration the backfill is converting, or -1.
int forced_group(DualWriteEntry* entry) {
  if (entry->forced_generation != zdm_forced_generation) {
    entry->forced_group = -1;
    for (int i = 0; i < entry->nops; i++)
      if (strcmp(entry->ops[i].migration, zdm_forced_migration) == 0) {
        entry->forced_group = entry->ops[i].group;
        break;
      }
    entry->forced_generation = zdm_forced_generation;
  }
  return entry->forced_group;
}

inline bool same_value(Datum a, bool a_null, Datum b, bool b_null, bool byval, int16 len) {
  if (a_null || b_null) return a_null && b_null;
  return datumIsEqual(a, b, byval, len);
}

using zdm::core::Side;
using zdm::core::WriterSetting;

struct RowEdit {
  DualWriteEntry* entry;
  Datum* values;
  bool* nulls;
  bool* touched;
  bool* differs;
  bool changed;
  bool used_slot;
};

bool any_touched(const RowEdit& edit, const Reads& reads) {
  for (int k = 0; k < reads.n; k++)
    if (edit.touched[reads.attnos[k]]) return true;
  return false;
}

bool reads_column(const Reads& reads, AttrNumber attno) {
  for (int k = 0; k < reads.n; k++)
    if (reads.attnos[k] == attno) return true;
  return false;
}

void set_value(RowEdit& edit, int attr, bool byval, int16 len, Datum value, bool isnull) {
  if (same_value(value, isnull, edit.values[attr], edit.nulls[attr], byval, len)) return;
  edit.values[attr] = value;
  edit.nulls[attr] = isnull;
  edit.changed = true;
  // What this write changes is touched for the operations after it (another
  // migration's up may read it).
  edit.touched[attr + 1] = edit.differs[attr + 1] = true;
}

// Evaluates `expr` over the row as it stands: the slot's arrays are the row.
Datum evaluate(RowEdit& edit, const CompiledOp& op, ExprState* expr, bool up, bool* isnull) {
  DualWriteEntry* entry = edit.entry;
  if (!edit.used_slot) {
    TupleTableSlot* slot = entry->slot;
    if (!TTS_EMPTY(slot)) ExecClearTuple(slot);  // left stored by a row that failed
    ExecStoreVirtualTuple(slot);
    entry->econtext->ecxt_scantuple = slot;
    edit.used_slot = true;
  }
  Computing computing{entry, &op, up};
  ErrorContextCallback callback;
  callback.callback = expression_context;
  callback.arg = &computing;
  callback.previous = error_context_stack;
  error_context_stack = &callback;
  require_execute(op, up ? op.up_calls : op.down_calls, up);
  Datum value = ExecEvalExprSwitchContext(expr, entry->econtext, isnull);
  error_context_stack = callback.previous;
  return value;
}

// The new column from the old side. `copies` selects the plain copies (run
// first) or the up expressions (run after them, so they see the copies).
void compute_new(RowEdit& edit, const CompiledOp& op, bool copies) {
  if (op.new_attno == InvalidAttrNumber) return;
  const int n = op.new_attno - 1;
  if (op.up != NULL) {
    if (copies) return;
    bool isnull;
    Datum value = evaluate(edit, op, op.up, true, &isnull);
    set_value(edit, n, op.new_byval, op.new_len, value, isnull);
  } else if (copies && op.old_attno != InvalidAttrNumber) {
    const int o = op.old_attno - 1;
    set_value(edit, n, op.new_byval, op.new_len, edit.values[o], edit.nulls[o]);
  }
}

// The old column from the new side: down, or a copy.
void compute_old(RowEdit& edit, const CompiledOp& op, bool copies) {
  if (op.old_attno == InvalidAttrNumber) return;
  const int o = op.old_attno - 1;
  if (op.down != NULL) {
    if (copies) return;
    bool isnull;
    Datum value = evaluate(edit, op, op.down, false, &isnull);
    set_value(edit, o, op.old_byval, op.old_len, value, isnull);
  } else if (copies && op.new_attno != InvalidAttrNumber) {
    const int n = op.new_attno - 1;
    set_value(edit, o, op.old_byval, op.old_len, edit.values[n], edit.nulls[n]);
  }
}

// INSERT: the side of one migration's write, from the columns it filled. Its
// new-side columns are the renamed and added ones, its old-side columns the
// original names and the dropped ones.
Side insert_side(const DualWriteEntry* entry, int first, int end, WriterSetting writer) {
  const bool* nulls = entry->nulls;
  bool old_filled = false, new_filled = false, has_new = false, has_old = false,
       dropped_left_out = false;
  for (int i = first; i < end; i++) {
    const CompiledOp& op = entry->ops[i];
    if (op.old_attno != InvalidAttrNumber) {
      has_old = true;
      old_filled |= !nulls[op.old_attno - 1];
      if (op.new_attno == InvalidAttrNumber) dropped_left_out |= nulls[op.old_attno - 1];
    }
    if (op.new_attno != InvalidAttrNumber) {
      has_new = true;
      new_filled |= !nulls[op.new_attno - 1];
    }
  }
  if (!has_new) return zdm::core::insert_side_dropping_only(writer, dropped_left_out);
  return zdm::core::insert_side(writer, old_filled, new_filled, has_old);
}

// UPDATE: a side is written when the write touched one of its columns.
Side update_side(const RowEdit& edit, int first, int end, WriterSetting writer) {
  using zdm::core::Write;
  Write sides[2] = {Write::None, Write::None};
  for (int i = first; i < end; i++) {
    const CompiledOp& op = edit.entry->ops[i];
    const AttrNumber cols[2] = {op.old_attno, op.new_attno};
    for (int k = 0; k < 2; k++) {
      const AttrNumber a = cols[k];
      if (a == InvalidAttrNumber || !edit.touched[a]) continue;
      if (edit.differs[a])
        sides[k] = Write::Changed;
      else if (sides[k] == Write::None)
        sides[k] = Write::Same;
    }
  }
  return zdm::core::update_side(writer, sides[0], sides[1]);
}

// A logical replication worker applying a row that carries both sides of one
// migration: the publisher has the migration open too, and its trigger made
// the two sides agree. Recomputing one side from the other would change what a
// lossy conversion does not round-trip (alter_type numeric -> integer: the
// publisher keeps 2.5 beside 3; new side wins would write 3 to both), so the
// row stays as it arrived. On UPDATE the apply worker assigns exactly the
// columns the publisher sent (tg_updatedcols); on INSERT a column it did not
// send holds NULL or its default, so there a column with a default never
// counts as sent. A row missing a side (the publisher has not begun, or has
// finished) is converted as any write is.
bool carries_both_sides(const RowEdit& edit, int first, int end, bool is_update) {
  bool has_old = false, has_new = false;
  for (int i = first; i < end; i++) {
    const CompiledOp& op = edit.entry->ops[i];
    const AttrNumber cols[2] = {op.old_attno, op.new_attno};
    const bool defaults[2] = {op.old_has_default, op.new_has_default};
    for (int k = 0; k < 2; k++) {
      const AttrNumber a = cols[k];
      if (a == InvalidAttrNumber) continue;
      if (is_update ? !edit.touched[a] : edit.nulls[a - 1] || defaults[k]) return false;
      (k == 0 ? has_old : has_new) = true;
    }
  }
  return has_old && has_new;
}

// A new column this UPDATE left NULL and did not touch: a row the backfill
// has not reached (or one whose up gave NULL).
inline bool hole(const RowEdit& edit, const CompiledOp& op, bool is_update) {
  return is_update && op.new_attno != InvalidAttrNumber && edit.nulls[op.new_attno - 1] &&
         !edit.touched[op.new_attno];
}

// One migration's operations [first, end). `all`: convert every operation
// (an INSERT, or the backfill). Otherwise an UPDATE converts only what it
// touched: an operation whose inputs and target it did not touch is already
// consistent or is a row the backfill has not converted yet, and computing it
// could only fail on a legacy value the write never mentioned. A hole is
// filled when that cannot fail or a constraint needs it (fill_when_null), and
// on a new-side write when a down about to run reads it.
void convert_group(RowEdit& edit, int first, int end, Side side, bool all, bool is_update) {
  DualWriteEntry* entry = edit.entry;
  const CompiledOp* ops = entry->ops;
  bool* recompute = entry->recompute;
  if (side == Side::Old) {
    // The new side from the old: copies first, then up.
    for (int pass = 0; pass < 2; pass++)
      for (int i = first; i < end; i++) {
        const CompiledOp& op = ops[i];
        if (op.new_attno == InvalidAttrNumber || (op.up == NULL) != (pass == 0)) continue;
        if (all || edit.touched[op.new_attno] || any_touched(edit, op.up_reads) ||
            (op.fill_when_null && hole(edit, op, is_update)))
          compute_new(edit, op, pass == 0);
      }
    return;
  }
  // The old side from the new, for the operations whose old column or whose
  // down inputs the write touched.
  for (int i = first; i < end; i++) {
    const CompiledOp& op = ops[i];
    recompute[i] = op.old_attno != InvalidAttrNumber &&
                   (op.down != NULL || op.new_attno != InvalidAttrNumber) &&
                   (all || edit.touched[op.old_attno] || any_touched(edit, op.down_reads));
  }
  // Holes first, from the old side, so that down never reads one. A NULL the
  // write assigned is no hole: it stays.
  for (int pass = 0; pass < 2; pass++)
    for (int j = first; j < end; j++) {
      const CompiledOp& op = ops[j];
      if ((op.up == NULL) != (pass == 0) || !hole(edit, op, is_update)) continue;
      bool fill = op.fill_when_null;
      for (int i = first; i < end && !fill; i++)
        fill = recompute[i] && reads_column(ops[i].down_reads, op.new_attno);
      if (fill) compute_new(edit, op, pass == 0);
    }
  for (int pass = 0; pass < 2; pass++)
    for (int i = first; i < end; i++)
      if (recompute[i]) compute_old(edit, ops[i], pass == 0);
}

}  // namespace

void zdm_dual_write_init(void) {
  CacheRegisterRelcacheCallback(invalidate_relation, (Datum)0);
  CacheRegisterSyscacheCallback(PROCOID, invalidate_on_function_change, (Datum)0);
  CacheRegisterSyscacheCallback(AUTHOID, invalidate_on_role_change, (Datum)0);
  CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, invalidate_on_role_change, (Datum)0);
  RegisterXactCallback(evict_entries, NULL);
}

int zdm_dual_write_cache_entries(void) {
  return entries == NULL ? 0 : static_cast<int>(hash_get_num_entries(entries));
}

extern "C" Datum zdm_dual_write_trigger(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("zdm.dual_write_trigger() must be called as a trigger")));
  TriggerData* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
      !(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("zdm.dual_write_trigger() must fire BEFORE INSERT OR UPDATE FOR "
                           "EACH ROW")));

  const bool is_update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
  HeapTuple row = is_update ? td->tg_newtuple : td->tg_trigtuple;
  TupleDesc desc = RelationGetDescr(td->tg_relation);

  // The entry is found through fn_extra, which lives as long as the statement:
  // no hash lookup per row. The cache callbacks clear `valid` when the table,
  // its trigger or a function changes.
  DualWriteEntry* entry = static_cast<DualWriteEntry*>(fcinfo->flinfo->fn_extra);
  if (entry == NULL || !entry->valid || entry->tgoid != td->tg_trigger->tgoid ||
      entry->relid != RelationGetRelid(td->tg_relation)) {
    entry = entry_for(td->tg_relation, td->tg_trigger);
    fcinfo->flinfo->fn_extra = entry;
  }

  const WriterSetting writer = static_cast<WriterSetting>(zdm_writer);
  const int forced = zdm_forced_relid == entry->relid ? forced_group(entry) : -1;
  const bool applying = IsLogicalWorker();

  Datum* values = entry->values;
  bool* nulls = entry->nulls;
  heap_deform_tuple(row, desc, values, nulls);
  RowEdit edit{entry, values, nulls, entry->touched, entry->differs, false, false};
  if (is_update) {
    // Touched: assigned by the statement (its SET list, for ON CONFLICT DO
    // UPDATE and MERGE too), or changed by a BEFORE trigger.
    heap_deform_tuple(td->tg_trigtuple, desc, entry->old_values, entry->old_nulls);
    const Bitmapset* assigned = td->tg_updatedcols;
    for (int w = 0; w < entry->nwatched; w++) {
      const AttrNumber attno = entry->watched[w];
      const int a = attno - 1;
      Form_pg_attribute att = TupleDescAttr(desc, a);
      edit.differs[attno] = !same_value(entry->old_values[a], entry->old_nulls[a], values[a],
                                        nulls[a], att->attbyval, att->attlen);
      edit.touched[attno] = edit.differs[attno] ||
                            bms_is_member(attno - FirstLowInvalidHeapAttributeNumber, assigned);
    }
  }
  for (int g = 0, first = 0; g < entry->ngroups; g++) {
    const int end = entry->group_end[g];
    if (applying && g != forced && carries_both_sides(edit, first, end, is_update)) {
      first = end;
      continue;
    }
    Side side;
    if (g == forced)
      side = Side::Old;  // the backfill converts the row from the old side
    else if (is_update)
      side = update_side(edit, first, end, writer);
    else
      side = insert_side(entry, first, end, writer);
    convert_group(edit, first, end, side, !is_update || g == forced, is_update);
    first = end;
  }
  HeapTuple result = row;
  if (edit.changed) {
    result = heap_form_tuple(desc, values, nulls);
    // Keep the row's identity (t_self, t_tableOid), as heap_modify_tuple does.
    result->t_data->t_ctid = row->t_data->t_ctid;
    result->t_self = row->t_self;
    result->t_tableOid = row->t_tableOid;
  }
  if (edit.used_slot) {
    ExecClearTuple(entry->slot);
    ResetExprContext(entry->econtext);
  }
  return PointerGetDatum(result);
}
