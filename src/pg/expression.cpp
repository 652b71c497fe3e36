#include "pg/expression.hpp"

#include "common/functions_called.hpp"
#include "common/parse_expression.hpp"
#include "pg/boundary.hpp"
#include "pg/refusals.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "catalog/pg_proc.h"
#include "utils/regproc.h"
}

namespace {

struct Checking {
  const char* what;
  const char* text;
};

void checking_context(void* arg) {
  const Checking* c = static_cast<const Checking*>(arg);
  errcontext("zdm: checking the %s expression: %s", c->what, c->text);
}

// The first construct of an expression that is not immutable: a function,
// operator or cast (found through check_functions_in_node, as
// contain_mutable_functions does) or an SQL value function (CURRENT_DATE, ...)
// or NEXT VALUE.
struct Mutable {
  Node* node = NULL;
  Oid func = InvalidOid;
};

bool note_mutable_function(Oid func, void* context) {
  if (func_volatile(func) == PROVOLATILE_IMMUTABLE) return false;
  static_cast<Mutable*>(context)->func = func;
  return true;
}

bool find_mutable(Node* node, void* context) {
  if (node == NULL) return false;
  if (check_functions_in_node(node, note_mutable_function, context) ||
      IsA(node, SQLValueFunction) || IsA(node, NextValueExpr)) {
    static_cast<Mutable*>(context)->node = node;
    return true;
  }
#if PG_VERSION_NUM >= 160000
  return expression_tree_walker(node, find_mutable, context);
#else
  // PostgreSQL before 16 declares the walker as bool (*)(); void (*)() is the
  // cast GCC accepts between function types.
  return expression_tree_walker(
      node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(find_mutable)), context);
#endif
}

bool is_cast(Node* node) {
  if (IsA(node, FuncExpr)) {
    CoercionForm form = reinterpret_cast<FuncExpr*>(node)->funcformat;
    return form == COERCE_EXPLICIT_CAST || form == COERCE_IMPLICIT_CAST;
  }
  return IsA(node, CoerceViaIO) || IsA(node, ArrayCoerceExpr);
}

// The cast's argument, for a cast node (see is_cast).
Node* cast_argument(Node* node) {
  if (IsA(node, FuncExpr))
    return static_cast<Node*>(linitial(reinterpret_cast<FuncExpr*>(node)->args));
  if (IsA(node, CoerceViaIO))
    return reinterpret_cast<Node*>(reinterpret_cast<CoerceViaIO*>(node)->arg);
  return reinterpret_cast<Node*>(reinterpret_cast<ArrayCoerceExpr*>(node)->arg);
}

// up, down and default_expr must be IMMUTABLE, as a stored generated column's
// expression must: zdm computes them again on every write, from sessions with
// any TimeZone or DateStyle, and in the backfill. The error names what is not.
void require_immutable(Node* expr, Relation rel, const char* what) {
  Mutable found;
  if (!find_mutable(expr, &found)) {
    if (contain_mutable_functions(expr))  // a construct this walker does not name
      ereport(ERROR,
              (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must be immutable", what),
               errhint("Use only immutable functions, operators and casts.")));
    return;
  }
  List* names =
      rel != NULL ? deparse_context_for(RelationGetRelationName(rel), RelationGetRelid(rel)) : NIL;
  const char* volatility =
      found.func != InvalidOid && func_volatile(found.func) == PROVOLATILE_VOLATILE ? "volatile"
                                                                                    : "stable";
  if (IsA(found.node, NextValueExpr)) volatility = "volatile";
  const char* described;
  const char* hint =
      "Use only immutable functions, operators and casts, as the expression of "
      "a stored generated column must.";
  if (is_cast(found.node)) {
    Node* arg = cast_argument(found.node);
    Oid source = exprType(arg), target = exprType(found.node);
    described = psprintf("the cast from %s to %s (function %s)", format_type_be(source),
                         format_type_be(target), format_procedure(found.func));
    bool zoned = (source == TIMESTAMPTZOID &&
                  (target == TIMESTAMPOID || target == DATEOID || target == TIMEOID)) ||
                 (target == TIMESTAMPTZOID && (source == TIMESTAMPOID || source == DATEOID));
    if (zoned && IsA(arg, CaseTestExpr))  // an array's elements: no expression to show
      hint = "Name the time zone with AT TIME ZONE 'UTC' (or another fixed zone).";
    else if (zoned)
      hint = psprintf("Name the time zone, e.g. %s => %s.", what,
                      quote_literal_cstr(psprintf("(%s AT TIME ZONE 'UTC')",
                                                  deparse_expression(arg, names, false, false))));
    else if (IsA(found.node, CoerceViaIO))
      hint =
          "A cast through the text form depends on settings such as DateStyle; convert with "
          "an immutable function instead.";
  } else if (IsA(found.node, FuncExpr)) {
    described = psprintf("function %s", format_procedure(found.func));
  } else if (IsA(found.node, OpExpr) || IsA(found.node, DistinctExpr) ||
             IsA(found.node, NullIfExpr)) {
    described =
        psprintf("operator %s", format_operator(reinterpret_cast<OpExpr*>(found.node)->opno));
  } else if (IsA(found.node, ScalarArrayOpExpr)) {
    described = psprintf("operator %s",
                         format_operator(reinterpret_cast<ScalarArrayOpExpr*>(found.node)->opno));
  } else if (found.func != InvalidOid) {
    described = psprintf("%s (function %s)", deparse_expression(found.node, names, false, false),
                         format_procedure(found.func));
  } else {
    described = deparse_expression(found.node, names, false, false);
  }
  if (rel == NULL)  // default_expr
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
             errmsg("%s must be immutable, but %s is %s", what, described, volatility),
             errdetail("zdm holds default_expr to the rule of up and down, like the expressions "
                       "of stored generated columns."),
             errhint("Set a default such as now() after finish, with ALTER TABLE ... ALTER "
                     "COLUMN ... SET DEFAULT.")));
  ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                  errmsg("%s must be immutable, but %s is %s", what, described, volatility),
                  errdetail("zdm computes it again on every write, in sessions with any TimeZone, "
                            "DateStyle or search_path, and in the backfill: its result must not "
                            "depend on them, nor on the time."),
                  errhint("%s", hint)));
}

