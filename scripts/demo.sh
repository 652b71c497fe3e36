#!/usr/bin/env bash
# scripts/demo.sh - the README demo, in two acts. In each, an old and a new version of
# an app write side by side (pgbench custom scripts in scripts/demo/) while one zdm
# migration begins under their traffic, backfills with progress and finishes; then
# invariant checks.
#   surname: a NOT NULL surname supersedes last_name (begin_add_column surname
#            up => last_name, not_null + begin_drop_column last_name down => surname).
#   voucher: the join table used_voucher(user_id, voucher_id) becomes the column
#            voucher.user_id (begin_join_to_column), kept in sync both ways while the
#            old app redeems through the join table and the new app through the column;
#            finish validates the column's foreign key and drops the join table.
#
# Usage:   scripts/demo.sh                (from anywhere; installs and builds what it needs
#                                          first, with scripts/setup.sh; DEMO_SKIP_SETUP=1 skips)
#   DEMO_CASES="surname voucher"  the acts to run, in this order (default: both)
#   DEMO_ROWS=200000       surname: rows in person before the migration
#   DEMO_VOUCHERS=50000    voucher: vouchers before the migration (every other one
#                          redeemed; one user per 10 vouchers)
#   DEMO_MAX_TRIES=100     voucher: pgbench --max-tries of both apps, which retry a
#                          transaction PostgreSQL aborted in a deadlock (counted)
#   DEMO_SECONDS=20        how long each act's old app runs (the new app stops at the same time)
#   DEMO_PAUSE=200ms       zdm.backfill pause between batches (so progress is visible)
#   DEMO_DECLARE_SIDES=1   apps declare their side: PGOPTIONS='-c zdm.writer=old|new'
#                          (default 0: both rely on zdm.writer=auto)
#   ZDM_PG_VERSION=15, ZDM_PGPORT=<random free port>
#
# Starts a throwaway cluster with Debian's pg_virtualenv (works as root and as a normal
# user); each act has a database of its own in it. Exits non-zero when an invariant
# fails, a pgbench transaction fails (after its retries, if any) or a client hits an
# error, or any step errors.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
cd "$REPO_ROOT"

DEMO_CASES="${DEMO_CASES:-surname voucher}"
DEMO_ROWS="${DEMO_ROWS:-200000}"
DEMO_VOUCHERS="${DEMO_VOUCHERS:-50000}"
DEMO_MAX_TRIES="${DEMO_MAX_TRIES:-100}"
DEMO_SECONDS="${DEMO_SECONDS:-20}"
DEMO_PAUSE="${DEMO_PAUSE:-200ms}"
DEMO_DECLARE_SIDES="${DEMO_DECLARE_SIDES:-0}"
PG_VERSION="${ZDM_PG_VERSION:-15}"
APP_DIR="$SCRIPT_DIR/demo"

