#!/usr/bin/env bash
# pg_regress pairs that need max_prepared_transactions > 0 (scripts/test.sh
# starts its cluster with it). They live here, not in sql/, until every
# cluster that runs `make installcheck` has the setting; they skip nothing:
# with max_prepared_transactions = 0 they fail.
set -euo pipefail
cd "$(dirname "$0")"
PG_CONFIG=${PG_CONFIG:-pg_config}
pg_regress="$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress"
tests=$(cd sql && ls *.sql | sed 's/\.sql$//')
if "$pg_regress" --inputdir=. --outputdir=output --bindir="$("$PG_CONFIG" --bindir)" \
  --dbname=zdm_prepared_regression $tests; then
  exit 0
fi
cat output/regression.diffs 2>/dev/null | head -100
exit 1
