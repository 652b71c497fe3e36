#!/usr/bin/env bash
# test/clients/run.sh — zdm called from the migration tools users already have, with
# no zdm CLI: Alembic (alembic.sh), Sqitch (sqitch.sh) and plain psql (psql.sh).
#
# Usage:
#   pg_virtualenv -v 15 bash test/clients/run.sh [client...]   (as root or a normal user)
#   bash test/clients/run.sh [client...]   (no PGHOST/PGPORT: starts its own cluster
#                                           with pg_virtualenv -t)
#   clients: alembic sqitch psql (default: all)
# Environment:
#   CLIENTS_ALLOW_SKIP=1  a client whose tool is not installed is skipped instead of
#                         failed (it never counts as passed)
#   CLIENTS_KEEP=1        keep the test databases
# Ends with "N passed, M failed"; exits 1 if M > 0.
set -uo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ -z "${PGHOST:-}" && -z "${PGPORT:-}" ]]; then
    command -v pg_virtualenv >/dev/null \
        || { echo "no PGHOST/PGPORT and no pg_virtualenv (apt-get install postgresql-common)" >&2; exit 2; }
    exec pg_virtualenv -t -v "${ZDM_PG_VERSION:-15}" bash "${BASH_SOURCE[0]}" "$@"
fi

CLIENTS=("$@")
((${#CLIENTS[@]})) || CLIENTS=(alembic sqitch psql)
PASSED=0 FAILED=0 SKIPPED=() RESULTS=()
for client in "${CLIENTS[@]}"; do
    script="$DIR/$client.sh"
    if [[ ! -f "$script" ]]; then
        echo "unknown client '$client' (no $script)" >&2
        FAILED=$(( FAILED + 1 )); RESULTS+=("$client: FAIL (no such client)"); continue
    fi
    echo "=== $client"
    start=$SECONDS rc=0
    bash "$script" || rc=$?
    took=$(( SECONDS - start ))
    if (( rc == 0 )); then
        PASSED=$(( PASSED + 1 )); RESULTS+=("$client: PASS (${took}s)")
    elif (( rc == 77 )) && [[ "${CLIENTS_ALLOW_SKIP:-0}" == 1 ]]; then
        SKIPPED+=("$client"); RESULTS+=("$client: SKIP (tool not installed)")
    elif (( rc == 77 )); then
        FAILED=$(( FAILED + 1 )); RESULTS+=("$client: FAIL (tool not installed; CLIENTS_ALLOW_SKIP=1 to skip)")
    else
        FAILED=$(( FAILED + 1 )); RESULTS+=("$client: FAIL (exit code $rc, ${took}s)")
    fi
    echo
done

echo "=== summary"
printf '%s\n' "${RESULTS[@]}"
((${#SKIPPED[@]})) && echo "skipped: ${SKIPPED[*]}"
echo "$PASSED passed, $FAILED failed"
(( FAILED == 0 ))
