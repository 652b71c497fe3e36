# test/clients/lib.sh — shared by the client scripts (sourced, not run).
# Each script calls client_init "$@" first: outside a cluster (no PGHOST/PGPORT) it
# re-runs itself under `pg_virtualenv -t`, so it also works on its own.

CLIENTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SKIP_EXIT=77   # a tool this script needs is not installed

client_init() {
    if [[ -z "${PGHOST:-}" && -z "${PGPORT:-}" ]]; then
        command -v pg_virtualenv >/dev/null \
            || { echo "no PGHOST/PGPORT and no pg_virtualenv (apt-get install postgresql-common)" >&2; exit 2; }
        exec pg_virtualenv -t -v "${ZDM_PG_VERSION:-15}" bash "$0" "$@"
    fi
}

CHECKS=0
FAILURES=0
ok()     { CHECKS=$(( CHECKS + 1 )); echo "  ok   $*"; }
not_ok() { CHECKS=$(( CHECKS + 1 )); FAILURES=$(( FAILURES + 1 )); echo "  FAIL $*"; }
section() { echo "-- $*"; }

q() { psql -X -v ON_ERROR_STOP=1 -qAt "$@"; }

expect_eq() {   # label expected actual
    if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}

# run label cmd...: runs a tool step, shows its output indented, checks its exit code.
run() {
    local label="$1" rc=0
    shift
    "$@" >"$CLIENT_TMP/out" 2>&1 || rc=$?
    sed 's/^/       | /' "$CLIENT_TMP/out"
    if (( rc == 0 )); then ok "$label"; else not_ok "$label (exit code $rc)"; fi
    return "$rc"
}

# run_fails label pattern cmd...: the step must fail, with output matching pattern.
run_fails() {
    local label="$1" pattern="$2" rc=0
    shift 2
    "$@" >"$CLIENT_TMP/out" 2>&1 || rc=$?
    # The failure's last lines are enough (Alembic prints a whole traceback).
    tail -4 "$CLIENT_TMP/out" | sed 's/^/       | /'
    if (( rc == 0 )); then
        not_ok "$label: succeeded, but it must fail"
    elif grep -Eq -- "$pattern" "$CLIENT_TMP/out"; then
        ok "$label (refused as expected)"
    else
        not_ok "$label: failed (exit code $rc) without saying /$pattern/"
    fi
}

fresh_db() {
    export PGDATABASE="$1"
    dropdb --if-exists "$PGDATABASE" >/dev/null 2>&1
    createdb "$PGDATABASE" || { echo "createdb $PGDATABASE failed" >&2; exit 1; }
    CLIENT_TMP="$(mktemp -d -t zdm-client.XXXXXX)"
    trap 'stop_watch; rm -rf "$CLIENT_TMP"; [[ "${CLIENTS_KEEP:-0}" == 1 ]] || dropdb --if-exists "$PGDATABASE" >/dev/null 2>&1' EXIT
}

# "name:type:notnull,..." of a table's live columns.
columns() {
    q -c "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || attnotnull,
                            ',' ORDER BY attnum)
            FROM pg_attribute WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped"
}

# Everything abort must restore: columns, defaults, constraints, indexes, triggers.
fingerprint() {
    q -c "SELECT string_agg(x, E'\n' ORDER BY x) FROM (
            SELECT format('col %s %s %s notnull=%s default=%s', a.attnum, a.attname,
                          format_type(a.atttypid, a.atttypmod), a.attnotnull,
                          pg_get_expr(d.adbin, d.adrelid)) AS x
              FROM pg_attribute a
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = '$1'::regclass AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT format('con %s %s %s', conname, pg_get_constraintdef(oid), convalidated)
              FROM pg_constraint WHERE conrelid = '$1'::regclass
            UNION ALL
            SELECT format('idx %s', pg_get_indexdef(indexrelid)) FROM pg_index
             WHERE indrelid = '$1'::regclass
            UNION ALL
            SELECT format('trg %s', pg_get_triggerdef(oid)) FROM pg_trigger
             WHERE tgrelid = '$1'::regclass AND NOT tgisinternal) s"
}

user_triggers() { q -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = '$1'::regclass AND NOT tgisinternal"; }
# One state per migration (a migration may hold several operations).
migration_states() { q -c "SELECT coalesce(string_agg(state, ',' ORDER BY created_at), '') FROM zdm.migrations"; }

# Backfill watcher: another session polls zdm.status() while a tool runs the backfill.
# A backfill that commits batch by batch shows up as 'running' with some rows done;
# one that runs in a single transaction shows nothing until it is over.
WATCH_PID=""
start_watch() {
    : >"$CLIENT_TMP/watch"
    (
        while [[ ! -e "$CLIENT_TMP/watch.stop" ]]; do
            psql -X -qAt -c "SELECT (to_jsonb(s)->>'backfill') || ':' || coalesce(to_jsonb(s)->>'rows_done', '')
                               FROM zdm.status() s WHERE s.state = 'active'" >>"$CLIENT_TMP/watch" 2>/dev/null
            sleep 0.05
        done
    ) &
    WATCH_PID=$!
}
stop_watch() {
    [[ -n "$WATCH_PID" ]] || return 0
    touch "$CLIENT_TMP/watch.stop"
    wait "$WATCH_PID" 2>/dev/null
    WATCH_PID=""
    rm -f "$CLIENT_TMP/watch.stop"
}
# Prints how many distinct intermediate progress values another session saw.
intermediate_progress() {
    grep -E '^running:[0-9]+$' "$CLIENT_TMP/watch" | grep -v ':0$' | sort -u | wc -l
}

finish_client() {   # name
    echo "$1: $(( CHECKS - FAILURES ))/$CHECKS checks passed"
    (( FAILURES == 0 ))
}
