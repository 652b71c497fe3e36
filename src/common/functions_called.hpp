// The functions an expression calls, for the EXECUTE privilege its writer needs:
// begin's refusal (src/pg/refusals.cpp) and the trigger's check before it
// evaluates up or down (src/trigger/dual_write.cpp) both start here.
#pragma once

#include "common/postgres.hpp"

extern "C" {
// Appends to `into` (a List of Oid, without duplicates) the functions on which
// PostgreSQL's executor checks the caller's EXECUTE when it initializes `expr`
// (ExecInitFunc): each function call, each operator's function, and, for a
// conversion to a domain, those of the domain's CHECK constraints. Type
// input/output functions are not checked by PostgreSQL, nor here. C-style:
// raises PostgreSQL errors.
List* zdm_functions_called(Node* expr, List* into);
}
