# test/reliability/lib.sh — helpers shared by run.sh and checks/*.sh.
# Sourced, not run. Expects the PG* variables of a running cluster (pg_virtualenv
# sets them) and W (a scratch directory made by run.sh).

PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# ---------------------------------------------------------------- quoting
# qi NAME: an SQL identifier, always quoted.  ql TEXT: an SQL string literal.
qi() { local s=${1//\"/\"\"}; printf '"%s"' "$s"; }
ql() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }

# ---------------------------------------------------------------- results
PASSED=0
FAILED=0
SKIPPED=0
CUR=${CUR:-setup}   # "<op>/<check>", set by each check

_result() {
    local status=$1; shift
    local msg="$*"
    msg=${msg//$'\n'/ }
    printf '%s %s: %s\n' "$status" "$CUR" "$msg"
    printf '%s\t%s\t%s\n' "$status" "$CUR" "$msg" >>"$W/results.tsv"
}
pass() { PASSED=$((PASSED + 1)); _result PASS "$@"; }
fail() { FAILED=$((FAILED + 1)); _result FAIL "$@"; }
skip() { SKIPPED=$((SKIPPED + 1)); _result SKIP "$@"; }
note() { printf '   .. %s: %s\n' "$CUR" "$*"; }

# check_eq LABEL GOT WANT
check_eq() {
    if [[ "$2" == "$3" ]]; then pass "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}
# check_cmp LABEL A OP B   (integers; OP is one of -lt -le -eq -ge -gt -ne)
check_cmp() {
    local ok=1
    if [[ "$2" =~ ^-?[0-9]+$ && "$4" =~ ^-?[0-9]+$ ]]; then
        case "$3" in
            -lt) ((${2} < ${4})) && ok=0 ;;
            -le) ((${2} <= ${4})) && ok=0 ;;
            -eq) ((${2} == ${4})) && ok=0 ;;
            -ge) ((${2} >= ${4})) && ok=0 ;;
            -gt) ((${2} > ${4})) && ok=0 ;;
            -ne) ((${2} != ${4})) && ok=0 ;;
        esac
    fi
    if ((ok == 0)); then
        pass "$1 ($2 $3 $4)"
    else
        fail "$1: expected $2 $3 $4"
    fi
}

# figure NAME VALUE: a key figure of the current operation, for the report's summary.
figure() { printf '%s\t%s\t%s\n' "$OP" "$1" "$2" >>"$W/figures.tsv"; }

# md SECTION TEXT...: appends a line to the current operation's report section.
md() { local section=$1; shift; printf '%s\n' "$*" >>"$W/md/$OP/$section.md"; }

# ---------------------------------------------------------------- SQL
# q DB SQL: one statement; unaligned, tuples only. Errors go to stderr, status 3.
q() { "${PSQL[@]}" -At -d "$1" -c "$2"; }
# quiet_q DB SQL: q without NOTICEs.
quiet_q() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" q "$@"; }
quiet_qin() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" qin "$@"; }
# qin DB < script: a script on stdin.
qin() { "${PSQL[@]}" -At -d "$1" -f -; }
# try DB SQL: runs SQL without stopping on errors; prints stdout+stderr.
# Verbose errors, so the SQLSTATE is there to read.
try() { psql -X -q -At -v VERBOSITY=verbose -d "$1" -c "$2" 2>&1; }

# run_pending DB MIGRATION [EXTRA_PGOPTIONS]: runs the statements that
# zdm.pending_statements(MIGRATION) lists (CREATE INDEX CONCURRENTLY), each top
# level, as a migration tool must before finish; none for most operations.
# An empty MIGRATION passes NULL (the only open migration).
run_pending() {
    local mig=NULL
    [[ -n "$2" ]] && mig=$(ql "$2")
    printf 'SELECT * FROM zdm.pending_statements(%s) \\gexec\n' "$mig" \
        | PGOPTIONS="${PGOPTIONS:-} ${3:-}" "${PSQL[@]}" -At -d "$1" -f -
}
# zdm_finish DB MIGRATION: run_pending, then SELECT zdm.finish(MIGRATION) (NULL when empty).
zdm_finish() {
    local mig=NULL
    [[ -n "$2" ]] && mig=$(ql "$2")
    run_pending "$1" "$2" && q "$1" "SELECT zdm.finish($mig)"
}
# mig_status COLUMNS MIGRATION: SQL for COLUMNS of zdm.status() for one
# migration, as one row: the operation whose backfill is not done yet, else the
# one that visited the most rows (a migration may hold several operations, some
# with nothing to backfill, e.g. add_column + drop_column: since 0.2.0 those
# show 'not needed', and never stand for the migration's backfill).
mig_status() {
    echo "SELECT $1 FROM zdm.status() WHERE migration = $(ql "$2") ORDER BY backfill = 'not needed', backfill = 'done', rows_done DESC LIMIT 1"
}

