#!/usr/bin/env bash
# test/reliability/run.sh — reliability harness of zdm: crash recovery, lock
# behaviour under load, hostile input, pg_dump/pg_restore of an open migration,
# and a valgrind run of the pg_regress files. Writes its report to
# build/reports/reliability.md (build output; $ZDM_REPORTS elsewhere); with
# ZDM_RECORD=1, to records/reliability.md, the committed record.
#
# Usage (as root or a normal user; zdm must be installed with make install):
#   cd /work/main && pg_virtualenv -t -v 15 bash test/reliability/run.sh [options]
#   bash test/reliability/run.sh [options]   (no PGHOST/PGPORT: re-runs itself
#                                             under pg_virtualenv -t)
# Options:
#   --large         bigger tables (2M rows for the backfill crashes) and longer loads
#   --only LIST     comma-separated checks: crash,locks,hostile,dump,valgrind,worker
#   --op NAME       only this operation (test/reliability/ops/NAME.sh; repeatable)
#   --out FILE      report path (default: see above)
#   --no-report     do not write the report
#   --keep          keep the scratch directory
#   -h, --help
# Environment:
#   ZDM_RELIABILITY_CLUSTER   cluster name for pg_ctlcluster (default: regress,
#                             the name pg_virtualenv gives its cluster)
#   ZDM_VALGRIND_TIMEOUT      seconds allowed for the valgrind check (default 240)
#
# An operation is a file ops/NAME.sh defining the op_* functions that
# ops/rename.sh documents; every check in checks/ runs against each operation.
# Every check prints PASS/FAIL/SKIP lines. The last line is "N passed, M failed";
# the exit status is 1 when M > 0. Timings are measured and reported, never
# asserted, except generous bounds on the latency of other sessions while zdm
# waits for a lock (checks/locks.sh: pgbench writers, readers behind run_ddl).
set -uo pipefail

REL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$REL_DIR/../.." && pwd)"
ORIG_ARGS=("$@")

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

