#!/usr/bin/env bash
# Runs the server-side suites against the cluster in PG* (pg_virtualenv sets
# them). Each suite prints its own closing line; this prints the tally.
set -uo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

passed=0
failed=0
failed_names=()
run_suite() {
  local name=$1
  shift
  echo
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failed_names+=("$name")
  fi
}

# make installcheck runs the pg_regress pairs, then the isolation specs (PGXS
# REGRESS and ISOLATION).
regress() {
  if make -s installcheck PG_CONFIG="$PG_CONFIG"; then return 0; fi
  cat regression.diffs output_iso/regression.diffs 2>/dev/null | head -300
  return 1
}

run_suite "pg_regress + isolation" regress
run_suite "pgTAP" bash test/pgtap/run.sh
# Needs max_prepared_transactions > 0: scripts/test.sh sets it; fails without.
run_suite "prepared transactions" bash test/prepared/run.sh
run_suite "stress" bash test/stress/run.sh
run_suite "clients" bash test/clients/run.sh
# A streaming standby (pg_basebackup -R) of this cluster on a free port.
run_suite "replication: lag throttle" bash test/replication/lag_throttle.sh
# A publisher and a logical subscriber, two throwaway clusters of their own
# (this one's wal_level is not logical), through a whole migration.
run_suite "replication: subscriber" bash test/replication/subscriber.sh
# Differential fuzz (issue 9): fixed seed, bounded at 150 s; needs psycopg2.
fuzz_python=python3
"$fuzz_python" -c 'import psycopg2' 2>/dev/null || fuzz_python=/usr/bin/python3
run_suite "fuzz" "$fuzz_python" test/fuzz/fuzz.py
# Last: its crash checks restart the cluster. Like stress and fuzz, it writes
# its report to build/reports/ (build output); records/ changes only with
# ZDM_RECORD=1.
run_suite "reliability" bash test/reliability/run.sh

echo
if [ "$failed" -gt 0 ]; then echo "failed suites: ${failed_names[*]}"; fi
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
