#!/usr/bin/env bash
# Sets everything up and runs every test: unit (ctest), pg_regress, isolation,
# pgTAP, stress and clients. The server tests run in a throwaway PostgreSQL 15
# cluster made by pg_virtualenv (which also works as root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== unit tests (ctest)"
(cd build && ctest --output-on-failure)

echo "== server tests in a throwaway cluster"
PGPORT=$(scripts/free-port.sh) pg_virtualenv -t -v 15 -o 'max_prepared_transactions=10' \
  scripts/test-in-cluster.sh "$@"
