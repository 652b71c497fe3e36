// Parsing one SQL expression from text: begin's normalisation
// (src/pg/expression.cpp) and the trigger's compiler (src/trigger/expression.cpp)
// both start here.
#pragma once

#include "common/postgres.hpp"

extern "C" {
// The one expression in `text`, as a raw parse tree. "SELECT <text>" must parse
// to a single target and nothing else, so text such as "1; DROP TABLE t" or
// "x FROM y" is refused rather than run; `what` names the expression in that
// error. C-style: raises PostgreSQL errors.
Node* zdm_parse_one_expression(const char* text, const char* what);
}