read -r -a CASES <<<"$DEMO_CASES"
(( ${#CASES[@]} > 0 )) || { echo "DEMO_CASES must name at least one of: surname voucher" >&2; exit 2; }
for c in "${CASES[@]}"; do
    [[ "$c" == surname || "$c" == voucher ]] \
        || { echo "DEMO_CASES: unknown case '$c' (the cases: surname voucher)" >&2; exit 2; }
done
[[ "$DEMO_ROWS" =~ ^[1-9][0-9]*$ ]] || { echo "DEMO_ROWS must be a positive integer" >&2; exit 2; }
if ! [[ "$DEMO_VOUCHERS" =~ ^[1-9][0-9]*$ ]] || (( DEMO_VOUCHERS < 100 )); then
    echo "DEMO_VOUCHERS must be an integer >= 100" >&2; exit 2
fi
[[ "$DEMO_MAX_TRIES" =~ ^[1-9][0-9]*$ ]] || { echo "DEMO_MAX_TRIES must be a positive integer" >&2; exit 2; }
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
    export DEMO_CASES DEMO_ROWS DEMO_VOUCHERS DEMO_MAX_TRIES DEMO_SECONDS DEMO_PAUSE DEMO_DECLARE_SIDES
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
act()     { printf '\n%s######## [+%2ds] %s%s\n' "$BOLD" "$(( SECONDS - T0 ))" "$*" "$RESET"; }
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

# Each act works in a fresh database of its own (named after the act), so that
# zdm.status() shows its migration only; psql and pgbench follow PGDATABASE.
ACT=""
use_database() {
    ACT="$1"
    q -c "CREATE DATABASE $ACT"
    export PGDATABASE="$ACT"
}

# Run one app as a background pgbench: 2 clients, prepared statements (like a real
# app: its plans are cached across the DDL of the migration), for $2 seconds; more
# pgbench options (-D variables, --max-tries) after the first four arguments.
# Sets APP_PID.
APP_PID=""
start_app() {
    local name="$1" seconds="$2" script="$3" opts="$4"
    shift 4
    PGOPTIONS="$opts" pgbench -n -M prepared -c 2 -j 2 -T "$seconds" "$@" \
        -f "$script" >"$WORK/$ACT.$name.log" 2>&1 &
    APP_PID=$!
    BG_PIDS+=("$APP_PID")
    note "$name app: pgbench -c 2 -T $seconds $* -f ${script#"$REPO_ROOT"/}${opts:+ with PGOPTIONS=\"$opts\"} (pid $APP_PID)"
}

# Wait for one app and print its pgbench summary. Fails on pgbench errors and on
# failed transactions (with --max-tries: those that failed every try). Sets APP_TX
# and APP_RETRIED (transactions retried after a deadlock or a serialization failure,
# and then committed; empty without --max-tries) and APP_RETRIES (all their retries).
APP_TX="" APP_RETRIED="" APP_RETRIES=""
finish_app() {
    local name="$1" pid="$2" rc=0 log="$WORK/$ACT.$1.log" failed
    wait "$pid" || rc=$?
    echo "--- $name app (pgbench exit code $rc) ---"
    # The summary without the preamble; errors (if any) are printed in full.
    sed -e '/^pgbench (/d' -e 's/^/    /' "$log"
    APP_TX="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")"
    failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")"
    APP_RETRIED="$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$log")"
    APP_RETRIES="$(sed -n 's/^total number of retries: \([0-9]*\).*/\1/p' "$log")"
    (( rc == 0 )) || fail "$name app: pgbench exited with $rc (a client hit an error, see above)"
    [[ -n "$APP_TX" && "$APP_TX" -gt 0 ]] || fail "$name app: no transactions were processed"
    [[ -z "$failed" || "$failed" == 0 ]] || fail "$name app: $failed failed transactions"
    note "$name app: $APP_TX transactions, ${failed:-0} failed${APP_RETRIED:+, $APP_RETRIED retried after a deadlock ($APP_RETRIES retries in all)}"
}

# Run a CALL zdm.backfill(...) in the background and stream, while it runs, its
# NOTICEs and (from another session) zdm.status() whenever that changes. Fails when
# the CALL fails.
# to_jsonb: show whichever progress columns zdm.status() has (it may grow columns).
STATUS_SQL="SELECT s.migration || ': state=' || s.state
                   || coalesce(', backfill=' || (j->>'backfill'), '')
                   || ', rows_done=' || coalesce(j->>'rows_done', '?')
                   || coalesce(' of ~' || coalesce(j->>'rows_total', j->>'rows_estimate'), '')
                   || coalesce(' (' || (j->>'progress') || '%)', '')
                   || coalesce(', conflicts=' || nullif(j->>'conflicts', '0'), '')
              FROM zdm.status() s, to_jsonb(s) j"
run_backfill() {
    local call="$1" out="$WORK/$ACT.backfill.out" pid rc=0 last="" cur total shown=0
    note "(NOTICEs from the backfill session; 'status>' lines come from another session)"
    psql_ -c "$call" >"$out" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    while kill -0 "$pid" 2>/dev/null; do
        # stream the backfill's NOTICEs as they come
        if [[ -s "$out" ]]; then
            total="$(wc -l <"$out")"
            if (( total > shown )); then
                sed -n "$(( shown + 1 )),${total}p" "$out" | sed 's/^/    /'
                shown=$total
            fi
        fi
        cur="$(q -c "$STATUS_SQL" 2>&1 || true)"
        if [[ "$cur" != "$last" ]]; then
            printf '%s\n' "$cur" | sed 's/^/    status> /'
            last="$cur"
        fi
        sleep 0.3
    done
    wait "$pid" || rc=$?
    sed -n "$(( shown + 1 )),\$p" "$out" | sed 's/^/    /'
    (( rc == 0 )) || fail "zdm.backfill failed (psql exit code $rc)"
}

SUMMARY=()

# =================================================================================
# The surname case
# =================================================================================
case_surname() {
    local t0=$SECONDS old_start old_pid new_seconds new_pid migration mismatch nulls
    local shape triggers old_tx new_tx
    use_database surname

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
    start_app old "$DEMO_SECONDS" "$APP_DIR/old_app.sql" "$old_opts" -D maxid="$DEMO_ROWS"
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
    start_app new "$new_seconds" "$APP_DIR/new_app.sql" "$new_opts" -D maxid="$DEMO_ROWS"
    new_pid=$APP_PID
    sleep 2

    heading "5. CALL zdm.backfill(batch_size => 20000, pause => '$DEMO_PAUSE') while both apps run"
    run_backfill "CALL zdm.backfill(batch_size => 20000, pause => '$DEMO_PAUSE')"

    heading "6. Let the apps finish (pgbench -T), then their summaries"
    note "waiting for both apps to stop ..."
    finish_app old "$old_pid"
    old_tx=$APP_TX
    finish_app new "$new_pid"
    new_tx=$APP_TX

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

    heading "surname case done in $(( SECONDS - t0 ))s: both apps ran through the whole migration without an error, every row agrees"
    SUMMARY+=("surname: old app $old_tx transactions, new app $new_tx, 0 failed; 0 rows where last_name and surname differ; $(( SECONDS - t0 ))s")
}

# =================================================================================
# The voucher case
# =================================================================================
# The (voucher_id, user_id) pairs that only one shape holds, EXCEPT both ways, in one
# statement (one snapshot: a write and zdm's copy of it commit together).
PAIRS_ONLY_IN_JOIN="SELECT voucher_id, user_id FROM used_voucher
                    EXCEPT SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL"
PAIRS_ONLY_IN_COLUMN="SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL
                      EXCEPT SELECT voucher_id, user_id FROM used_voucher"
DIFF_SQL="SELECT (SELECT count(*) FROM ($PAIRS_ONLY_IN_JOIN) d) || ' ' || (SELECT count(*) FROM ($PAIRS_ONLY_IN_COLUMN) d)"

# Fails, showing a few of them, if a pair is in one shape only. $1: when.
check_pairs() {
    local when="$1" diff only_join only_column
    diff="$(q -c "$DIFF_SQL")"
    read -r only_join only_column <<<"$diff"
    note "$when: pairs in used_voucher EXCEPT voucher.user_id: $only_join, the other way round: $only_column (both must be 0)"
    if [[ "$only_join" != 0 || "$only_column" != 0 ]]; then
        psql_ -c "(SELECT 'only in used_voucher' AS only_in, * FROM ($PAIRS_ONLY_IN_JOIN) d ORDER BY 2 LIMIT 10)
                  UNION ALL
                  (SELECT 'only in voucher.user_id', * FROM ($PAIRS_ONLY_IN_COLUMN) d ORDER BY 2 LIMIT 10)"
        fail "$when: used_voucher and voucher.user_id disagree ($only_join + $only_column pairs in one shape only)"
    fi
}

case_voucher() {
    local t0=$SECONDS users=$(( DEMO_VOUCHERS / 10 )) hot=100 batch=$(( DEMO_VOUCHERS / 20 ))
    local old_start old_pid new_seconds new_pid migration redeemed final_redeemed
    local shape fk triggers old_tx new_tx retried=0 retries=0 app_vars opts
    use_database voucher
    # The apps' variables; half their transactions pick one of the first $hot
    # vouchers, where the two apps often write the same voucher at the same instant.
    app_vars=(-D users="$users" -D vouchers="$DEMO_VOUCHERS" -D hot="$hot"
              --max-tries="$DEMO_MAX_TRIES" --failures-detailed)

    heading "1. Create app_user ($users users), voucher ($DEMO_VOUCHERS vouchers) and the join table used_voucher (every other voucher redeemed)"
    psql_ -q <<SQL
CREATE EXTENSION zdm;
CREATE TABLE app_user (
    id   integer PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE voucher (
    id   integer PRIMARY KEY,
    code text NOT NULL
);
-- A redeemed voucher has a row here: one user per voucher (voucher_id is UNIQUE).
CREATE TABLE used_voucher (
    user_id    integer NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    voucher_id integer NOT NULL REFERENCES voucher (id),
    PRIMARY KEY (user_id, voucher_id),
    UNIQUE (voucher_id)
);
INSERT INTO app_user SELECT g, 'user_' || g FROM generate_series(1, $users) g;
INSERT INTO voucher SELECT g, 'V' || lpad(g::text, 8, '0') FROM generate_series(1, $DEMO_VOUCHERS) g;
INSERT INTO used_voucher (user_id, voucher_id)
SELECT (g / 2) % $users + 1, g FROM generate_series(2, $DEMO_VOUCHERS, 2) g;
VACUUM ANALYZE app_user, voucher, used_voucher;
SQL
    note "$(q -c 'SELECT count(*) FROM voucher') vouchers, $(q -c 'SELECT count(*) FROM used_voucher') redeemed, $(q -c 'SELECT count(*) FROM app_user') users"
    psql_ -c '\d used_voucher' -c '\d voucher'

    heading "2. Start the old app (v1: redeems and un-redeems through used_voucher only)"
    note "(both apps retry a transaction PostgreSQL aborts in a deadlock, and look for deadlocks after"
    note " 100ms rather than 1s: PGOPTIONS='-c deadlock_timeout=100ms')"
    old_start=$SECONDS
    opts="${old_opts:+$old_opts }-c deadlock_timeout=100ms"
    start_app old "$DEMO_SECONDS" "$APP_DIR/voucher_old_app.sql" "$opts" "${app_vars[@]}"
    old_pid=$APP_PID
    sleep 3

    heading "3. One migration, under live traffic: the join table used_voucher(voucher_id, user_id) becomes the column voucher.user_id"
    migration="$(q -c "SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id', migration => 'voucher')")"
    note "migration: $migration (voucher.user_id appears now, empty until the backfill, with used_voucher's"
    note "foreign key to app_user as a NOT VALID one; zdm's triggers keep both shapes in sync until finish drops used_voucher)"
    psql_ -c '\d voucher'

    heading "4. Start the new app (v2: redeems and un-redeems through voucher.user_id only)"
    new_seconds=$(( DEMO_SECONDS - (SECONDS - old_start) ))   # stop together with the old app
    (( new_seconds >= 3 )) || new_seconds=3
    opts="${new_opts:+$new_opts }-c deadlock_timeout=100ms"
    start_app new "$new_seconds" "$APP_DIR/voucher_new_app.sql" "$opts" "${app_vars[@]}"
    new_pid=$APP_PID
    sleep 2

    heading "5. CALL zdm.backfill(batch_size => $batch, pause => '$DEMO_PAUSE') while both apps run: copies the redemptions made before begin"
    run_backfill "CALL zdm.backfill(batch_size => $batch, pause => '$DEMO_PAUSE')"

    heading "6. Both shapes agree while both apps still write"
    check_pairs "live, in one snapshot"

    heading "7. Let the apps finish (pgbench -T), then their summaries"
    note "waiting for both apps to stop ..."
    finish_app old "$old_pid"
    old_tx=$APP_TX
    retried=$(( retried + ${APP_RETRIED:-0} )) retries=$(( retries + ${APP_RETRIES:-0} ))
    finish_app new "$new_pid"
    new_tx=$APP_TX
    retried=$(( retried + ${APP_RETRIED:-0} )) retries=$(( retries + ${APP_RETRIES:-0} ))
    note "both apps: $(( old_tx + new_tx )) transactions, $retried of them retried after a deadlock, none failed"

    heading "8. zdm.status()"
    psql_ -x -c 'SELECT * FROM zdm.status()'

    heading "9. Verify invariants"
    psql_ -c "SELECT (SELECT count(*) FROM voucher) AS vouchers,
                     (SELECT count(*) FROM used_voucher) AS redeemed_in_used_voucher,
                     (SELECT count(*) FROM voucher WHERE user_id IS NOT NULL) AS redeemed_in_voucher_user_id"
    check_pairs "apps stopped"
    redeemed="$(q -c 'SELECT count(*) FROM used_voucher')"

    heading "10. zdm.finish(): compare both shapes, VALIDATE voucher.user_id's foreign key, drop used_voucher"
    psql_ -c "SELECT zdm.finish('$migration')"

    heading "11. Final shape of voucher"
    psql_ -c '\d voucher'
    psql_ -x -c 'SELECT * FROM zdm.status()'
    # The final shape: user_id (nullable) with used_voucher's foreign key to app_user,
    # validated, ON DELETE SET NULL (a redemption deleted with its user is a voucher
    # cleared); used_voucher gone; no zdm trigger left; no redemption lost.
    shape="$(q -c "SELECT string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum)
                     FROM pg_attribute
                    WHERE attrelid = 'voucher'::regclass AND attnum > 0 AND NOT attisdropped")"
    note "columns: $shape"
    [[ "$shape" == "id:true,code:true,user_id:false" ]] \
        || fail "final columns are '$shape', expected 'id:true,code:true,user_id:false'"
    [[ -z "$(q -c "SELECT to_regclass('used_voucher')")" ]] || fail "used_voucher still exists after finish"
    note "used_voucher: gone"
    fk="$(q -c "SELECT string_agg(pg_get_constraintdef(oid) || CASE WHEN convalidated THEN ' (validated)' ELSE ' (NOT VALID)' END, '; ')
                  FROM pg_constraint
                 WHERE conrelid = 'voucher'::regclass AND contype = 'f'")"
    note "foreign key: $fk"
    [[ "$fk" == "FOREIGN KEY (user_id) REFERENCES app_user(id) ON DELETE SET NULL (validated)" ]] \
        || fail "voucher's foreign keys are '$fk', expected one to app_user(id), ON DELETE SET NULL, validated"
    triggers="$(q -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'voucher'::regclass AND NOT tgisinternal")"
    [[ "$triggers" == 0 ]] || fail "$triggers trigger(s) left on voucher after finish"
    final_redeemed="$(q -c 'SELECT count(*) FROM voucher WHERE user_id IS NOT NULL')"
    note "redeemed vouchers: $final_redeemed (used_voucher had $redeemed)"
    [[ "$final_redeemed" == "$redeemed" ]] \
        || fail "$final_redeemed vouchers are redeemed after finish, used_voucher had $redeemed"

    heading "voucher case done in $(( SECONDS - t0 ))s: both apps ran through the whole migration without a failed transaction, both shapes held the same redemptions"
    SUMMARY+=("voucher: old app $old_tx transactions, new app $new_tx, $retried retried after a deadlock ($retries retries), 0 failed; 0 pairs in one shape only; $(( SECONDS - t0 ))s")
}

n=0
for c in "${CASES[@]}"; do
    n=$(( n + 1 ))
    case "$c" in
        surname) act "Act $n of ${#CASES[@]}: the surname case (a NOT NULL surname supersedes last_name)" ;;
        voucher) act "Act $n of ${#CASES[@]}: the voucher case (the join table used_voucher becomes the column voucher.user_id)" ;;
    esac
    "case_$c"
done

heading "Done in $(( SECONDS - T0 ))s: every app ran through its migration without a failed transaction, every invariant held"
for s in "${SUMMARY[@]}"; do note "$s"; done