// Parses, checks and coerces to the column's type by assignment, as INSERT and
// ALTER TABLE ... TYPE do: a too-long varchar is an error, never a silent
// truncation. `rel` is NULL for a DEFAULT. `cast_from` names the column when
// the expression is zdm's own default conversion (that bare column), so that a
// missing assignment cast says what ALTER TABLE would need as USING.
// (The trigger compiles what this stored: src/trigger/expression.cpp.)
Expr* cook(Relation rel, const char* text, Oid typid, int32 typmod, const char* what,
           const char* cast_from = NULL) {
  Checking checking{what, text};
  ErrorContextCallback callback;
  callback.callback = checking_context;
  callback.arg = &checking;
  callback.previous = error_context_stack;
  error_context_stack = &callback;
  Node* raw = zdm_parse_one_expression(text, what);
  ParseState* pstate = make_parsestate(NULL);
  if (rel != NULL) {
    ParseNamespaceItem* item =
        addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);
    addNSItemToQuery(pstate, item, true, true, true);
  }
  Node* expr = transformExpr(pstate, raw,
                             rel != NULL ? EXPR_KIND_GENERATED_COLUMN : EXPR_KIND_COLUMN_DEFAULT);
  Oid type = exprType(expr);
  // InvalidOid: no target type (an index expression keeps its own).
  Node* coerced = typid == InvalidOid
                      ? expr
                      : coerce_to_target_type(pstate, expr, type, typid, typmod,
                                              COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
  if (coerced == NULL && cast_from != NULL) {
    const char* target = format_type_with_typemod(typid, typmod);
    const char* source = format_type_be(type);
    const char* suggestion = psprintf("%s::%s", quote_identifier(cast_from), target);
    ereport(ERROR,
            (errcode(ERRCODE_DATATYPE_MISMATCH),
             errmsg("column \"%s\" cannot be cast automatically to type %s", cast_from, target),
             errdetail("Without %s, zdm converts the column by assignment, as ALTER TABLE "
                       "... ALTER COLUMN ... TYPE does, and there is no assignment cast "
                       "from %s to %s.",
                       what, source, target),
             errhint("Pass %s => %s (ALTER TABLE would need USING %s).", what,
                     quote_literal_cstr(suggestion), suggestion)));
  }
  if (coerced == NULL)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("%s is of type %s but its column is of type %s", what,
                           format_type_be(type), format_type_with_typemod(typid, typmod)),
                    errhint("Add an explicit cast to the expression.")));
  assign_expr_collations(pstate, coerced);
  require_immutable(coerced, rel, what);
  free_parsestate(pstate);
  error_context_stack = callback.previous;
  return reinterpret_cast<Expr*>(coerced);
}

void type_of(const char* type_text, Oid* typid, int32* typmod) {
  parseTypeString(type_text, typid, typmod, false);
  if (get_typtype(*typid) == TYPTYPE_PSEUDO)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("type %s cannot be a column's type", format_type_be(*typid))));
}

