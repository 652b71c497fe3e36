#!/usr/bin/env bash
# scripts/demo.sh - the README demo, the surname case: a NOT NULL surname supersedes
# last_name under live traffic from two app versions at once, with one zdm migration
# (begin_add_column surname up => last_name, not_null + begin_drop_column last_name
# down => surname), backfill with progress, and finish.
#
# Usage:   scripts/demo.sh                (from anywhere; installs and builds what it needs
#                                          first, with scripts/setup.sh; DEMO_SKIP_SETUP=1 skips)
#   DEMO_ROWS=200000       rows in person before the migration
#   DEMO_SECONDS=20        how long the old app runs (the new app stops at the same time)
#   DEMO_PAUSE=200ms       zdm.backfill pause between batches (so progress is visible)
#   DEMO_DECLARE_SIDES=1   apps declare their side: PGOPTIONS='-c zdm.writer=old|new'
#                          (default 0: both rely on zdm.writer=auto)
#   ZDM_PG_VERSION=15, ZDM_PGPORT=<random free port>
#
# Starts a throwaway cluster with Debian's pg_virtualenv (works as root and as a normal
# user). The two apps are pgbench custom scripts in scripts/demo/. Exits non-zero when
# an invariant fails, a pgbench client hits an error, or any step errors.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
cd "$REPO_ROOT"

DEMO_ROWS="${DEMO_ROWS:-200000}"
DEMO_SECONDS="${DEMO_SECONDS:-20}"
DEMO_PAUSE="${DEMO_PAUSE:-200ms}"
DEMO_DECLARE_SIDES="${DEMO_DECLARE_SIDES:-0}"
PG_VERSION="${ZDM_PG_VERSION:-15}"
APP_DIR="$SCRIPT_DIR/demo"

[[ "$DEMO_ROWS" =~ ^[1-9][0-9]*$ ]] || { echo "DEMO_ROWS must be a positive integer" >&2; exit 2; }
if ! [[ "$DEMO_SECONDS" =~ ^[1-9][0-9]*$ ]] || (( DEMO_SECONDS < 8 )); then
    echo "DEMO_SECONDS must be an integer >= 8" >&2; exit 2
fi

# A random free TCP port for the throwaway cluster: pg_createcluster's own choice
# (the first free port from 5432) races when two pg_virtualenv runs start together.
pick_port() {
    local p i
    for (( i = 0; i < 100; i++ )); do
        p=$(( 20000 + RANDOM % 30000 ))
        [[ -e "/var/run/postgresql/.s.PGSQL.$p" ]] && continue
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue   # something listens
        echo "$p"
        return
    done
    echo 5432
}

if [[ "${1:-}" != "--inner" ]]; then
    [[ "${DEMO_SKIP_SETUP:-0}" == 1 ]] || "$REPO_ROOT/scripts/setup.sh"
    command -v pg_virtualenv >/dev/null || { echo "pg_virtualenv not found (apt-get install postgresql-common)" >&2; exit 2; }
    export DEMO_ROWS DEMO_SECONDS DEMO_PAUSE DEMO_DECLARE_SIDES
    # -t: keep the throwaway cluster in a temp dir even as root, so that a concurrent
    # pg_virtualenv (e.g. a test run) cannot collide with ours.
    PGPORT="${ZDM_PGPORT:-$(pick_port)}"
    export PGPORT
    exec pg_virtualenv -t -v "$PG_VERSION" bash "$SCRIPT_DIR/demo.sh" --inner
fi

# ---------------------------------------------------------------------------------
# Inside pg_virtualenv: PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE are set.
# ---------------------------------------------------------------------------------
T0=$SECONDS
WORK="$(mktemp -d -t zdm-demo.XXXXXX)"
BG_PIDS=()
cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -t 1 ]]; then BOLD=$'\033[1m' RED=$'\033[1;31m' RESET=$'\033[0m'; else BOLD="" RED="" RESET=""; fi
heading() { printf '\n%s=== [+%2ds] %s%s\n' "$BOLD" "$(( SECONDS - T0 ))" "$*" "$RESET"; }
note()    { printf '    %s\n' "$*"; }
fail()    { printf '\n%sDEMO FAILED: %s%s\n' "$RED" "$*" "$RESET" >&2; exit 1; }
psql_()   { psql -X -v ON_ERROR_STOP=1 "$@"; }           # shows results and NOTICEs
q()       { psql -X -v ON_ERROR_STOP=1 -qAt "$@"; }      # one value, no decoration

