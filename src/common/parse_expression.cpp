#include "common/parse_expression.hpp"

Node* zdm_parse_one_expression(const char* text, const char* what) {
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql, "SELECT %s", text);
#if PG_VERSION_NUM >= 140000
  List* raw = raw_parser(sql.data, RAW_PARSE_DEFAULT);
#else
  List* raw = raw_parser(sql.data);
#endif
  SelectStmt* select = NULL;
  if (list_length(raw) == 1 && IsA(linitial_node(RawStmt, raw)->stmt, SelectStmt))
    select = reinterpret_cast<SelectStmt*>(linitial_node(RawStmt, raw)->stmt);
  if (select == NULL || list_length(select->targetList) != 1 || select->fromClause ||
      select->whereClause || select->groupClause || select->havingClause || select->windowClause ||
      select->sortClause || select->limitCount || select->limitOffset || select->distinctClause ||
      select->withClause || select->intoClause || select->lockingClause || select->valuesLists ||
      select->op != SETOP_NONE || linitial_node(ResTarget, select->targetList)->name != NULL)
    ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR),
                    errmsg("%s must be a single SQL expression: %s", what, text),
                    errhint("Write an expression such as lower(email) or a || ' ' || b, "
                            "without SELECT, FROM, AS or a semicolon.")));
  return linitial_node(ResTarget, select->targetList)->val;
}