# new_db NAME: a fresh database with zdm installed.
new_db() {
    dropdb --if-exists "$1" 2>/dev/null || true
    createdb "$1" && q "$1" "CREATE EXTENSION zdm" >/dev/null
}

# bg_sql NAME DB APPNAME: runs the script on stdin in the background as
# application_name APPNAME; output in $W/NAME.out, its shell pid in BG[NAME].
declare -A BG
bg_sql() {
    local name=$1 db=$2 app=$3
    cat >"$W/$name.sql"
    PGAPPNAME=$app psql -X -q -At -v VERBOSITY=verbose -d "$db" -f "$W/$name.sql" \
        >"$W/$name.out" 2>&1 &
    BG[$name]=$!
}
# bg_wait NAME: waits for it; returns its exit status.
bg_wait() {
    local pid=${BG[$1]:-}
    [[ -n "$pid" ]] || return 0
    wait "$pid"
    local rc=$?
    unset "BG[$1]"
    return $rc
}

# backend_pid DB APPNAME: pid of the (single) backend with that application_name.
backend_pid() {
    q "$1" "SELECT pid FROM pg_stat_activity WHERE application_name = $(ql "$2") AND pid <> pg_backend_pid() ORDER BY backend_start DESC LIMIT 1" 2>/dev/null
}

# wait_until TIMEOUT_S COMMAND...: polls the command every 50 ms until it succeeds.
wait_until() {
    local timeout=$1; shift
    local deadline=$((SECONDS + timeout))
    until "$@"; do
        ((SECONDS >= deadline)) && return 1
        sleep 0.05
    done
}

# holds_lock DB APPNAME TABLE_REGCLASS_LITERAL: true once that session holds a granted
# lock on the table.
holds_lock() {
    [[ "$(q "$1" "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                  WHERE a.application_name = $(ql "$2") AND l.granted
                  AND l.relation = $3::regclass" 2>/dev/null)" -ge 1 ]]
}
# waits_for_lock DB APPNAME: true while that session waits on a lock or sleeps in
# zdm's retry pause (wait event of an extension).
waits_for_lock() {
    [[ "$(q "$1" "SELECT count(*) FROM pg_stat_activity WHERE application_name = $(ql "$2")
                  AND wait_event_type IN ('Lock', 'Extension')" 2>/dev/null)" -ge 1 ]]
}

# shape_sql TABLE_LITERAL: one line per column, constraint, index, trigger and
# relation property, sorted: two equal outputs mean the same table shape.
shape_sql() {
    local r="$1::regclass"
    cat <<SQL
SELECT string_agg(line, E'\n' ORDER BY line) FROM (
  SELECT 'column ' || a.attnum || ' ' || quote_ident(a.attname) || ' '
         || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
         || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
         || CASE WHEN a.attcollation <> 0 THEN ' collation ' || a.attcollation::regcollation::text ELSE '' END
    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = $r AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'constraint ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
         || CASE WHEN c.convalidated THEN '' ELSE ' (not validated)' END
    FROM pg_constraint c WHERE c.conrelid = $r
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = $r
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE t.tgrelid = $r
  UNION ALL
  SELECT 'relation kind ' || c.relkind::text || ' owner ' || c.relowner::regrole::text
         || ' options ' || coalesce(c.reloptions::text, '-')
    FROM pg_class c WHERE c.oid = $r
) s(line)
SQL
}

# zdm_state DB: the whole zdm catalog as one line of text (to detect any change).
zdm_state() {
    q "$1" "SELECT md5(coalesce((SELECT string_agg(m::text, ';' ORDER BY m.name) FROM zdm.migrations m), '')
                    || coalesce((SELECT string_agg(o::text, ';' ORDER BY o.id) FROM zdm.operations o), ''))"
}

# ---------------------------------------------------------------- the cluster
CLUSTER=${ZDM_RELIABILITY_CLUSTER:-regress}
SERVER_LOG=""
CAN_CRASH=0
CRASH_WHY=""

# Outside pg_virtualenv, a cluster of one's own can be restarted with pg_ctl:
# ZDM_RELIABILITY_PGDATA names its data directory, ZDM_RELIABILITY_LOG its log.
_as_data_owner() {
    local owner
    owner=$(stat -c %U "$ZDM_RELIABILITY_PGDATA")
    if [[ "$(id -un)" == "$owner" ]]; then "$@"; else runuser -u "$owner" -- "$@"; fi
}