old_opts="" new_opts=""
if [[ "$DEMO_DECLARE_SIDES" == 1 ]]; then
    old_opts="-c zdm.writer=old"
    new_opts="-c zdm.writer=new"
fi

# Run one app as a background pgbench: 2 clients, prepared statements (like a real
# app: its plans are cached across the DDL of the migration), for $2 seconds.
# Sets APP_PID.
APP_PID=""
start_app() {
    local name="$1" seconds="$2" script="$3" opts="$4"
    PGOPTIONS="$opts" pgbench -n -M prepared -c 2 -j 2 -T "$seconds" \
        -D maxid="$DEMO_ROWS" -f "$script" >"$WORK/$name.log" 2>&1 &
    APP_PID=$!
    BG_PIDS+=("$APP_PID")
    note "$name app: pgbench -c 2 -T $seconds -f ${script#"$REPO_ROOT"/}${opts:+ with PGOPTIONS=\"$opts\"} (pid $APP_PID)"
}

# Wait for one app and print its pgbench summary. Fails on pgbench errors.
finish_app() {
    local name="$1" pid="$2" rc=0
    wait "$pid" || rc=$?
    echo "--- $name app (pgbench exit code $rc) ---"
    # The summary without the preamble; errors (if any) are printed in full.
    sed -e '/^pgbench (/d' -e 's/^/    /' "$WORK/$name.log"
    local processed failed
    processed="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/$name.log")"
    failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/$name.log")"
    (( rc == 0 )) || fail "$name app: pgbench exited with $rc (a client hit an error, see above)"
    [[ -n "$processed" && "$processed" -gt 0 ]] || fail "$name app: no transactions were processed"
    [[ -z "$failed" || "$failed" == 0 ]] || fail "$name app: $failed failed transactions"
    note "$name app: $processed transactions, ${failed:-0} failed"
}

heading "1. Create person with $DEMO_ROWS rows"
psql_ -q <<SQL
CREATE EXTENSION zdm;
CREATE TABLE person (
    id         bigserial PRIMARY KEY,
    first_name text,
    last_name  text NOT NULL
);
INSERT INTO person (first_name, last_name)
SELECT 'first_' || g, 'last_' || g FROM generate_series(1, $DEMO_ROWS) g;
VACUUM ANALYZE person;
SQL
note "$(q -c 'SELECT count(*) FROM person') rows"
psql_ -c '\d person'

heading "2. Start the old app (v1: reads and writes last_name only)"
old_start=$SECONDS
start_app old "$DEMO_SECONDS" "$APP_DIR/old_app.sql" "$old_opts"
old_pid=$APP_PID
sleep 3

heading "3. One migration, under live traffic: add surname (NOT NULL, up => last_name), drop last_name (down => surname)"
migration="$(q -c "SELECT zdm.begin_add_column('person', 'surname', 'text', up => 'last_name', not_null => true, migration => 'surname')")"
q -c "SELECT zdm.begin_drop_column('person', 'last_name', down => 'surname', migration => '$migration')" >/dev/null
note "migration: $migration (surname appears now, NOT NULL as a NOT VALID check; last_name stays until finish)"
psql_ -c '\d person'

heading "4. Start the new app (v2: reads and writes surname only)"
new_seconds=$(( DEMO_SECONDS - (SECONDS - old_start) ))   # stop together with the old app
(( new_seconds >= 3 )) || new_seconds=3
start_app new "$new_seconds" "$APP_DIR/new_app.sql" "$new_opts"
new_pid=$APP_PID
sleep 2

