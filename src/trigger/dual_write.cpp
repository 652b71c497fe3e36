// Hot path. Per row: deform the row, compare datums, and at most one
// heap_form_tuple. That is what heap_modify_tuple_by_cols does, minus its two
// palloc'd arrays per row: the arrays live in the cached plan instead (measured
// with callgrind: 1,650 -> 1,100 instructions per row). No SPI, no catalog
// lookups, no string compares and no allocation beyond the result tuple:
// everything else is planned once per relation from the trigger's arguments and
// cached in CacheMemoryContext.
#include "trigger/dual_write.hpp"

#include <cstring>

#include "core/model.hpp"
#include "core/writer.hpp"
#include "pg/guc.hpp"
#include "pg/expression.hpp"
#include "pg/postgres.hpp"

extern "C" {
bool zdm_force_old_side = false;
PGDLLEXPORT PG_FUNCTION_INFO_V1(zdm_dual_write_trigger);
}

namespace {

using zdm::core::OpKind;

// One operation: an old-side and a new-side column (either may be absent),
// and how each is computed from the other side: an expression, or when there
// is none and both columns exist, a plain copy (rename).
struct PlannedOp {
  OpKind kind;
  int group;             // the operations of one migration form a group and share a side
  AttrNumber old_attno;  // 0 when absent (add_column)
  AttrNumber new_attno;  // 0 when absent (drop_column)
  bool old_byval, new_byval;
  int16 old_len, new_len;
  ExprState* up;    // new column from the row; NULL: copy, or nothing
  ExprState* down;  // old column from the row; NULL: copy, or nothing
  const char* migration;
  const char* old_name;
  const char* new_name;
  const char* table;
};

struct DualWritePlan {
  Oid relid;  // hash key
  Oid tgoid;
  bool valid;
  MemoryContext context;  // everything below; deleted when the plan is rebuilt
  int nops;
  PlannedOp* ops;
  // The row is deformed into these, edited in place and formed again: sized
  // once per relation, so a row costs no palloc beyond the result tuple.
  int natts;
  Datum* values;
  bool* nulls;
  int ngroups;
  // Expressions read the row as it stands (after the operations before them)
  // through this virtual slot.
  TupleTableSlot* slot;
  ExprContext* econtext;
};

HTAB* plans = NULL;

void invalidate_plan(Datum, Oid relid) {
  if (plans == NULL) return;
  if (relid == InvalidOid) {
    HASH_SEQ_STATUS status;
    DualWritePlan* plan;
    hash_seq_init(&status, plans);
    while ((plan = static_cast<DualWritePlan*>(hash_seq_search(&status))) != NULL)
      plan->valid = false;
    return;
  }
  DualWritePlan* plan = static_cast<DualWritePlan*>(hash_search(plans, &relid, HASH_FIND, NULL));
  if (plan != NULL) plan->valid = false;
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

// Names the migration and the column when an up/down expression fails on a row
// (a failed cast, a division by zero), or when it cannot be compiled.
struct Computing {
  const PlannedOp* op;
  bool up;
};

void expression_context(void* arg) {
  const Computing* c = static_cast<const Computing*>(arg);
  errcontext(
      "zdm: computing column \"%s\" of table \"%s\" with the %s expression of "
      "migration \"%s\"",
      c->up ? c->op->new_name : c->op->old_name, c->op->table, c->up ? "up" : "down",
      c->op->migration);
}

void compile_context(void* arg) {
  const PlannedOp* op = static_cast<const PlannedOp*>(arg);
  errcontext("zdm: compiling an expression of migration \"%s\" on table \"%s\"", op->migration,
             op->table);
}

// Compiles an operation's expression with search_path pinned to pg_catalog:
// the text was normalized at begin, so every other name in it is qualified.
ExprState* compile(Relation rel, const char* text, Form_pg_attribute target, const char* what) {
  int level = NewGUCNestLevel();
  (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                          GUC_ACTION_SAVE, true, 0, false);
  Expr* expr = zdm_cook_expression(rel, text, target->atttypid, target->atttypmod, what);
  expr = expression_planner(expr);
  AtEOXact_GUC(true, level);
  return ExecInitExpr(expr, NULL);
}

// Parses the trigger's arguments, six per operation: kind, migration, old-side
// column, new-side column, up, down (see zdm::core::trigger_args).
void build_plan(DualWritePlan* plan, Relation rel, Trigger* trigger) {
  TupleDesc desc = RelationGetDescr(rel);
  int nargs = trigger->tgnargs;
  if (nargs % 6 != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("zdm: malformed arguments on trigger \"%s\"", trigger->tgname),
                    errhint("Create the trigger through zdm.begin_*() only.")));
  if (plan->context != NULL) MemoryContextDelete(plan->context);
  plan->context = NULL;
  MemoryContext context =
      AllocSetContextCreate(CacheMemoryContext, "zdm dual-write plan", ALLOCSET_SMALL_SIZES);
  plan->context = context;
  MemoryContext old = MemoryContextSwitchTo(context);
  int nops = nargs / 6;
  PlannedOp* ops = static_cast<PlannedOp*>(palloc0(sizeof(PlannedOp) * (nops + 1)));
  for (int i = 0; i < nops; i++) {
    char** arg = trigger->tgargs + i * 6;
    PlannedOp& op = ops[i];
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
    }
    if (arg[3][0] != '\0') {
      op.new_attno = attno_by_name(desc, rel, arg[3]);
      new_att = TupleDescAttr(desc, op.new_attno - 1);
      op.new_byval = new_att->attbyval;
      op.new_len = new_att->attlen;
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
    callback.previous = error_context_stack;
    error_context_stack = &callback;
    if (arg[4][0] != '\0' && new_att != NULL) {
      callback.arg = &op;
      op.up = compile(rel, arg[4], new_att, "up");
    }
    if (arg[5][0] != '\0' && old_att != NULL) {
      callback.arg = &op;
      op.down = compile(rel, arg[5], old_att, "down");
    }
    error_context_stack = callback.previous;
  }
  plan->ops = ops;
  plan->nops = nops;
  plan->ngroups = nops == 0 ? 0 : ops[nops - 1].group + 1;
  plan->natts = desc->natts;
  plan->values = static_cast<Datum*>(palloc0(sizeof(Datum) * (desc->natts + 1)));
  plan->nulls = static_cast<bool*>(palloc0(sizeof(bool) * (desc->natts + 1)));
  // A private copy of the descriptor: a slot on the relcache's own one would
  // pin it in the current resource owner, which this plan outlives.
  plan->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(desc), &TTSOpsVirtual);
  plan->econtext = CreateStandaloneExprContext();
  MemoryContextSwitchTo(old);
  plan->tgoid = trigger->tgoid;
  plan->valid = true;
}