LARGE=0
ONLY="crash,locks,hostile,dump,valgrind,worker"
OPS=()
REPORTS="${ZDM_REPORTS:-$REPO/build/reports}"
OUT="$REPORTS/reliability.md"
[[ "${ZDM_RECORD:-0}" == 1 ]] && OUT="$REPO/records/reliability.md"
REPORT=1
KEEP=0
while (($#)); do
    case "$1" in
        --large) LARGE=1 ;;
        --only) [[ $# -ge 2 ]] || { echo "--only needs a list" >&2; exit 2; }; ONLY=$2; shift ;;
        --op) [[ $# -ge 2 ]] || { echo "--op needs a name" >&2; exit 2; }; OPS+=("$2"); shift ;;
        --out) [[ $# -ge 2 ]] || { echo "--out needs a file" >&2; exit 2; }; OUT=$2; shift ;;
        --no-report) REPORT=0 ;;
        --keep) KEEP=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if [[ -z "${PGHOST:-}" && -z "${PGPORT:-}" ]]; then
    command -v pg_virtualenv >/dev/null \
        || { echo "no PGHOST/PGPORT and no pg_virtualenv (apt-get install postgresql-common)" >&2; exit 2; }
    exec pg_virtualenv -t -v "${ZDM_PG_VERSION:-15}" bash "${BASH_SOURCE[0]}" "${ORIG_ARGS[@]}"
fi
for tool in psql pgbench createdb dropdb pg_dump pg_restore pg_isready; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done

if ((${#OPS[@]} == 0)); then
    for f in "$REL_DIR"/ops/*.sh; do OPS+=("$(basename "$f" .sh)"); done
fi

W=$(mktemp -d /tmp/reliability.XXXXXX)
chmod 755 "$W"
VG_STOP=()
cleanup() {
    local name
    ((${#VG_STOP[@]})) && "${VG_STOP[@]}" >/dev/null 2>&1
    for name in "${!BG[@]}"; do kill "${BG[$name]}" 2>/dev/null; done
    if ((KEEP)); then echo "scratch directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

# shellcheck source=lib.sh
source "$REL_DIR/lib.sh"
for f in "$REL_DIR"/checks/*.sh; do source "$f"; done
detect_cluster

if ((LARGE)); then
    CRASH_ROWS=2000000; LOCK_ROWS=200000; LOCK_SCALE=3; DUMP_ROWS=200000
else
    CRASH_ROWS=200000; LOCK_ROWS=20000; LOCK_SCALE=1; DUMP_ROWS=20000
fi
# Reset before each operation file is sourced; an operation may lower them for
# itself (e.g. CRASH_ROWS=$((CRASH_ROWS / 4))) to keep the whole run short.
SIZES="$CRASH_ROWS $LOCK_ROWS $DUMP_ROWS"

START=$SECONDS
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
echo "zdm reliability harness — checks: $ONLY — operations: ${OPS[*]}"
echo "cluster: ${PGVERSION:-?}/$CLUSTER port ${PGPORT:-?}; crash tests: $( ((CAN_CRASH)) && echo possible || echo "not possible ($CRASH_WHY)")"
printf '' >"$W/results.tsv"
printf '' >"$W/figures.tsv"

declare -A OP_TITLES
declare -A CHECK_SECONDS
for OP in "${OPS[@]}"; do
    opfile="$REL_DIR/ops/$OP.sh"
    [[ -r "$opfile" ]] || { echo "no operation file $opfile" >&2; exit 2; }
    unset -f $(compgen -A function op_) 2>/dev/null
    read -r CRASH_ROWS LOCK_ROWS DUMP_ROWS <<<"$SIZES"
    # shellcheck disable=SC1090
    source "$opfile"
    OP_TITLES[$OP]=$OP_TITLE
    mkdir -p "$W/md/$OP"
    echo
    echo "=== operation: $OP — $OP_TITLE"
    IFS=',' read -r -a checks <<<"$ONLY"
    for c in "${checks[@]}"; do
        if ! declare -F "check_$c" >/dev/null; then echo "unknown check: $c" >&2; exit 2; fi
        echo "--- $OP/$c"
        t0=$SECONDS
        CUR="$OP/$c"
        "check_$c"
        CHECK_SECONDS["$OP/$c"]=$((SECONDS - t0))
    done
done
TOTAL=$((SECONDS - START))

# ---------------------------------------------------------------- the report
write_report() {
    local out=$1
    local cpu mem pgv commit dirty extv
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
    mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
    pgv=$(q postgres "SELECT version()" 2>/dev/null)
    extv=$(q postgres "SELECT default_version FROM pg_available_extensions WHERE name = 'zdm'" 2>/dev/null)
    commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    local sobuild="not compared (no zdm.so in the repo)" libdir
    libdir=$("${PG_CONFIG:-pg_config}" --pkglibdir 2>/dev/null)
    if [[ -r "$REPO/zdm.so" && -r "$libdir/zdm.so" ]]; then
        cmp -s "$REPO/zdm.so" "$libdir/zdm.so" && sobuild="identical to the repo's build (make)" \
            || sobuild="**differs from the repo's zdm.so** (run make install)"
    fi
    dirty=$(git -C "$REPO" status --porcelain --untracked-files=no -- src Makefile 2>/dev/null | grep -q . && echo " (src/ modified)" || true)
    {
        echo "# zdm reliability report"
        echo
        echo "Generated by \`test/reliability/run.sh\`$( ((LARGE)) && echo " --large") on $STARTED_AT; do not edit by hand."
        echo "Regenerate with \`ZDM_RECORD=1 pg_virtualenv -t -v 15 bash test/reliability/run.sh\` (as root or a normal user)."
        echo
        echo "## Machine"
        echo
        echo "| | |"
        echo "|---|---|"
        echo "| CPUs (nproc) | $(nproc) |"
        echo "| RAM | ${mem:-?} |"
        echo "| CPU model | ${cpu:-?} |"
        echo "| PostgreSQL | ${pgv:-?} |"
        echo "| zdm | ${extv:-?}, commit $commit$dirty; installed zdm.so $sobuild |"
        echo
        echo "## Summary"
        echo
        echo "**$PASSED passed, $FAILED failed**, $SKIPPED skipped, in ${TOTAL}s (checks: $ONLY)."
        echo
        echo "| operation | check | passed | failed | skipped | seconds |"
        echo "|---|---|---|---|---|---|"
        local op c
        for op in "${OPS[@]}"; do
            for c in "${checks[@]}"; do
                awk -F'\t' -v cur="$op/$c" -v op="$op" -v c="$c" -v s="${CHECK_SECONDS[$op/$c]:-}" '
                    index($2, op "/" c) == 1 { n[$1]++ }
                    END { printf "| %s | %s | %d | %d | %d | %s |\n", op, c, n["PASS"], n["FAIL"], n["SKIP"], s }' "$W/results.tsv"
            done
        done
        for op in "${OPS[@]}"; do
            echo
            echo "## Operation: ${OP_TITLES[$op]}"
            if grep -q "^$op	" "$W/figures.tsv" 2>/dev/null; then
                echo
                echo "| key figure | |"
                echo "|---|---|"
                awk -F'\t' -v op="$op" '$1 == op { printf "| %s | %s |\n", $2, $3 }' "$W/figures.tsv"
            fi
            for c in "${checks[@]}"; do
                if [[ -s "$W/md/$op/$c.md" ]]; then echo; cat "$W/md/$op/$c.md"; fi
            done
        done
        # Mixed-version stress lives in test/stress; its figures (transactions
        # driven, client errors, divergent rows per operation) belong here too:
        # this run's build output, else the committed record.
        local stress="$REPORTS/stress.txt" fuzz="$REPORTS/fuzz.md"
        [[ -r "$stress" ]] || stress="$REPO/records/stress.txt"
        [[ -r "$fuzz" ]] || fuzz="$REPO/records/fuzz.md"
        if [[ -r "$stress" ]]; then
            echo
            echo "## Mixed-version stress (test/stress, from its last run)"
            echo
            echo "Transactions driven by the old and new apps, client errors and divergent rows, per"
            echo "operation and ending. Regenerate with \`ZDM_RECORD=1 pg_virtualenv -t -v 15 bash test/stress/run.sh\`."
            echo
            echo '```'
            cat "$stress"
            echo '```'
        fi
        # The differential fuzz (test/fuzz) reports its coverage the same way.
        if [[ -r "$fuzz" ]]; then
            echo
            echo "## Differential fuzz (test/fuzz, from its last run)"
            echo
            echo "Operations, DML forms, session settings, writes and divergent rows (must be 0)."
            echo "Regenerate with \`ZDM_RECORD=1 python3 test/fuzz/fuzz.py\` (CI seed) or \`--seed random --minutes 30\`."
            echo
            sed 1d "$fuzz"
        fi
        echo
        echo "## Failed checks"
        echo
        if grep -q '^FAIL' "$W/results.tsv"; then
            awk -F'\t' '$1 == "FAIL" { printf "- `%s`: %s\n", $2, $3 }' "$W/results.tsv"
        else
            echo "None."
        fi
        if grep -q '^SKIP' "$W/results.tsv"; then
            echo
            echo "## Skipped"
            echo
            awk -F'\t' '$1 == "SKIP" { printf "- `%s`: %s\n", $2, $3 }' "$W/results.tsv"
        fi
        echo
        echo "<details><summary>Every check ($((PASSED + FAILED + SKIPPED)))</summary>"
        echo
        echo '```'
        awk -F'\t' '{ printf "%s %s: %s\n", $1, $2, $3 }' "$W/results.tsv"
        echo '```'
        echo
        echo "</details>"
    } >"$out"
}

echo
if ((REPORT)); then
    mkdir -p "$(dirname "$OUT")"
    write_report "$OUT" && echo "report written to $OUT"
fi
echo "total ${TOTAL}s"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
