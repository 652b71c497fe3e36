// Hot path. Per row: read a few attributes, compare datums, and at most one
// heap_modify_tuple_by_cols. No SPI, no catalog lookups, no string compares and
// no allocation beyond the result tuple: everything else is planned once per
// relation from the trigger's arguments and cached in CacheMemoryContext.
#include "trigger/dual_write.hpp"

#include <cstring>

#include "core/writer.hpp"
#include "pg/guc.hpp"
#include "pg/postgres.hpp"

extern "C" {
bool zdm_force_old_side = false;
PGDLLEXPORT PG_FUNCTION_INFO_V1(zdm_dual_write_trigger);
}

namespace {

enum class OpKind { Rename };

struct PlannedOp {
  OpKind kind;
  AttrNumber old_attno;  // old-side column
  AttrNumber new_attno;  // new-side column
  bool byval;
  int16 len;
};

struct DualWritePlan {
  Oid relid;  // hash key
  Oid tgoid;
  bool valid;
  int nops;
  PlannedOp* ops;
  // Scratch for heap_modify_tuple_by_cols, sized once: no per-row palloc.
  int* cols;
  Datum* values;
  bool* nulls;
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

void free_plan_arrays(DualWritePlan* plan) {
  if (plan->ops) pfree(plan->ops);
  if (plan->cols) pfree(plan->cols);
  if (plan->values) pfree(plan->values);
  if (plan->nulls) pfree(plan->nulls);
  plan->ops = NULL;
  plan->cols = NULL;
  plan->values = NULL;
  plan->nulls = NULL;
  plan->nops = 0;
}

// Parses the trigger's arguments: ("rename", old, new)*.
void build_plan(DualWritePlan* plan, Relation rel, Trigger* trigger) {
  TupleDesc desc = RelationGetDescr(rel);
  int nargs = trigger->tgnargs;
  if (nargs % 3 != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("zdm: malformed arguments on trigger \"%s\"", trigger->tgname)));
  int nops = nargs / 3;
  free_plan_arrays(plan);
  MemoryContext old = MemoryContextSwitchTo(CacheMemoryContext);
  PlannedOp* ops = static_cast<PlannedOp*>(palloc0(sizeof(PlannedOp) * (nops + 1)));
  int* cols = static_cast<int*>(palloc0(sizeof(int) * (nops + 1)));
  Datum* values = static_cast<Datum*>(palloc0(sizeof(Datum) * (nops + 1)));
  bool* nulls = static_cast<bool*>(palloc0(sizeof(bool) * (nops + 1)));
  MemoryContextSwitchTo(old);
  for (int i = 0; i < nops; i++) {
    const char* kind = trigger->tgargs[i * 3];
    if (strcmp(kind, "rename") != 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("zdm: unknown operation \"%s\" on trigger \"%s\"", kind,
                             trigger->tgname),
                      errhint("The installed zdm library is older than its catalog; update it.")));
    ops[i].kind = OpKind::Rename;
    ops[i].old_attno = attno_by_name(desc, rel, trigger->tgargs[i * 3 + 1]);
    ops[i].new_attno = attno_by_name(desc, rel, trigger->tgargs[i * 3 + 2]);
    Form_pg_attribute att = TupleDescAttr(desc, ops[i].old_attno - 1);
    ops[i].byval = att->attbyval;
    ops[i].len = att->attlen;
  }
  plan->ops = ops;
  plan->cols = cols;
  plan->values = values;
  plan->nulls = nulls;
  plan->nops = nops;
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
    plan->ops = NULL;
    plan->cols = NULL;
    plan->values = NULL;
    plan->nulls = NULL;
    plan->nops = 0;
    plan->valid = false;
  }
  if (!plan->valid || plan->tgoid != trigger->tgoid) {
    plan->valid = false;  // stays invalid if the build fails
    build_plan(plan, rel, trigger);
  }
  return plan;
}

inline bool same_value(Datum a, bool a_null, Datum b, bool b_null, const PlannedOp& op) {
  if (a_null || b_null) return a_null && b_null;
  return datumIsEqual(a, b, op.byval, op.len);
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
  DualWritePlan* plan = plan_for(td->tg_relation, td->tg_trigger);

  using zdm::core::Side;
  using zdm::core::WriterSetting;
  const WriterSetting writer =
      zdm_force_old_side ? WriterSetting::Old : static_cast<WriterSetting>(zdm_writer);

  int changes = 0;
  for (int i = 0; i < plan->nops; i++) {
    const PlannedOp& op = plan->ops[i];
    bool old_null, new_null;
    Datum old_value = heap_getattr(row, op.old_attno, desc, &old_null);
    Datum new_value = heap_getattr(row, op.new_attno, desc, &new_null);
    Side side;
    if (is_update) {
      bool was_old_null, was_new_null;
      Datum was_old = heap_getattr(before, op.old_attno, desc, &was_old_null);
      Datum was_new = heap_getattr(before, op.new_attno, desc, &was_new_null);
      side = zdm::core::update_side(writer, !same_value(was_old, was_old_null, old_value, old_null, op),
                                    !same_value(was_new, was_new_null, new_value, new_null, op));
    } else {
      side = zdm::core::insert_side(writer, !new_null);
    }
    if (same_value(old_value, old_null, new_value, new_null, op)) continue;
    if (side == Side::Old) {
      plan->cols[changes] = op.new_attno;
      plan->values[changes] = old_value;
      plan->nulls[changes] = old_null;
    } else {
      plan->cols[changes] = op.old_attno;
      plan->values[changes] = new_value;
      plan->nulls[changes] = new_null;
    }
    changes++;
  }
  if (changes == 0) return PointerGetDatum(row);
  return PointerGetDatum(
      heap_modify_tuple_by_cols(row, desc, changes, plan->cols, plan->values, plan->nulls));
}
