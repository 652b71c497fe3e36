#!/usr/bin/env bash
# pgTAP suite: a fresh database with pgtap and zdm, then every test/pgtap/*.sql
# through pg_prove. Needs a running server and libpq settings in the
# environment, e.g.:  pg_virtualenv -v 15 bash test/pgtap/run.sh
# The tests create roles (alice, mallory, ...) inside transactions that roll
# back, so the roles must not already exist: use a throwaway cluster.
set -euo pipefail

cd "$(dirname "$0")/../.."

db="zdm_pgtap_$$"
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1 || true; }
trap cleanup EXIT

createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pgtap;
CREATE EXTENSION zdm;
SQL

# pg_prove exits nonzero when any test fails or a file dies.
pg_prove --ext .sql -d "$db" "$@" test/pgtap/*.sql
