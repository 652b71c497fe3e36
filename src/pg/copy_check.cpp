// zdm.copy_check_constraint: repeats a CHECK constraint on another column,
// NOT VALID. The expression is rewritten on its parse tree (the Vars of one
// column are pointed at the other) and deparsed by PostgreSQL, never edited as
// text. Emitted by rename's begin plan right after ADD COLUMN.
#include "core/error.hpp"
#include "pg/boundary.hpp"

namespace {

struct Retarget {
  AttrNumber from;
  AttrNumber to;
};

bool retarget_vars(Node* node, void* context) {
  Retarget* r = static_cast<Retarget*>(context);
  if (node == NULL) return false;
  if (IsA(node, Var)) {
    Var* var = reinterpret_cast<Var*>(node);
    if (var->varattno == r->from) {
      var->varattno = r->to;
#if PG_VERSION_NUM >= 130000
      var->varattnosyn = r->to;
#endif
    }
    return false;
  }
#if PG_VERSION_NUM >= 160000
  return expression_tree_walker(node, retarget_vars, r);
#else
  // PostgreSQL before 16 declares the walker as bool (*)(); void (*)(void) is
  // the one cast that -Wcast-function-type accepts on the way there.
  return expression_tree_walker(
      node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)(void)>(retarget_vars)), r);
#endif
}

void copy_check(Oid relid, const char* constraint, const char* from, const char* to,
                const char* new_name) {
  if (!ZDM_TABLE_OWNERCHECK(relid, GetUserId()))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("must be owner of table %s", get_rel_name(relid))));
  Oid conoid = get_relation_constraint_oid(relid, constraint, false);
  HeapTuple tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for constraint %u", conoid);
  Form_pg_constraint con = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple));
  if (con->contype != CONSTRAINT_CHECK)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("constraint \"%s\" is not a CHECK constraint", constraint)));
  bool isnull;
  Datum bin = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_conbin, &isnull);
  if (isnull) elog(ERROR, "constraint \"%s\" has no expression", constraint);
  Node* expr = static_cast<Node*>(stringToNode(TextDatumGetCString(bin)));
  ReleaseSysCache(tuple);

  Retarget r{get_attnum(relid, from), get_attnum(relid, to)};
  if (r.from == InvalidAttrNumber || r.to == InvalidAttrNumber)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("column \"%s\" or \"%s\" does not exist", from, to)));
  retarget_vars(expr, &r);

  char* relname = get_rel_name(relid);
  char* text = deparse_expression(expr, deparse_context_for(relname, relid), false, false);
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(
      &sql, "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s) NOT VALID",
      quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), relname),
      quote_identifier(new_name), text);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "zdm: SPI_connect failed");
  if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
    elog(ERROR, "zdm: could not run: %s", sql.data);
  SPI_finish();
}

}  // namespace

ZDM_FUNCTION(zdm_copy_check_constraint) {
  for (int i = 0; i < 5; i++)
    if (PG_ARGISNULL(i))
      throw zdm::core::Error(zdm::core::ErrorCode::NullValue,
                             "zdm.copy_check_constraint() arguments must not be NULL");
  zdm::pg::pg_guard([&] {
    copy_check(PG_GETARG_OID(0), NameStr(*PG_GETARG_NAME(1)), NameStr(*PG_GETARG_NAME(2)),
               NameStr(*PG_GETARG_NAME(3)), NameStr(*PG_GETARG_NAME(4)));
  });
  PG_RETURN_VOID();
}
