#!/usr/bin/env bash
# test/stress/run.sh — mixed-version stress test of zdm, driven by pgbench.
#
# For every operation under test/stress/ops/<op>/ it runs the migration twice under
# live traffic from an old and a new app version, once ending in zdm.finish() and
# once in zdm.abort(), and checks that no write is lost and both shapes agree.
#
# Usage:
#   pg_virtualenv -v 15 bash test/stress/run.sh [options]   (as root or a normal user)
#   bash test/stress/run.sh [options]      (no PGHOST/PGPORT set: starts its own
#                                            throwaway cluster with pg_virtualenv -t)
# Options:
#   --large          longer, larger runs (STRESS_SCALE=10 unless STRESS_SCALE is set)
#   --op NAME        only this operation (repeatable); default: every ops/*/ directory
#   --end finish|abort   only runs that end this way (default: both)
#   -h, --help
# Environment:
#   STRESS_SCALE=N        multiplies rows and durations (default 1: ~60 s in all)
#   STRESS_SEED_ROWS=N    rows seeded (default 100000 * scale)
#   STRESS_CLIENTS=N      pgbench clients per app instance (default 2, more when scaled)
#   STRESS_BATCH=N        zdm.backfill batch_size (default 2000)
#   STRESS_TOUCH_PCT=P    percent of app transactions that update another column
#                         (first_name) instead of the migrated one (default 10)
#   STRESS_SEGMENT=S      an app runs as back-to-back pgbench runs of S seconds, so it
#                         can be stopped at a step boundary (default 2 + scale, at most 15)
#   STRESS_MAX_TRIES=N    pgbench --max-tries: retry a transaction that failed on a
#                         deadlock or a serialization failure up to N tries in all
#                         (default: unset, no retries; any such failure fails the run)
#   STRESS_KEEP=1         keep the databases and logs
#   STRESS_LAST_RUN=FILE  where the figures go (default: build/reports/stress.txt,
#                         build output, or $ZDM_REPORTS/stress.txt)
#   ZDM_RECORD=1          also write them to records/stress.txt, the committed record
#
# An operation is a directory test/stress/ops/<op>/ holding:
#   setup.sql         creates and seeds the tables (psql var :seed), CREATE EXTENSION zdm
#   begin.sql         the zdm.begin_* call(s); run while the old app runs
#   old_app.pgbench   the old app's transaction; new_app.pgbench the new app's.
#                     pgbench vars: -D app=<instance no>, -D seed=<rows>,
#                     -D touch_pct=<percent>; and pgbench's :client_id.
#                     Each records what it wrote in its own side table.
#   check.sql         invariants (psql vars :phase = window|finished|aborted, :seed);
#                     prints one row per check, "name|violations|detail"; any
#                     violations other than 0 fail the run.
#   op.env            (optional) shell variables overriding the defaults above
#                     (SEED, CLIENTS, BATCH, SEGMENT, TOUCH_PCT, T_PRE, T_BOTH,
#                     T_AFTER, T_POST, MAX_TRIES), and APP_PGOPTIONS: settings for
#                     the apps' sessions only (e.g. "-c deadlock_timeout=100ms");
#                     OP_VARS=(name=value ...): psql variables for the op's .sql
#                     files; BASE_OP=<op>: a variant of that op, whose files
#                     stand in for the ones this directory lacks (e.g. its
#                     setup.sql and check.sql, parameterised by OP_VARS)
#   pre_finish.sql    (optional) what the migration tool runs before zdm.finish(),
#                     outside any transaction block (e.g. the statements
#                     zdm.pending_statements() lists, with \gexec); run while both
#                     apps still write; when it fails, finish is not attempted
#
# Each run, in a fresh database:
#   setup -> old app (2 instances: zdm.writer=old, and auto) -> begin ->
#   new app (2 instances: zdm.writer=new, and auto) -> CALL zdm.backfill(batch_size)
#   -> window check (both apps running)
#   finish run: pre_finish.sql (both apps running) -> stop old app -> window check
#               -> zdm.finish() -> new app keeps running
#   abort run:  stop new app -> window check -> zdm.abort()  -> old app keeps running
#   -> stop the remaining app -> final check (+ for abort: the schema is exactly as
#   before begin). Any pgbench failed transaction or client error fails the run;
#   with MAX_TRIES set, deadlocks and serialization failures are retried by pgbench
#   (a transaction that still fails after MAX_TRIES tries fails the run), a
#   CALL zdm.backfill() that PostgreSQL picked as a deadlock victim is run again
#   (it resumes after its last committed batch), and the figures count both.
#
# Prints a summary line per run and ends with "N passed, M failed"; exits 1 if M > 0.
set -uo pipefail

STRESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ORIG_ARGS=("$@")

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

LARGE=0
ONLY_OPS=()
ENDS=(finish abort)
while (($#)); do
    case "$1" in
        --large) LARGE=1 ;;
        --op) [[ $# -ge 2 ]] || { echo "--op needs a name" >&2; exit 2; }; ONLY_OPS+=("$2"); shift ;;
        --end)
            [[ $# -ge 2 && ( "$2" == finish || "$2" == abort ) ]] || { echo "--end takes finish or abort" >&2; exit 2; }
            ENDS=("$2"); shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [[ -z "${PGHOST:-}" && -z "${PGPORT:-}" ]]; then
    command -v pg_virtualenv >/dev/null \
        || { echo "no PGHOST/PGPORT and no pg_virtualenv (apt-get install postgresql-common)" >&2; exit 2; }
    exec pg_virtualenv -t -v "${ZDM_PG_VERSION:-15}" bash "${BASH_SOURCE[0]}" "${ORIG_ARGS[@]}"
fi

for tool in psql pgbench createdb dropdb; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

int_or_die() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "$1 must be a positive integer, not '$2'" >&2; exit 2; }; }
SCALE="${STRESS_SCALE:-}"
if [[ -z "$SCALE" ]]; then SCALE=$(( LARGE ? 10 : 1 )); fi
int_or_die STRESS_SCALE "$SCALE"
cap() { (( $1 < $2 )) && echo "$1" || echo "$2"; }

D_SEED="${STRESS_SEED_ROWS:-$(( 100000 * SCALE ))}"
D_CLIENTS="${STRESS_CLIENTS:-$(cap $(( 2 + SCALE / 4 )) 8)}"
D_BATCH="${STRESS_BATCH:-2000}"
D_TOUCH_PCT="${STRESS_TOUCH_PCT:-10}"
[[ "$D_TOUCH_PCT" =~ ^[0-9]+$ ]] && (( D_TOUCH_PCT <= 100 )) \
    || { echo "STRESS_TOUCH_PCT must be 0..100, not '$D_TOUCH_PCT'" >&2; exit 2; }
D_SEGMENT="${STRESS_SEGMENT:-$(cap $(( 2 + SCALE )) 15)}"
D_MAX_TRIES="${STRESS_MAX_TRIES:-}"
[[ -z "$D_MAX_TRIES" ]] || int_or_die STRESS_MAX_TRIES "$D_MAX_TRIES"
D_T_PRE=$(( 2 * SCALE ))      # old app alone before begin
D_T_BOTH=$(( 1 * SCALE ))     # both apps, before the backfill
D_T_AFTER=$(( 1 * SCALE ))    # both apps, after the backfill
D_T_POST=$(( 2 * SCALE ))     # the remaining app after finish/abort
for v in D_SEED D_CLIENTS D_BATCH D_SEGMENT; do int_or_die "${v#D_}" "${!v}"; done

OPS=()
if ((${#ONLY_OPS[@]})); then
    for op in "${ONLY_OPS[@]}"; do
        [[ -d "$STRESS_DIR/ops/$op" ]] || { echo "no operation directory ops/$op" >&2; exit 2; }
        OPS+=("$op")
    done
else
    for d in "$STRESS_DIR"/ops/*/; do [[ -d "$d" ]] && OPS+=("$(basename "$d")"); done
fi
((${#OPS[@]})) || { echo "no operations under $STRESS_DIR/ops" >&2; exit 2; }

WORK="$(mktemp -d -t zdm-stress.XXXXXX)"
chmod 755 "$WORK"
cleanup_all() {
    local d pid
    for d in "$WORK"/*/app.*; do
        [[ -d "$d" ]] || continue
        touch "$d/stop"
        [[ -s "$d/pgbench.pid" ]] && { pid="$(cat "$d/pgbench.pid")"; kill "$pid" 2>/dev/null; }
    done
    wait 2>/dev/null
    if [[ "${STRESS_KEEP:-0}" == 1 ]]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[%6.1fs] %s\n' "$(awk -v a="$T0" -v b="$(now)" 'BEGIN { print b - a }')" "$*"; }
T0="$(now)"

# ----------------------------------------------------------------------------------
# Apps: an app instance is a loop of pgbench runs of $SEGMENT seconds, until its stop
# file appears; each segment's output and exit code are kept for the checks.
# ----------------------------------------------------------------------------------
declare -A APP_PID=()
start_app() {   # name script instance writer protocol
    local name="$1" script="$2" instance="$3" writer="$4" proto="$5"
    local dir="$RUN_DIR/app.$name" opts="${PGOPTIONS:-}${APP_PGOPTIONS:+ $APP_PGOPTIONS}" retry=()
    mkdir -p "$dir"
    [[ -z "$MAX_TRIES" ]] || retry=(--max-tries="$MAX_TRIES" --failures-detailed)
    [[ "$writer" == auto ]] || opts="$opts -c zdm.writer=$writer"
    (
        i=0
        while [[ ! -e "$dir/stop" ]]; do
            i=$(( i + 1 ))
            PGOPTIONS="$opts" PGAPPNAME="zdm-stress-$name" \
                pgbench -n -M "$proto" -c "$CLIENTS" -j "$CLIENTS" -T "$SEGMENT" "${retry[@]}" \
                        -D app="$instance" -D seed="$SEED" -D touch_pct="$TOUCH_PCT" -f "$script" \
                        >"$dir/seg.$i.log" 2>&1 &
            echo $! >"$dir/pgbench.pid"
            rc=0
            wait $! || rc=$?
            echo "$rc" >"$dir/seg.$i.rc"
            (( rc == 0 )) || break   # the run fails anyway; do not spin
        done
    ) &
    APP_PID[$name]=$!
    log "start $name app: ${CLIENTS} clients, -M $proto, zdm.writer=$writer${MAX_TRIES:+, --max-tries=$MAX_TRIES}"
}

stop_apps() {   # names...: stops them together (each ends its current segment)
    local name
    for name in "$@"; do touch "$RUN_DIR/app.$name/stop"; done
    for name in "$@"; do wait "${APP_PID[$name]}" 2>/dev/null; done
    log "stopped $* apps"
}

# Sums one app's segments. Sets APP_TX, APP_FAILED, APP_ERRORS (failed transactions +
# aborted clients + bad exits), APP_RETRIED (transactions retried at least once
# after a deadlock or a serialization failure; MAX_TRIES only) and APP_RETRIES (all
# their retries), and appends error lines to $RUN_DIR/errors.
app_stats() {
    local dir="$RUN_DIR/app.$1" log rc tx failed aborted retried retries
    APP_TX=0 APP_FAILED=0 APP_ERRORS=0 APP_RETRIED=0 APP_RETRIES=0
    for log in "$dir"/seg.*.log; do
        [[ -e "$log" ]] || continue
        rc="$(cat "${log%.log}.rc" 2>/dev/null || echo 255)"
        tx="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")"
        failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")"
        aborted="$(grep -c 'aborted in command' "$log")"
        retried="$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$log")"
        retries="$(sed -n 's/^total number of retries: \([0-9]*\).*/\1/p' "$log")"
        APP_TX=$(( APP_TX + ${tx:-0} ))
        APP_RETRIED=$(( APP_RETRIED + ${retried:-0} ))
        APP_RETRIES=$(( APP_RETRIES + ${retries:-0} ))
        APP_FAILED=$(( APP_FAILED + ${failed:-0} ))
        APP_ERRORS=$(( APP_ERRORS + ${failed:-0} + aborted ))
        if [[ "$rc" != 0 ]] && (( aborted == 0 && ${failed:-0} == 0 )); then
            APP_ERRORS=$(( APP_ERRORS + 1 ))
        fi
        if [[ "$rc" != 0 ]] || (( aborted > 0 || ${failed:-0} > 0 )) || [[ -z "$tx" ]]; then
            { echo "== $1 $(basename "$log") (exit code $rc)"
              grep -v -e '^pgbench (' -e '^transaction type:' -e '^scaling factor' \
                      -e '^query mode' -e '^number of clients' -e '^number of threads' \
                      -e '^maximum number of tries' -e '^duration' -e '^latency' \
                      -e '^initial connection' -e '^tps' "$log" | head -20
            } >>"$RUN_DIR/errors"
        fi
    done
}

# ----------------------------------------------------------------------------------
# Steps and checks
# ----------------------------------------------------------------------------------
FAILS=()
fail() { FAILS+=("$*"); log "FAIL: $*"; }

q() { psql -X -v ON_ERROR_STOP=1 -qAt "$@"; }

STEP_NO=0
# With STEP_DEADLOCK_RETRY=1 in its environment, a step that failed on a deadlock
# ("ERROR:  deadlock detected", SQLSTATE 40P01) records no failure and returns 2,
# for the caller to run it again.
step() {   # label, psql args...: runs one psql step, logs its time, records failure
    local label="$1" t out last
    shift
    t="$(now)"
    STEP_NO=$(( STEP_NO + 1 ))
    if out="$(psql -X -v ON_ERROR_STOP=1 -qAt "$@" 2>&1)"; then
        printf '%s\n' "$out" >"$RUN_DIR/step.$STEP_NO.out"
        last="$(printf '%s\n' "$out" | grep . | tail -1 | cut -c1-160)"
        log "$label: ok in $(since "$t")s${last:+ ($last)}"
        return 0
    fi
    printf '%s\n' "$out" >"$RUN_DIR/step.$STEP_NO.out"
    if [[ "${STEP_DEADLOCK_RETRY:-0}" == 1 ]] && grep -q '^ERROR:  deadlock detected$' <<<"$out"; then
        log "$label: deadlock after $(since "$t")s, PostgreSQL aborted it; running it again"
        return 2
    fi
    fail "$label failed: $(printf '%s' "$out" | grep -E 'ERROR|FATAL|error' | head -3 | tr '\n' ' ')"
    printf '%s\n' "$out" | sed 's/^/        /' | tail -15
    return 1
}

# An operation's file: its own, else its BASE_OP's (op.env); empty when neither has it.
op_file() {
    if [[ -f "$OP_DIR/$1" ]]; then
        echo "$OP_DIR/$1"
    elif [[ -n "$BASE_OP" && -f "$STRESS_DIR/ops/$BASE_OP/$1" ]]; then
        echo "$STRESS_DIR/ops/$BASE_OP/$1"
    fi
}

# Runs check.sql for a phase; fails on any non-zero row. Adds the violations to
# the variable named by $2.
check_phase() {   # phase, total-variable
    local phase="$1" out name n detail sum=0
    if ! out="$(psql -X -v ON_ERROR_STOP=1 -qAt -F '|' -v phase="$phase" -v seed="$SEED" \
                     "${PSQL_VARS[@]}" -f "$(op_file check.sql)" 2>&1)"; then
        fail "check.sql ($phase) errored: $(printf '%s' "$out" | grep -E 'ERROR|error' | head -2 | tr '\n' ' ')"
        printf -v "$2" '%s' "$(( ${!2} + 1 ))"
        return 1
    fi
    while IFS='|' read -r name n detail; do
        [[ -n "$name" ]] || continue
        if ! [[ "$n" =~ ^[0-9]+$ ]]; then
            fail "check.sql ($phase) printed an unexpected row: $name|$n|$detail"
            sum=$(( sum + 1 ))
        elif (( n != 0 )); then
            fail "check $name ($phase): $n${detail:+ — $detail}"
            sum=$(( sum + n ))
        fi
    done <<<"$out"
    printf -v "$2" '%s' "$(( ${!2} + sum ))"
    log "check ($phase): $(printf '%s\n' "$out" | grep -c .) checks, $sum violations"
}

# Every table's columns, constraints, indexes and triggers in schema public.
FINGERPRINT_SQL="
SELECT string_agg(x, E'\n' ORDER BY x) FROM (
  SELECT format('col %s %s %s %s notnull=%s default=%s coll=%s', c.relname, a.attnum, a.attname,
                pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attcollation) AS x
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
   WHERE c.relkind IN ('r', 'p')
  UNION ALL
  SELECT format('con %s %s %s validated=%s', c.relname, k.conname,
                pg_catalog.pg_get_constraintdef(k.oid), k.convalidated)
    FROM pg_catalog.pg_constraint k
    JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
  UNION ALL
  SELECT format('idx %s', pg_catalog.pg_get_indexdef(i.indexrelid))
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
  UNION ALL
  SELECT format('trg %s', pg_catalog.pg_get_triggerdef(t.oid))
    FROM pg_catalog.pg_trigger t
    JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
   WHERE NOT t.tgisinternal
) s"

# ----------------------------------------------------------------------------------
# One run: operation $1, ending with $2 (finish|abort). Runs in a subshell; writes
# its figures to $RUN_DIR/result.
# ----------------------------------------------------------------------------------
run_one() {
    local op="$1" end="$2"
    OP_DIR="$STRESS_DIR/ops/$op"
    RUN_DIR="$WORK/$op.$end"
    mkdir -p "$RUN_DIR"
    SEED="$D_SEED" CLIENTS="$D_CLIENTS" BATCH="$D_BATCH" SEGMENT="$D_SEGMENT" TOUCH_PCT="$D_TOUCH_PCT"
    MAX_TRIES="$D_MAX_TRIES" APP_PGOPTIONS="" BASE_OP="" OP_VARS=()
    T_PRE="$D_T_PRE" T_BOTH="$D_T_BOTH" T_AFTER="$D_T_AFTER" T_POST="$D_T_POST"
    # shellcheck disable=SC1091
    [[ -f "$OP_DIR/op.env" ]] && . "$OP_DIR/op.env"
    PSQL_VARS=()
    local f v
    for v in "${OP_VARS[@]}"; do PSQL_VARS+=(-v "$v"); done
    for f in setup.sql begin.sql old_app.pgbench new_app.pgbench check.sql; do
        [[ -n "$(op_file "$f")" ]] || { fail "ops/$op/$f is missing${BASE_OP:+ (and ops/$BASE_OP/$f)}"; write_result "$op" "$end" 0; return; }
    done

    export PGDATABASE="zdm_stress_${op//[^a-zA-Z0-9_]/_}_$end"
    local t_run
    t_run="$(now)"
    echo
    log "=== $op / $end: seed $SEED rows, $CLIENTS clients per app instance, batch $BATCH"
    dropdb --if-exists "$PGDATABASE" >/dev/null 2>&1
    if ! createdb "$PGDATABASE" 2>"$RUN_DIR/createdb.err"; then
        fail "createdb $PGDATABASE: $(cat "$RUN_DIR/createdb.err")"
        write_result "$op" "$end" "$t_run"; return
    fi
    if ! step "setup.sql" -v seed="$SEED" "${PSQL_VARS[@]}" -f "$(op_file setup.sql)"; then
        write_result "$op" "$end" "$t_run"; return
    fi
    local before_schema
    before_schema="$(q -c "$FINGERPRINT_SQL")"

    # The declared-writer instances and the auto instances use different protocols,
    # swapped between the finish and the abort run.
    local p_declared=prepared p_auto=simple
    [[ "$end" == abort ]] && { p_declared=simple; p_auto=prepared; }

    start_app old-declared "$(op_file old_app.pgbench)" 1 old "$p_declared"
    start_app old-auto     "$(op_file old_app.pgbench)" 2 auto "$p_auto"
    sleep "$T_PRE"

    local begun=0 backfilled=0 ended=0 divergent=0 violations=0
    local t_backfill="" backfill_rows="" ddl="" backfill_tries=0
    if step "begin.sql" "${PSQL_VARS[@]}" -f "$(op_file begin.sql)"; then
        begun=1
        start_app new-declared "$(op_file new_app.pgbench)" 3 new "$p_declared"
        start_app new-auto     "$(op_file new_app.pgbench)" 4 auto "$p_auto"
        sleep "$T_BOTH"
        # The backfill commits batch by batch and resumes where it stopped. When the
        # op expects deadlocks (MAX_TRIES), PostgreSQL may pick a backfill batch as the
        # victim (a batch waiting on a row lock becomes part of the apps' deadlock):
        # the CALL is then run again, like pgbench retries the apps' transactions.
        local t rc retry
        t="$(now)"
        while :; do
            retry=0
            [[ -n "$MAX_TRIES" ]] && (( backfill_tries + 1 < MAX_TRIES )) && retry=1
            backfill_tries=$(( backfill_tries + 1 ))
            STEP_DEADLOCK_RETRY=$retry step "CALL zdm.backfill(batch_size => $BATCH)" \
                -c "CALL zdm.backfill(batch_size => $BATCH)"
            rc=$?
            (( rc == 2 )) || break
        done
        if (( rc == 0 )); then
            backfilled=1
            t_backfill="$(since "$t")"
            backfill_rows="$(q -c "SELECT coalesce(sum((to_jsonb(s)->>'rows_done')::bigint), 0)
                                     FROM zdm.status() s" 2>/dev/null)"
            sleep "$T_AFTER"
            check_phase window divergent      # both apps running
        fi
    fi

    local stay gone
    if [[ "$end" == finish ]]; then stay=new; gone=old; else stay=old; gone=new; fi
    if (( begun )); then
        local prepared=1
        if [[ "$end" == finish && -n "$(op_file pre_finish.sql)" ]] && (( backfilled )); then
            step "pre_finish.sql" "${PSQL_VARS[@]}" -f "$(op_file pre_finish.sql)" || prepared=0
        fi
        stop_apps "$gone-declared" "$gone-auto"
        (( backfilled )) && check_phase window divergent   # just before finish/abort
        if [[ "$end" == abort ]] || (( backfilled && prepared )); then
            if step "zdm.$end()" -c "SELECT zdm.$end()"; then
                ended=1
                sleep "$T_POST"
            fi
        fi
        stop_apps "$stay-declared" "$stay-auto"
    else
        stop_apps old-declared old-auto
    fi

    if (( ended )); then
        check_phase "${end}ed" violations
        if [[ "$end" == abort ]]; then
            local after_schema
            after_schema="$(q -c "$FINGERPRINT_SQL")"
            if [[ "$after_schema" != "$before_schema" ]]; then
                fail "abort did not restore the schema exactly:"
                diff <(printf '%s\n' "$before_schema") <(printf '%s\n' "$after_schema") \
                    | sed 's/^/        /'
                violations=$(( violations + 1 ))
            fi
        fi
    fi
    ddl="$(q -c "SELECT CASE WHEN to_regclass('zdm.ddl_log') IS NOT NULL THEN
                   (SELECT CASE WHEN count(*) = 0 THEN 'no DDL statement run by zdm'
                                ELSE format('%s DDL statements, max attempts %s, lock wait %s',
                                            count(*), max(attempts), sum(lock_wait)) END
                    FROM zdm.ddl_log) END" \
           2>/dev/null)"

    # pgbench figures
    local side name old_tx=0 new_tx=0 errors=0 failed=0 retried=0 retries=0
    for name in old-declared old-auto new-declared new-auto; do
        [[ -d "$RUN_DIR/app.$name" ]] || continue
        app_stats "$name"
        errors=$(( errors + APP_ERRORS )); failed=$(( failed + APP_FAILED ))
        retried=$(( retried + APP_RETRIED )); retries=$(( retries + APP_RETRIES ))
        side="${name%%-*}"
        if [[ "$side" == old ]]; then old_tx=$(( old_tx + APP_TX )); else new_tx=$(( new_tx + APP_TX )); fi
        (( APP_TX > 0 )) || fail "$name app processed no transactions"
        log "$name app: $APP_TX transactions, $APP_FAILED failed, $APP_ERRORS errors${MAX_TRIES:+, $APP_RETRIED retried ($APP_RETRIES retries)}"
    done
    (( errors == 0 )) || { fail "pgbench: $errors client errors ($failed failed transactions)";
                           sed 's/^/        /' "$RUN_DIR/errors" | head -40; }

    RESULT_FIGURES="seed=$SEED old_tx=$old_tx new_tx=$new_tx errors=$errors failed_tx=$failed${MAX_TRIES:+ retried_tx=$retried retries=$retries backfill_deadlocks=$(( backfill_tries > 0 ? backfill_tries - 1 : 0 ))} divergent=$divergent final_violations=$violations backfill_rows=${backfill_rows:-?} backfill_s=${t_backfill:-?}"
    RESULT_DDL="$ddl"
    write_result "$op" "$end" "$t_run"
    if [[ "${STRESS_KEEP:-0}" != 1 ]]; then dropdb --if-exists "$PGDATABASE" >/dev/null 2>&1; fi
}

write_result() {   # op end t_start
    local status=PASS secs=0
    ((${#FAILS[@]})) && status=FAIL
    [[ "$3" != 0 ]] && secs="$(since "$3")"
    {
        echo "status=$status"
        echo "line=$1/$2: $status in ${secs}s — ${RESULT_FIGURES:-no figures}"
        echo "ddl=${RESULT_DDL:-}"
        local f
        for f in "${FAILS[@]}"; do echo "fail=$f"; done
    } >"$RUN_DIR/result"
}

# ----------------------------------------------------------------------------------
PASSED=0 FAILED=0 SUMMARY=()
log "zdm stress: scale $SCALE, ops: ${OPS[*]}, ends: ${ENDS[*]} (server $(q -d postgres -c 'SHOW server_version' 2>/dev/null))"
for op in "${OPS[@]}"; do
    for end in "${ENDS[@]}"; do
        ( run_one "$op" "$end" )
        res="$WORK/$op.$end/result"
        if [[ -f "$res" ]] && grep -qx 'status=PASS' "$res"; then
            PASSED=$(( PASSED + 1 ))
        else
            FAILED=$(( FAILED + 1 ))
        fi
        if [[ -f "$res" ]]; then
            SUMMARY+=("$(sed -n 's/^line=//p' "$res")")
            ddl="$(sed -n 's/^ddl=//p' "$res")"
            [[ -n "$ddl" ]] && SUMMARY+=("    zdm.ddl_log: $ddl")
            while IFS= read -r l; do SUMMARY+=("    $l"); done < <(sed -n 's/^fail=/FAIL: /p' "$res")
        else
            SUMMARY+=("$op/$end: FAIL — the run died without a result")
        fi
    done
done

echo
echo "=== summary (scale $SCALE, seed $D_SEED rows, $D_CLIENTS clients per app instance, batch $D_BATCH, $(since "$T0")s)"
printf '%s\n' "${SUMMARY[@]}"
FINAL="$PASSED passed, $FAILED failed"

REPO="$(cd "$STRESS_DIR/../.." && pwd)"
REPORTS="${ZDM_REPORTS:-$REPO/build/reports}"
mkdir -p "$REPORTS" 2>/dev/null || true
LAST_RUN="${STRESS_LAST_RUN:-$REPORTS/stress.txt}"
if ! { : >>"$LAST_RUN"; } 2>/dev/null; then
    echo "warning: cannot write $LAST_RUN; writing ${TMPDIR:-/tmp}/zdm-stress.txt" >&2
    LAST_RUN="${TMPDIR:-/tmp}/zdm-stress.txt"
fi
{
    echo "# zdm stress run, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(q -d postgres -c 'SELECT version()' 2>/dev/null)"
    echo "# scale $SCALE, seed $D_SEED rows, $D_CLIENTS clients per app instance (2 old + 2 new instances), batch $D_BATCH, touch ${D_TOUCH_PCT}%, segment ${D_SEGMENT}s, total $(since "$T0")s"
    printf '%s\n' "${SUMMARY[@]}"
    echo "$FINAL"
} >"$LAST_RUN"
echo "figures written to $LAST_RUN"
if [[ "${ZDM_RECORD:-0}" == 1 ]]; then
    cp "$LAST_RUN" "$REPO/records/stress.txt" && echo "recorded in records/stress.txt"
fi

echo "$FINAL"
(( FAILED == 0 ))