DualWritePlan* plan_for(Relation rel, Trigger* trigger) {
  if (plans == NULL) {
    HASHCTL ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = sizeof(DualWritePlan);
    ctl.hcxt = CacheMemoryContext;
    plans = hash_create("zdm dual-write plans", 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
  }
  Oid relid = RelationGetRelid(rel);
  bool found;
  DualWritePlan* plan = static_cast<DualWritePlan*>(hash_search(plans, &relid, HASH_ENTER, &found));
  if (!found) {
    plan->context = NULL;
    plan->valid = false;
  }
  if (!plan->valid || plan->tgoid != trigger->tgoid) {
    plan->valid = false;  // stays invalid if the build fails
    build_plan(plan, rel, trigger);
  }
  return plan;
}

inline bool same_value(Datum a, bool a_null, Datum b, bool b_null, bool byval, int16 len) {
  if (a_null || b_null) return a_null && b_null;
  return datumIsEqual(a, b, byval, len);
}

using zdm::core::Side;
using zdm::core::WriterSetting;

// The side of one migration's write: its new-side columns are the renamed and
// added ones, its old-side columns the original names and the dropped ones.
Side side_of(const DualWritePlan* plan, int first, int end, WriterSetting writer, bool is_update,
             HeapTuple before, TupleDesc desc, const Datum* values, const bool* nulls) {
  bool new_filled = false, new_changed = false, old_changed = false, has_new = false,
       dropped_left_out = false;
  for (int i = first; i < end; i++) {
    const PlannedOp& op = plan->ops[i];
    AttrNumber cols[2] = {op.old_attno, op.new_attno};
    for (int k = 0; k < 2; k++) {
      if (cols[k] == InvalidAttrNumber) continue;
      const int a = cols[k] - 1;
      const bool is_new = k == 1;
      has_new |= is_new;
      if (is_new) new_filled |= !nulls[a];
      if (!is_new && op.new_attno == InvalidAttrNumber) dropped_left_out |= nulls[a];
      if (is_update) {
        bool was_null;
        Datum was = heap_getattr(before, cols[k], desc, &was_null);
        Form_pg_attribute att = TupleDescAttr(desc, a);
        bool same = (was_null || nulls[a])
                        ? (was_null && nulls[a])
                        : datumIsEqual(was, values[a], att->attbyval, att->attlen);
        (is_new ? new_changed : old_changed) |= !same;
      }
    }
  }
  if (is_update) return zdm::core::update_side(writer, old_changed, new_changed);
  if (!has_new) return zdm::core::insert_side_dropping_only(writer, dropped_left_out);
  return zdm::core::insert_side(writer, new_filled);
}

struct RowEdit {
  DualWritePlan* plan;
  Datum* values;
  bool* nulls;
  bool changed;
  bool used_slot;
  HeapTuple before;  // the row before an UPDATE; NULL for an INSERT
  TupleDesc desc;
};

void set_value(RowEdit& edit, int attr, bool byval, int16 len, Datum value, bool isnull) {
  if (same_value(value, isnull, edit.values[attr], edit.nulls[attr], byval, len)) return;
  edit.values[attr] = value;
  edit.nulls[attr] = isnull;
  edit.changed = true;
}

// Evaluates `expr` over the row as it stands.
Datum evaluate(RowEdit& edit, const PlannedOp& op, ExprState* expr, bool up, bool* isnull) {
  DualWritePlan* plan = edit.plan;
  TupleTableSlot* slot = plan->slot;
  ExecClearTuple(slot);
  memcpy(slot->tts_values, edit.values, sizeof(Datum) * plan->natts);
  memcpy(slot->tts_isnull, edit.nulls, sizeof(bool) * plan->natts);
  ExecStoreVirtualTuple(slot);
  plan->econtext->ecxt_scantuple = slot;
  edit.used_slot = true;

  Computing computing{&op, up};
  ErrorContextCallback callback;
  callback.callback = expression_context;
  callback.arg = &computing;
  callback.previous = error_context_stack;
  error_context_stack = &callback;
  Datum value = ExecEvalExprSwitchContext(expr, plan->econtext, isnull);
  error_context_stack = callback.previous;
  return value;
}

// The new column from the old side: up, or a copy. `only_if_null` fills only a
// new column that is still NULL because the backfill has not reached the row:
// an UPDATE that left a NULL there untouched. A NULL the new app writes on
// purpose (an INSERT, or an UPDATE that sets it) stays.
void compute_new(RowEdit& edit, const PlannedOp& op, bool copies, bool only_if_null) {
  if (op.new_attno == InvalidAttrNumber) return;
  const int n = op.new_attno - 1;
  if (only_if_null) {
    if (!edit.nulls[n] || edit.before == NULL) return;
    bool was_null;
    (void)heap_getattr(edit.before, op.new_attno, edit.desc, &was_null);
    if (!was_null) return;
  }
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
void compute_old(RowEdit& edit, const PlannedOp& op, bool copies) {
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

}  // namespace

void zdm_dual_write_init(void) { CacheRegisterRelcacheCallback(invalidate_plan, (Datum)0); }

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
  HeapTuple before = is_update ? td->tg_trigtuple : NULL;
  TupleDesc desc = RelationGetDescr(td->tg_relation);

  // The plan is found through fn_extra, which lives as long as the statement:
  // no hash lookup per row. The relcache callback clears `valid` when the
  // table or its trigger changes.
  DualWritePlan* plan = static_cast<DualWritePlan*>(fcinfo->flinfo->fn_extra);
  if (plan == NULL || !plan->valid || plan->tgoid != td->tg_trigger->tgoid ||
      plan->relid != RelationGetRelid(td->tg_relation)) {
    plan = plan_for(td->tg_relation, td->tg_trigger);
    fcinfo->flinfo->fn_extra = plan;
  }

  const WriterSetting writer =
      zdm_force_old_side ? WriterSetting::Old : static_cast<WriterSetting>(zdm_writer);

  Datum* values = plan->values;
  bool* nulls = plan->nulls;
  heap_deform_tuple(row, desc, values, nulls);
  RowEdit edit{plan, values, nulls, false, false, before, desc};
  for (int g = 0, first = 0; g < plan->ngroups; g++) {
    int end = first;
    while (end < plan->nops && plan->ops[end].group == g) end++;
    const Side side = side_of(plan, first, end, writer, is_update, before, desc, values, nulls);
    if (side == Side::Old) {
      // The new side is computed from the old: copies first, then up.
      for (int i = first; i < end; i++) compute_new(edit, plan->ops[i], true, false);
      for (int i = first; i < end; i++) compute_new(edit, plan->ops[i], false, false);
    } else {
      // The old side is computed from the new. A new column this write left
      // NULL (a row the backfill has not reached yet) is filled from the old
      // side first, so that down never reads a hole.
      for (int i = first; i < end; i++) compute_new(edit, plan->ops[i], false, true);
      for (int i = first; i < end; i++) compute_old(edit, plan->ops[i], true);
      for (int i = first; i < end; i++) compute_old(edit, plan->ops[i], false);
    }
    first = end;
  }
  const bool changed = edit.changed;
  const bool row_in_slot = edit.used_slot;
  HeapTuple result = row;
  if (changed) {
    result = heap_form_tuple(desc, values, nulls);
    // Keep the row's identity (t_self, t_tableOid), as heap_modify_tuple does.
    result->t_data->t_ctid = row->t_data->t_ctid;
    result->t_self = row->t_self;
    result->t_tableOid = row->t_tableOid;
  }
  if (row_in_slot) {
    ExecClearTuple(plan->slot);
    ResetExprContext(plan->econtext);
  }
  return PointerGetDatum(result);
}