detect_cluster() {
    if [[ -n "${ZDM_RELIABILITY_PGDATA:-}" ]]; then
        SERVER_LOG=${ZDM_RELIABILITY_LOG:-}
        if [[ ! -r "$SERVER_LOG" ]]; then CRASH_WHY="cannot read ZDM_RELIABILITY_LOG '$SERVER_LOG'"; return; fi
        CAN_CRASH=1
        return
    fi
    if [[ -z "${PGVERSION:-}" ]]; then
        CRASH_WHY="PGVERSION is not set (not inside pg_virtualenv)"
        return
    fi
    local line
    line=$(pg_lsclusters -h "$PGVERSION" "$CLUSTER" 2>/dev/null | head -1)
    if [[ -z "$line" ]]; then
        CRASH_WHY="pg_lsclusters does not know cluster $PGVERSION/$CLUSTER"
        return
    fi
    local port
    port=$(awk '{print $3}' <<<"$line")
    if [[ "$port" != "${PGPORT:-5432}" ]]; then
        CRASH_WHY="cluster $PGVERSION/$CLUSTER listens on $port, not on PGPORT=${PGPORT:-}"
        return
    fi
    SERVER_LOG=$(awk '{print $7}' <<<"$line")
    if [[ ! -r "$SERVER_LOG" ]]; then
        CRASH_WHY="cannot read the server log $SERVER_LOG"
        return
    fi
    if [[ "$(id -u)" != 0 && "$(id -un)" != "$(awk '{print $5}' <<<"$line")" ]]; then
        CRASH_WHY="kill -9 of a backend needs root or the cluster owner"
        return
    fi
    CAN_CRASH=1
}

ready_count() { local c; c=$(grep -c 'database system is ready to accept connections' "$SERVER_LOG" 2>/dev/null); echo "${c:-0}"; }

_accepting() { pg_isready -q && q postgres "SELECT 1" >/dev/null 2>&1; }

# wait_restarted COUNT: waits until the server said "ready" more than COUNT times
# and accepts queries again. Prints the seconds it took.
wait_restarted() {
    local before=$1 t0=${2:-$EPOCHREALTIME}
    wait_until 120 bash -c "[ \"\$(grep -c 'database system is ready to accept connections' '$SERVER_LOG')\" -gt $before ]" \
        || { echo "timeout"; return 1; }
    wait_until 60 _accepting || { echo "timeout"; return 1; }
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
}

# crash_backend PID: SIGKILL one backend; the postmaster then restarts every
# backend after crash recovery. Prints the recovery time in seconds.
crash_backend() {
    local n
    n=$(ready_count)
    kill -9 "$1" || return 1
    wait_restarted "$n"
}

# crash_cluster: pg_ctlcluster stop -m immediate (no shutdown checkpoint), then
# start. Prints the time from stop to accepting connections.
crash_cluster() {
    local n t0=$EPOCHREALTIME
    n=$(ready_count)
    if [[ -n "${ZDM_RELIABILITY_PGDATA:-}" ]]; then
        _as_data_owner pg_ctl -D "$ZDM_RELIABILITY_PGDATA" -w stop -m immediate >/dev/null 2>&1 || return 1
        _as_data_owner pg_ctl -D "$ZDM_RELIABILITY_PGDATA" -l "$SERVER_LOG" -w start >/dev/null 2>&1 || return 1
    else
        pg_ctlcluster "$PGVERSION" "$CLUSTER" stop -m immediate >/dev/null 2>&1 || return 1
        pg_ctlcluster "$PGVERSION" "$CLUSTER" start >/dev/null 2>&1 || return 1
    fi
    wait_restarted "$n" "$t0"
}

# crash_count: the crashes the server log reports (backends killed by a signal).
crash_count() { local c; c=$(grep -cE 'terminated by signal|was terminated by exception' "$SERVER_LOG" 2>/dev/null); echo "${c:-0}"; }

# ---------------------------------------------------------------- pgbench logs
# pgbench_stats PREFIX: "transactions max_ms p99_ms" over pgbench's per-transaction
# logs PREFIX.* (column 3 is the latency in microseconds).
pgbench_stats() {
    cat "$1".* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "0 0 0"; exit }
            i = int(NR * 0.99); if (i < 1) i = 1
            printf "%d %.1f %.1f\n", NR, v[NR] / 1000, v[i] / 1000 }'
}

ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
