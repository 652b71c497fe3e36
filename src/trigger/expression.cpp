#include "trigger/expression.hpp"

#include "common/functions_called.hpp"
#include "common/parse_expression.hpp"

namespace {

struct Compiling {
  const char* what;
  const char* text;
};

void compiling_context(void* arg) {
  const Compiling* c = static_cast<const Compiling*>(arg);
  errcontext("zdm: checking the %s expression: %s", c->what, c->text);
}

}  // namespace

Expr* zdm_compile_expression(Relation rel, const char* text, Oid typid, int32 typmod,
                             const char* what, List** calls) {
  int level = NewGUCNestLevel();
  (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                          GUC_ACTION_SAVE, true, 0, false);
  Compiling compiling{what, text};
  ErrorContextCallback callback;
  callback.callback = compiling_context;
  callback.arg = &compiling;
  callback.previous = error_context_stack;
  error_context_stack = &callback;
  Node* raw = zdm_parse_one_expression(text, what);
  ParseState* pstate = make_parsestate(NULL);
  ParseNamespaceItem* item =
      addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);
  addNSItemToQuery(pstate, item, true, true, true);
  Node* expr = transformExpr(pstate, raw, EXPR_KIND_GENERATED_COLUMN);
  Oid type = exprType(expr);
  Node* coerced = coerce_to_target_type(pstate, expr, type, typid, typmod, COERCION_ASSIGNMENT,
                                        COERCE_IMPLICIT_CAST, -1);
  if (coerced == NULL)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("%s is of type %s but its column is of type %s", what,
                           format_type_be(type), format_type_with_typemod(typid, typmod)),
                    errhint("Add an explicit cast to the expression.")));
  assign_expr_collations(pstate, coerced);
  // begin refuses all but IMMUTABLE expressions. A migration opened by an
  // earlier zdm may hold a stable one (only volatile ones were refused then):
  // it keeps working rather than failing every write.
  if (contain_volatile_functions(coerced))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("%s must not call volatile functions: %s", what, text)));
  free_parsestate(pstate);
  error_context_stack = callback.previous;
  // What it calls as written, and what planning left of it: an SQL function
  // the planner inlines is gone from the plan, but its writer still needs
  // EXECUTE on it, as PostgreSQL's planner requires before inlining.
  *calls = zdm_functions_called(coerced, *calls);
  Expr* planned = expression_planner(reinterpret_cast<Expr*>(coerced));
  *calls = zdm_functions_called(reinterpret_cast<Node*>(planned), *calls);
  AtEOXact_GUC(true, level);
  return planned;
}
