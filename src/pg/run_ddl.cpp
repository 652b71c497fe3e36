// zdm.run_ddl(statement, force, migration): any DDL statement, run through the
// lock-safe runner (zdm.lock_timeout, jittered retries, the error naming the
// blockers, zdm.ddl_log), after a linter that refuses what takes long locks or
// rewrites the table. The linter reads the parsed statement, never its text:
// read_facts turns the parse tree into zdm::core::DdlFacts, and
// zdm::core::lint_ddl decides.
#include <cstring>

#include "core/ddl_lint.hpp"
#include "core/error.hpp"
#include "pg/boundary.hpp"
#include "pg/registry.hpp"
#include "pg/runner.hpp"
#include "pg/spi.hpp"
#include "core/state.hpp"

extern "C" {
#include "access/skey.h"
#include "commands/defrem.h"
}

namespace {

using zdm::core::AlterFacts;
using zdm::core::DdlFacts;
using zdm::core::Error;
using zdm::core::ErrorCode;

// The facts as the guarded C code fills them: plain data only, so that a
// PostgreSQL error raised while reading the parse tree crosses no destructor.
struct CAlter {
  AlterFacts::Kind kind;
  char column[NAMEDATALEN];
  bool not_valid, using_index, type_change_rewrites, has_valid_not_null_check, already_not_null,
      volatile_default, stored_generated, validates_constraint;
};

struct CFacts {
  DdlFacts::Kind kind;
  int statements;
  bool concurrently, full;
  char relation[3 * NAMEDATALEN + 4];
  Oid relid;
  int ncommands;
  CAlter* commands;
};

void set_relation(CFacts* f, RangeVar* rv) {
  if (rv == NULL) return;
  snprintf(f->relation, sizeof f->relation, "%s%s%s", rv->schemaname ? rv->schemaname : "",
           rv->schemaname ? "." : "", rv->relname);
  // Resolved as the statement will resolve it, only to name the sessions
  // holding locks on it when the retries run out.
  f->relid = RangeVarGetRelid(rv, NoLock, true);
}

bool is_serial(TypeName* type) {
  if (type == NULL || list_length(type->names) != 1) return false;
  const char* name = strVal(linitial(type->names));
  static const char* const serials[] = {"serial",  "serial4",     "bigserial",
                                        "serial8", "smallserial", "serial2"};
  for (const char* s : serials)
    if (strcmp(name, s) == 0) return true;
  return false;
}

bool volatile_expression(Node* raw) {
  ParseState* pstate = make_parsestate(NULL);
  Node* expr = transformExpr(pstate, raw, EXPR_KIND_COLUMN_DEFAULT);
  bool result = contain_volatile_functions(expr);
  free_parsestate(pstate);
  return result;
}

// Whether a validated CHECK (column IS NOT NULL) exists: SET NOT NULL then
// uses it instead of scanning the table (PostgreSQL 12+).
bool has_valid_not_null_check(Oid relid, AttrNumber attnum) {
  bool found = false;
  Relation con = table_open(ConstraintRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
              ObjectIdGetDatum(relid));
  SysScanDesc scan = systable_beginscan(con, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
  HeapTuple tuple;
  while (!found && HeapTupleIsValid(tuple = systable_getnext(scan))) {
    Form_pg_constraint c = (Form_pg_constraint)GETSTRUCT(tuple);
    if (c->contype != CONSTRAINT_CHECK || !c->convalidated) continue;
    bool isnull;
    Datum bin = heap_getattr(tuple, Anum_pg_constraint_conbin, RelationGetDescr(con), &isnull);
    if (isnull) continue;
    Node* expr = (Node*)stringToNode(TextDatumGetCString(bin));
    if (IsA(expr, NullTest)) {
      NullTest* test = (NullTest*)expr;
      found = test->nulltesttype == IS_NOT_NULL && !test->argisrow && IsA(test->arg, Var) &&
              ((Var*)test->arg)->varattno == attnum;
    }
  }
  systable_endscan(scan);
  table_close(con, AccessShareLock);
  return found;
}

// Whether ALTER COLUMN ... TYPE rewrites or scans the table: PostgreSQL skips
// both only for a binary-coercible type without a USING, or a typmod that only
// widens (varchar(n) up, numeric precision up at the same scale, ...).
bool type_change_rewrites(Oid relid, const char* column, ColumnDef* def) {
  if (def->raw_default != NULL || def->collClause != NULL) return true;
  if (!OidIsValid(relid)) return false;  // PostgreSQL reports the missing table itself
  AttrNumber attnum = get_attnum(relid, column);
  if (attnum == InvalidAttrNumber) return false;  // and the missing column
  Oid old_type, old_coll;
  int32 old_mod;
  get_atttypetypmodcoll(relid, attnum, &old_type, &old_mod, &old_coll);
  Oid new_type;
  int32 new_mod;
  typenameTypeIdAndMod(NULL, def->typeName, &new_type, &new_mod);
  if (new_type != old_type) return !(IsBinaryCoercible(old_type, new_type) && new_mod == -1);
  if (new_mod == old_mod || new_mod == -1) return false;
  if (old_mod == -1) return true;  // a limit appears: every row is checked
  switch (old_type) {
    case VARCHAROID:
    case VARBITOID:
    case TIMESTAMPOID:
    case TIMESTAMPTZOID:
    case TIMEOID:
    case TIMETZOID:
      return new_mod < old_mod;
    case NUMERICOID: {
      // typmod = ((precision << 16) | scale) + VARHDRSZ
      int32 o = old_mod - VARHDRSZ, n = new_mod - VARHDRSZ;
      return (o & 0xffff) != (n & 0xffff) || (n >> 16) < (o >> 16);
    }
    default:
      return true;
  }
}

void read_alter_command(CFacts* f, AlterTableCmd* cmd, CAlter* out) {
  memset(out, 0, sizeof *out);
  out->kind = AlterFacts::Kind::Other;
  if (cmd->name != NULL) strlcpy(out->column, cmd->name, sizeof out->column);
  switch (cmd->subtype) {
    case AT_AddConstraint: {
      Constraint* con = castNode(Constraint, cmd->def);
      if (con->conname != NULL) strlcpy(out->column, con->conname, sizeof out->column);
      if (con->contype == CONSTR_FOREIGN) {
        out->kind = AlterFacts::Kind::AddForeignKey;
        out->not_valid = con->skip_validation;
      } else if (con->contype == CONSTR_CHECK) {
        out->kind = AlterFacts::Kind::AddCheck;
        out->not_valid = con->skip_validation;
      } else if (con->contype == CONSTR_PRIMARY || con->contype == CONSTR_UNIQUE ||
                 con->contype == CONSTR_EXCLUSION) {
        out->kind = AlterFacts::Kind::AddIndexBacked;
        out->using_index = con->indexname != NULL;
      }
      break;
    }
    case AT_AddColumn: {
      ColumnDef* def = castNode(ColumnDef, cmd->def);
      out->kind = AlterFacts::Kind::AddColumn;
      strlcpy(out->column, def->colname, sizeof out->column);
      out->volatile_default = is_serial(def->typeName);
      if (def->raw_default != NULL) out->volatile_default |= volatile_expression(def->raw_default);
      ListCell* lc;
      foreach (lc, def->constraints) {
        Constraint* con = lfirst_node(Constraint, lc);
        if (con->contype == CONSTR_DEFAULT && con->raw_expr != NULL)
          out->volatile_default |= volatile_expression(con->raw_expr);
        else if (con->contype == CONSTR_GENERATED || con->contype == CONSTR_IDENTITY)
          out->stored_generated = true;
        else if (con->contype == CONSTR_CHECK || con->contype == CONSTR_FOREIGN)
          out->validates_constraint = true;
      }
      break;
    }
    case AT_AlterColumnType:
      out->kind = AlterFacts::Kind::AlterColumnType;
      out->type_change_rewrites =
          type_change_rewrites(f->relid, cmd->name, castNode(ColumnDef, cmd->def));
      break;
    case AT_SetNotNull: {
      out->kind = AlterFacts::Kind::SetNotNull;
      AttrNumber attnum = OidIsValid(f->relid) ? get_attnum(f->relid, cmd->name) : 0;
      if (attnum > 0) {
        HeapTuple att = SearchSysCacheAttNum(f->relid, attnum);
        if (HeapTupleIsValid(att)) {
          out->already_not_null = ((Form_pg_attribute)GETSTRUCT(att))->attnotnull;
          ReleaseSysCache(att);
        }
        out->has_valid_not_null_check = has_valid_not_null_check(f->relid, attnum);
      } else {
        out->has_valid_not_null_check = true;  // PostgreSQL reports the missing column
      }
      break;
    }
    case AT_SetTableSpace:
    case AT_SetLogged:
    case AT_SetUnLogged:
#if PG_VERSION_NUM >= 150000
    case AT_SetAccessMethod:
#endif
      out->kind = AlterFacts::Kind::Rewrite;
      break;
    default:
      break;
  }
}

bool option_set(List* options, const char* name) {
  ListCell* lc;
  foreach (lc, options) {
    DefElem* opt = lfirst_node(DefElem, lc);
    if (strcmp(opt->defname, name) == 0) return defGetBoolean(opt);
  }
  return false;
}

void read_facts(const char* sql, CFacts* f) {
  memset(f, 0, sizeof *f);
  f->kind = DdlFacts::Kind::Other;
#if PG_VERSION_NUM >= 140000
  List* raw = raw_parser(sql, RAW_PARSE_DEFAULT);
#else
  List* raw = raw_parser(sql);
#endif
  f->statements = list_length(raw);
  if (f->statements != 1) return;
  Node* stmt = linitial_node(RawStmt, raw)->stmt;
  switch (nodeTag(stmt)) {
    case T_IndexStmt: {
      IndexStmt* s = (IndexStmt*)stmt;
      f->kind = DdlFacts::Kind::CreateIndex;
      f->concurrently = s->concurrent;
      set_relation(f, s->relation);
      break;
    }
    case T_ReindexStmt: {
      ReindexStmt* s = (ReindexStmt*)stmt;
      f->kind = DdlFacts::Kind::Reindex;
#if PG_VERSION_NUM >= 140000
      f->concurrently = option_set(s->params, "concurrently");
#else
      f->concurrently = s->concurrent;
#endif
      set_relation(f, s->relation);
      break;
    }
    case T_VacuumStmt: {
      VacuumStmt* s = (VacuumStmt*)stmt;
      f->kind = DdlFacts::Kind::Vacuum;
      f->full = option_set(s->options, "full");
      break;
    }
    case T_ClusterStmt:
      f->kind = DdlFacts::Kind::Cluster;
      set_relation(f, ((ClusterStmt*)stmt)->relation);
      break;
    case T_TransactionStmt:
      f->kind = DdlFacts::Kind::TransactionControl;
      break;
    case T_AlterTableStmt: {
      AlterTableStmt* s = (AlterTableStmt*)stmt;
#if PG_VERSION_NUM >= 140000
      if (s->objtype != OBJECT_TABLE) break;
#else
      if (s->relkind != OBJECT_TABLE) break;
#endif
      f->kind = DdlFacts::Kind::AlterTable;
      set_relation(f, s->relation);
      f->ncommands = list_length(s->cmds);
      f->commands = (CAlter*)palloc0(sizeof(CAlter) * (f->ncommands + 1));
      for (int i = 0; i < f->ncommands; i++)
        read_alter_command(f, list_nth_node(AlterTableCmd, s->cmds, i), &f->commands[i]);
      break;
    }
    default:
      break;
  }
}

DdlFacts to_facts(const CFacts& c) {
  DdlFacts facts;
  facts.kind = c.kind;
  facts.statements = c.statements;
  facts.concurrently = c.concurrently;
  facts.full = c.full;
  facts.relation = c.relation;
  for (int i = 0; i < c.ncommands; i++) {
    const CAlter& a = c.commands[i];
    AlterFacts out;
    out.kind = a.kind;
    out.column = a.column;
    out.not_valid = a.not_valid;
    out.using_index = a.using_index;
    out.type_change_rewrites = a.type_change_rewrites;
    out.has_valid_not_null_check = a.has_valid_not_null_check;
    out.already_not_null = a.already_not_null;
    out.volatile_default = a.volatile_default;
    out.stored_generated = a.stored_generated;
    out.validates_constraint = a.validates_constraint;
    facts.commands.push_back(out);
  }
  return facts;
}

}  // namespace

ZDM_FUNCTION(zdm_run_ddl) {
  if (PG_ARGISNULL(0)) throw Error(ErrorCode::NullValue, "statement must not be NULL");
  if (PG_ARGISNULL(1)) throw Error(ErrorCode::NullValue, "force must not be NULL");
  text* t = zdm::pg::pg_guard([&] { return PG_GETARG_TEXT_PP(0); });
  const std::string statement(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  const bool force = PG_GETARG_BOOL(1);
  std::string migration;
  if (!PG_ARGISNULL(2)) {
    text* m = zdm::pg::pg_guard([&] { return PG_GETARG_TEXT_PP(2); });
    migration.assign(VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m));
  }

  zdm::pg::open_session();
  // The statement resolves its names as the caller's own statements do.
  const int level = zdm::pg::push_caller_search_path();
  CFacts c;
  zdm::pg::pg_guard([&] { read_facts(statement.c_str(), &c); });
  const zdm::core::DdlVerdict verdict = zdm::core::lint_ddl(to_facts(c));
  if (verdict.refused && (verdict.cannot_run_here || !force))
    throw Error(ErrorCode::FeatureNotSupported,
                "zdm.run_ddl refuses this statement: " + verdict.reason, "Statement: " + statement,
                verdict.hint + (verdict.cannot_run_here ? ""
                                                        : " To run it anyway, still under "
                                                          "zdm.lock_timeout, pass force => true."));
  if (!migration.empty()) {
    zdm::core::check_transition(migration, zdm::pg::migration_state(migration),
                                zdm::core::Action::AddOperation);
    zdm::pg::require_migration_owner(migration);
  }
  if (verdict.refused)
    zdm::pg::pg_guard([&] {
      ereport(NOTICE, (errmsg("zdm.run_ddl: running a statement it would refuse, because force "
                              "=> true: %s",
                              verdict.reason.c_str())));
    });
  zdm::pg::StepOutcome locking;
  locking.attempts = 1;
  if (OidIsValid(c.relid)) locking.relids.push_back(c.relid);
  zdm::pg::refuse_running_index_builds(migration, "run_ddl", locking.relids);
  zdm::pg::run_statements(migration, "run_ddl", locking, {statement});
  zdm::pg::pop_search_path(level);
  zdm::pg::close_session();
  PG_RETURN_VOID();
}