// Runs `f` with the caller's search_path (pg_catalog first), so that the user's
// own functions and types resolve as they do in the user's session.
template <typename F>
auto with_caller_path(F&& f) {
  int level = zdm::pg::push_caller_search_path();
  auto result = f();
  zdm::pg::pop_search_path(level);
  return result;
}

}  // namespace

namespace zdm::pg {

std::string normalize_type(const std::string& type_text) {
  struct Type {
    Oid typid;
    int32 typmod;
  };
  Type t = with_caller_path([&] {
    return pg_guard([&] {
      Type out;
      type_of(type_text.c_str(), &out.typid, &out.typmod);
      return out;
    });
  });
  // Deparsed under pg_catalog alone: types elsewhere come out qualified.
  const char* text = pg_guard([&] { return format_type_with_typemod(t.typid, t.typmod); });
  return text;
}

namespace {

std::vector<unsigned int> oids_of(List* oids) {
  std::vector<unsigned int> out;
  ListCell* cell;
  foreach (cell, oids) out.push_back(lfirst_oid(cell));
  return out;
}

struct OwnerChecking {
  const char* what;
  const char* text;
  const char* owner;
};

void owner_checking_context(void* arg) {
  const OwnerChecking* c = static_cast<const OwnerChecking*>(arg);
  errcontext(
      "zdm: the table's owner %s compiles the %s expression for every writer, and could "
      "not: %s",
      c->owner, c->what, c->text);
}

// Parses and resolves `text` over `rel` as `owner` (the caller's identity is
// restored on the way out, error or not). Its own function: a PG_TRY nested in
// pg_guard's frame would clobber its locals.
void resolve_as(Oid owner, Relation rel, const char* text, const char* what) {
  Oid saved_user;
  int saved_sec;
  GetUserIdAndSecContext(&saved_user, &saved_sec);
  SetUserIdAndSecContext(owner, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
  PG_TRY();
  {
    Node* raw = zdm_parse_one_expression(text, what);
    ParseState* pstate = make_parsestate(NULL);
    ParseNamespaceItem* item =
        addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);
    addNSItemToQuery(pstate, item, true, true, true);
    (void)transformExpr(pstate, raw, EXPR_KIND_GENERATED_COLUMN);
    free_parsestate(pstate);
  }
  PG_FINALLY();
  { SetUserIdAndSecContext(saved_user, saved_sec); }
  PG_END_TRY();
}

// The trigger resolves the stored text's names as the table's owner
// (src/trigger/dual_write.cpp), whoever writes: when a superuser or a member
// of the owning role begins, the owner must be able to, or every write after
// begin would fail (no USAGE on a schema the text names). Resolved here as the
// owner, under zdm's pinned search_path, as the trigger will.
void require_owner_resolves(unsigned int relid, const char* text, const char* what) {
  pg_guard([&] {
    Relation rel = table_open(relid, AccessShareLock);
    const Oid owner = rel->rd_rel->relowner;
    if (owner != GetUserId() && !superuser_arg(owner)) {
      OwnerChecking checking{what, text, GetUserNameFromId(owner, false)};
      ErrorContextCallback callback{error_context_stack, owner_checking_context, &checking};
      error_context_stack = &callback;
      resolve_as(owner, rel, text, what);
      error_context_stack = callback.previous;
    }
    table_close(rel, NoLock);
  });
}

std::string normalize_over_table(unsigned int relid, const std::string& text, Oid typid,
                                 int32 typmod, const char* what, const std::string& cast_from,
                                 AttrNumber computed = InvalidAttrNumber,
                                 std::vector<std::string>* reads = nullptr) {
  List* read_names = NIL;  // of palloc'd names: no C++ object lives across pg_guard
  List* calls = NIL;       // of function OIDs, likewise
  Expr* expr = with_caller_path([&] {
    return pg_guard([&] {
      Relation rel = table_open(relid, AccessShareLock);
      Expr* cooked = cook(rel, text.c_str(), typid, typmod, what,
                          cast_from.empty() ? NULL : cast_from.c_str());
      // down computes the old column from the new side: reading that very
      // column would make the two shapes drift apart on every new-side write.
      Bitmapset* read = NULL;
      pull_varattnos(reinterpret_cast<Node*>(cooked), 1, &read);
      if (computed != InvalidAttrNumber &&
          bms_is_member(computed - FirstLowInvalidHeapAttributeNumber, read))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s must not read the column it computes: %s", what, text.c_str()),
                        errhint("Write it over the new-side columns only.")));
      TupleDesc desc = RelationGetDescr(rel);
      for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        // A whole-row reference (attnum 0) reads every column.
        if (!att->attisdropped &&
            (bms_is_member(att->attnum - FirstLowInvalidHeapAttributeNumber, read) ||
             bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, read)))
          read_names = lappend(read_names, pstrdup(NameStr(att->attname)));
      }
      // Planning folds constants: 1/0 fails here, at begin, not on a write.
      Checking checking{what, text.c_str()};
      ErrorContextCallback callback{error_context_stack, checking_context, &checking};
      error_context_stack = &callback;
      Expr* planned = expression_planner(static_cast<Expr*>(copyObjectImpl(cooked)));
      error_context_stack = callback.previous;
      calls = zdm_functions_called(reinterpret_cast<Node*>(cooked), calls);
      calls = zdm_functions_called(reinterpret_cast<Node*>(planned), calls);
      table_close(rel, NoLock);
      return cooked;
    });
  });
  if (reads != nullptr) {
    ListCell* cell;
    foreach (cell, read_names) reads->emplace_back(static_cast<const char*>(lfirst(cell)));
  }
  refuse_writers_without_execute(relid, oids_of(calls), what);
  const char* out = pg_guard([&] {
    char* name = get_rel_name(relid);
    return deparse_expression(reinterpret_cast<Node*>(expr), deparse_context_for(name, relid),
                              false, false);
  });
  require_owner_resolves(relid, out, what);
  return out;
}

}  // namespace

