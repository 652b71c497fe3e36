#!/usr/bin/env bash
# Runs every isolation spec in test/isolation/specs/ with pg_isolation_regress
# against an already-running server, found through the usual PG* variables
# (PGHOST, PGPORT, PGUSER, ...). zdm must be installed in that server.
#
#   pg_virtualenv -v 15 bash test/isolation/run.sh     # throwaway cluster, works as root
#   bash test/isolation/run.sh [NAME...]               # only the named specs
#
# Environment:
#   PG_CONFIG                  pg_config of the target version (default: pg_config)
#   PG_ISOLATION_REGRESS       path to pg_isolation_regress (default: from PG_CONFIG)
#   ZDM_ISOLATION_OUTPUT       result directory (default: test/isolation/output_iso)
#   PGISOLATIONTIMEOUT         per-step timeout of isolationtester, seconds (default here: 60)
#
# Exits with pg_isolation_regress's status: 0 all passed, 1 some failed, 2 could not run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

PG_CONFIG=${PG_CONFIG:-pg_config}
if [[ -z "${PG_ISOLATION_REGRESS:-}" ]]; then
  pgxs=$("$PG_CONFIG" --pgxs)
  PG_ISOLATION_REGRESS="$(dirname "$pgxs")/../test/isolation/pg_isolation_regress"
fi
if [[ ! -x "$PG_ISOLATION_REGRESS" ]]; then
  echo "run.sh: pg_isolation_regress not found at $PG_ISOLATION_REGRESS" >&2
  echo "run.sh: install the postgresql-server-dev package or set PG_ISOLATION_REGRESS" >&2
  exit 2
fi

inputdir=test/isolation
outputdir=${ZDM_ISOLATION_OUTPUT:-test/isolation/output_iso}
export PGISOLATIONTIMEOUT=${PGISOLATIONTIMEOUT:-60}

if [[ $# -gt 0 ]]; then
  tests=("$@")
else
  tests=()
  for spec in "$inputdir"/specs/*.spec; do
    [[ -e "$spec" ]] || continue
    name=$(basename "$spec" .spec)
    tests+=("$name")
  done
fi
if [[ ${#tests[@]} -eq 0 ]]; then
  echo "run.sh: no specs found in $inputdir/specs" >&2
  exit 2
fi

rm -rf "$outputdir"
mkdir -p "$outputdir"

status=0
"$PG_ISOLATION_REGRESS" \
  --bindir="$("$PG_CONFIG" --bindir)" \
  --inputdir="$inputdir" \
  --outputdir="$outputdir" \
  --dbname=zdm_isolation \
  --load-extension=zdm \
  "${tests[@]}" || status=$?

if [[ $status -ne 0 && -s "$outputdir/regression.diffs" ]]; then
  echo "---- $outputdir/regression.diffs ----"
  cat "$outputdir/regression.diffs"
fi
exit "$status"
