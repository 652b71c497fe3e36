#include "common/functions_called.hpp"

extern "C" {
#include "utils/typcache.h"
}

namespace {

struct Collecting {
  List* functions;
  List* domains;  // visited, so that a domain's CHECK cannot recurse forever
};

bool collect(Node* node, void* context);

bool walk(Node* node, Collecting* collecting) {
#if PG_VERSION_NUM >= 160000
  return expression_tree_walker(node, collect, collecting);
#else
  // PostgreSQL before 16 declares the walker as bool (*)(); void (*)() is the
  // cast GCC accepts between function types.
  return expression_tree_walker(
      node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(collect)), collecting);
#endif
}

// The CHECK constraints of a domain (and of the domains it is over), as the
// executor gets them when it initializes the conversion.
void collect_domain_checks(Oid domain, Collecting* collecting) {
  if (list_member_oid(collecting->domains, domain)) return;
  collecting->domains = lappend_oid(collecting->domains, domain);
  MemoryContext caller = CurrentMemoryContext;
  MemoryContext scratch =
      AllocSetContextCreate(caller, "zdm domain constraints", ALLOCSET_SMALL_SIZES);
  DomainConstraintRef ref;
  InitDomainConstraintRef(domain, &ref, scratch, false);
  ListCell* cell;
  foreach (cell, ref.constraints) {
    DomainConstraintState* constraint = static_cast<DomainConstraintState*>(lfirst(cell));
    if (constraint->constrainttype == DOM_CONSTRAINT_CHECK)
      (void)collect(reinterpret_cast<Node*>(constraint->check_expr), collecting);
  }
  MemoryContextDelete(scratch);  // releases the reference to the type cache's constraints
}

bool collect(Node* node, void* context) {
  if (node == NULL) return false;
  Collecting* collecting = static_cast<Collecting*>(context);
  Oid function = InvalidOid;
  switch (nodeTag(node)) {
    case T_FuncExpr:
      function = reinterpret_cast<FuncExpr*>(node)->funcid;
      break;
    case T_OpExpr:
    case T_DistinctExpr:
    case T_NullIfExpr:
      set_opfuncid(reinterpret_cast<OpExpr*>(node));
      function = reinterpret_cast<OpExpr*>(node)->opfuncid;
      break;
    case T_ScalarArrayOpExpr:
      set_sa_opfuncid(reinterpret_cast<ScalarArrayOpExpr*>(node));
      function = reinterpret_cast<ScalarArrayOpExpr*>(node)->opfuncid;
      break;
    case T_CoerceToDomain:
      collect_domain_checks(reinterpret_cast<CoerceToDomain*>(node)->resulttype, collecting);
      break;
    default:
      break;
  }
  if (OidIsValid(function))
    collecting->functions = list_append_unique_oid(collecting->functions, function);
  return walk(node, collecting);
}

}  // namespace

List* zdm_functions_called(Node* expr, List* into) {
  Collecting collecting{into, NIL};
  (void)collect(expr, &collecting);
  list_free(collecting.domains);
  return collecting.functions;
}