std::string normalize_up(unsigned int relid, const std::string& text, const std::string& type_sql,
                         const std::string& cast_from, std::vector<std::string>* reads) {
  struct Type {
    Oid typid;
    int32 typmod;
  };
  Type t = pg_guard([&] {
    Type out;
    type_of(type_sql.c_str(), &out.typid, &out.typmod);
    return out;
  });
  return normalize_over_table(relid, text, t.typid, t.typmod, "up", cast_from, InvalidAttrNumber,
                              reads);
}

std::string normalize_check(unsigned int relid, const std::string& text,
                            std::vector<std::string>* reads) {
  return normalize_over_table(relid, text, BOOLOID, -1, "expression", {}, InvalidAttrNumber, reads);
}

std::string normalize_down(unsigned int relid, const std::string& text, const std::string& column,
                           const std::string& cast_from) {
  struct Type {
    Oid typid;
    int32 typmod;
    AttrNumber attnum;
  };
  Type t = pg_guard([&] {
    Type out;
    AttrNumber attnum = get_attnum(relid, column.c_str());
    if (attnum == InvalidAttrNumber)
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("column \"%s\" does not exist", column.c_str())));
    Oid collation;
    get_atttypetypmodcoll(relid, attnum, &out.typid, &out.typmod, &collation);
    out.attnum = attnum;
    return out;
  });
  return normalize_over_table(relid, text, t.typid, t.typmod, "down", cast_from, t.attnum);
}

std::string normalize_index_expression(unsigned int relid, const std::string& text,
                                       std::vector<std::string>* reads) {
  return normalize_over_table(relid, text, InvalidOid, -1, "index key", {}, InvalidAttrNumber,
                              reads);
}

std::string normalize_predicate(unsigned int relid, const std::string& text,
                                std::vector<std::string>* reads) {
  return normalize_over_table(relid, text, BOOLOID, -1, "where_clause", {}, InvalidAttrNumber,
                              reads);
}

std::string normalize_default(unsigned int relid, const std::string& text,
                              const std::string& type_sql) {
  List* calls = NIL;  // of function OIDs: no C++ object lives across pg_guard
  Expr* expr = with_caller_path([&] {
    return pg_guard([&] {
      Oid typid;
      int32 typmod;
      type_of(type_sql.c_str(), &typid, &typmod);
      Expr* cooked = cook(NULL, text.c_str(), typid, typmod, "default_expr");
      // Folding constants: a literal too long for the type fails here, at
      // begin, not on the first insert after finish.
      Checking checking{"default_expr", text.c_str()};
      ErrorContextCallback callback{error_context_stack, checking_context, &checking};
      error_context_stack = &callback;
      Expr* planned = expression_planner(static_cast<Expr*>(copyObjectImpl(cooked)));
      error_context_stack = callback.previous;
      calls = zdm_functions_called(reinterpret_cast<Node*>(cooked), calls);
      calls = zdm_functions_called(reinterpret_cast<Node*>(planned), calls);
      return cooked;
    });
  });
  // After finish the column's DEFAULT runs on the writers' INSERTs.
  refuse_writers_without_execute(relid, oids_of(calls), "default_expr");
  const char* out = pg_guard(
      [&] { return deparse_expression(reinterpret_cast<Node*>(expr), NIL, false, false); });
  return out;
}

}  // namespace zdm::pg