heading "5. CALL zdm.backfill(batch_size => 20000, pause => '$DEMO_PAUSE') while both apps run"
note "(NOTICEs from the backfill session; 'status>' lines come from another session)"
psql_ -c "CALL zdm.backfill(batch_size => 20000, pause => '$DEMO_PAUSE')" >"$WORK/backfill.out" 2>&1 &
backfill_pid=$!
BG_PIDS+=("$backfill_pid")
# to_jsonb: show whichever progress columns zdm.status() has (it may grow columns).
status_sql="SELECT s.migration || ': state=' || s.state
                   || coalesce(', backfill=' || (j->>'backfill'), '')
                   || ', rows_done=' || coalesce(j->>'rows_done', '?')
                   || coalesce(' of ~' || coalesce(j->>'rows_total', j->>'rows_estimate'), '')
                   || coalesce(' (' || (j->>'progress') || '%)', '')
              FROM zdm.status() s, to_jsonb(s) j"
last=""
shown=0
while kill -0 "$backfill_pid" 2>/dev/null; do
    # stream the backfill's NOTICEs as they come
    if [[ -s "$WORK/backfill.out" ]]; then
        total="$(wc -l <"$WORK/backfill.out")"
        if (( total > shown )); then
            sed -n "$(( shown + 1 )),${total}p" "$WORK/backfill.out" | sed 's/^/    /'
            shown=$total
        fi
    fi
    cur="$(q -c "$status_sql" 2>&1 || true)"
    if [[ "$cur" != "$last" ]]; then
        printf '%s\n' "$cur" | sed 's/^/    status> /'
        last="$cur"
    fi
    sleep 0.3
done
rc=0
wait "$backfill_pid" || rc=$?
sed -n "$(( shown + 1 )),\$p" "$WORK/backfill.out" | sed 's/^/    /'
(( rc == 0 )) || fail "zdm.backfill failed (psql exit code $rc)"

heading "6. Let the apps finish (pgbench -T), then their summaries"
note "waiting for both apps to stop ..."
finish_app old "$old_pid"
finish_app new "$new_pid"

heading "7. zdm.status()"
psql_ -x -c 'SELECT * FROM zdm.status()'

heading "8. Verify invariants"
mismatch="$(q -c 'SELECT count(*) FROM person WHERE last_name IS DISTINCT FROM surname')"
note "rows where last_name IS DISTINCT FROM surname: $mismatch (must be 0)"
psql_ -c "SELECT coalesce(first_name, '?') AS written_by, count(*) AS rows,
                 count(*) FILTER (WHERE last_name IS DISTINCT FROM surname) AS mismatches
            FROM person
           WHERE first_name IN ('old-app', 'new-app')
           GROUP BY 1 ORDER BY 1"
if [[ "$mismatch" != 0 ]]; then
    psql_ -c "SELECT id, first_name, last_name, surname FROM person
               WHERE last_name IS DISTINCT FROM surname ORDER BY id LIMIT 10"
    fail "$mismatch rows have last_name IS DISTINCT FROM surname"
fi
nulls="$(q -c 'SELECT count(*) FROM person WHERE surname IS NULL')"
note "rows where surname IS NULL: $nulls (must be 0)"
[[ "$nulls" == 0 ]] || fail "$nulls rows have surname NULL after the backfill"

heading "9. zdm.finish(): VALIDATE the check, SET NOT NULL on surname, drop last_name"
psql_ -c "SELECT zdm.finish('$migration')"

heading "10. Final shape of person"
psql_ -c '\d person'
psql_ -x -c 'SELECT * FROM zdm.status()'
# The final shape: surname (NOT NULL, set at finish), no last_name,
# no zdm trigger left on the table, no row lost.
shape="$(q -c "SELECT string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
                 FROM pg_attribute
                WHERE attrelid = 'person'::regclass AND attnum > 0 AND NOT attisdropped")"
note "columns: $shape"
[[ "$shape" == "id:true,first_name:false,surname:true" ]] \
    || fail "final columns are '$shape', expected 'id:true,first_name:false,surname:true'"
triggers="$(q -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'person'::regclass AND NOT tgisinternal")"
[[ "$triggers" == 0 ]] || fail "$triggers trigger(s) left on person after finish"
nulls="$(q -c 'SELECT count(*) FROM person WHERE surname IS NULL')"
[[ "$nulls" == 0 ]] || fail "$nulls rows have surname NULL after finish"

heading "Done in $(( SECONDS - T0 ))s: both apps ran through the whole migration without an error, every row agrees"
