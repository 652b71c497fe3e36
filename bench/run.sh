#!/usr/bin/env bash
# bench/run.sh - "A first benchmark": what does zdm's trigger cost on bulk writes?
#
# Usage:   bench/run.sh                 (from anywhere; needs zdm installed system-wide)
#          BENCH_ROWS=50000 BENCH_REPS=5 bench/run.sh
#   BENCH_ROWS (200000), BENCH_REPS (3), BENCH_WARMUP (1 untimed round), BENCH_FLOOR (1),
#   BENCH_RESULTS (bench/results.md), ZDM_PG_VERSION (15), ZDM_PGPORT (random free port)
#
# Starts a throwaway cluster with Debian's pg_virtualenv (works as root and as a
# normal user), and on the table shape
#     bench_t(id bigint primary key, payload int, last_name text, surname text)
# times a bulk INSERT ... SELECT of BENCH_ROWS rows and then an UPDATE of all rows,
# for three variants (plus a reference one):
#   (a) no trigger  - the statements write both columns themselves;
#   (b) plpgsql     - a bidirectional PL/pgSQL BEFORE INSERT OR UPDATE trigger with
#                     zdm's `auto` writer-side rules; statements write last_name only;
#   (c) zdm         - table created with last_name only, then
#                     zdm.begin_rename('bench_t', 'last_name', 'surname');
#                     statements write last_name only (the old side).
#   (d) reference     - like (a), plus PostgreSQL's built-in C trigger
#                     suppress_redundant_updates_trigger() BEFORE UPDATE: what any
#                     BEFORE ROW trigger costs on UPDATE (the trigger-machinery floor).
#                     Its INSERT has no trigger. Informational only. BENCH_FLOOR=0 skips it.
# Every repetition uses a fresh table (drop/create). Times are server-side:
# clock_timestamp() differences taken in the same session around each statement.
# The best of BENCH_REPS repetitions is reported. The Markdown result is printed and
# written to bench/results.md. Timings are never asserted: the script exits 0 unless
# something errors (or a variant leaves last_name and surname different).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
cd "$REPO_ROOT"

BENCH_ROWS="${BENCH_ROWS:-200000}"
BENCH_REPS="${BENCH_REPS:-3}"
BENCH_FLOOR="${BENCH_FLOOR:-1}"     # also run the reference variant (d)
BENCH_WARMUP="${BENCH_WARMUP:-1}"   # untimed warm-up rounds (all variants) before the timed ones
PG_VERSION="${ZDM_PG_VERSION:-15}"
RESULTS="${BENCH_RESULTS:-$REPO_ROOT/bench/results.md}"
TARGET_RATIO="1.10"   # "zdm at most +10% over no trigger"

[[ "$BENCH_ROWS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_ROWS must be a positive integer" >&2; exit 2; }
[[ "$BENCH_REPS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_REPS must be a positive integer" >&2; exit 2; }
[[ "$BENCH_WARMUP" =~ ^[0-9]+$ ]] || { echo "BENCH_WARMUP must be a non-negative integer" >&2; exit 2; }

# ---------------------------------------------------------------------------------
# Inner part: runs inside pg_virtualenv (PGHOST/PGPORT/PGUSER/... are set).
# ---------------------------------------------------------------------------------
inner() {
    : "${BENCH_OUT:?BENCH_OUT must be set}"
    local PSQL=(psql -X -q -v ON_ERROR_STOP=1 -At)
    local raw="$BENCH_OUT/raw.txt" meta="$BENCH_OUT/meta.txt"
    : >"$raw"

    "${PSQL[@]}" >"$meta" <<'SQL'
SELECT 'pg_version=' || version();
SELECT 'settings=' || string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
  FROM pg_settings
 WHERE name IN ('shared_buffers', 'fsync', 'synchronous_commit', 'max_wal_size', 'wal_level', 'jit');
SELECT 'zdm_available=' || count(*) FROM pg_available_extensions WHERE name = 'zdm';
SQL
    local have_zdm=0
    grep -q '^zdm_available=1$' "$meta" && have_zdm=1
    if (( have_zdm )); then
        "${PSQL[@]}" -c 'CREATE EXTENSION zdm'
        echo "zdm_version=$("${PSQL[@]}" -c "SELECT extversion FROM pg_extension WHERE extname = 'zdm'")" >>"$meta"
    else
        echo "WARNING: extension zdm is not installed; variant (c) is skipped" >&2
    fi

    # The PL/pgSQL reference trigger: the same `auto` rules as zdm's trigger.
    #   INSERT: non-NULL new column (surname) = new-side write, else old-side write.
    #   UPDATE: the side that changed is the source; both changed -> new wins;
    #           neither changed -> new side recomputed from the old side.
    "${PSQL[@]}" <<'SQL'
CREATE FUNCTION bench_plpgsql_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.surname IS NOT NULL THEN
      NEW.last_name := NEW.surname;
    ELSE
      NEW.surname := NEW.last_name;
    END IF;
  ELSIF NEW.surname IS DISTINCT FROM OLD.surname THEN   -- new side changed (or both)
    NEW.last_name := NEW.surname;
  ELSE                                                  -- old side changed, or neither
    NEW.surname := NEW.last_name;
  END IF;
  RETURN NEW;
END
$$;
SQL

    local variants=(notrigger plpgsql)
    (( have_zdm )) && variants+=(zdm)
    [[ "$BENCH_FLOOR" == 1 ]] && variants+=(floor)

    local rep v
    for (( rep = 1; rep <= BENCH_WARMUP; rep++ )); do
        for v in "${variants[@]}"; do
            bench_one "$v" "warmup$rep" >/dev/null
        done
        echo "  warm-up round $rep/$BENCH_WARMUP done" >&2
    done
    for (( rep = 1; rep <= BENCH_REPS; rep++ )); do
        # Interleave the variants inside each repetition so drift hits all alike.
        for v in "${variants[@]}"; do
            bench_one "$v" "$rep" >>"$raw"
        done
        echo "  repetition $rep/$BENCH_REPS done" >&2
    done
}

# One repetition of one variant, in one psql session; prints
# "RESULT|variant|rep|insert_ms|update_ms|mismatches".
bench_one() {
    local v="$1" rep="$2"
    local create setup="" teardown="" ins upd
    case "$v" in
        notrigger)
            create="CREATE TABLE bench_t (id bigint PRIMARY KEY, payload int, last_name text, surname text);"
            ins="INSERT INTO bench_t (id, payload, last_name, surname)
                 SELECT g, g, 'name_' || g, 'name_' || g FROM generate_series(1, :rows) g;"
            upd="UPDATE bench_t SET last_name = last_name || 'x', surname = surname || 'x';"
            ;;
        plpgsql)
            create="CREATE TABLE bench_t (id bigint PRIMARY KEY, payload int, last_name text, surname text);"
            setup="CREATE TRIGGER bench_sync BEFORE INSERT OR UPDATE ON bench_t
                   FOR EACH ROW EXECUTE FUNCTION bench_plpgsql_sync();"
            ins="INSERT INTO bench_t (id, payload, last_name)
                 SELECT g, g, 'name_' || g FROM generate_series(1, :rows) g;"
            upd="UPDATE bench_t SET last_name = last_name || 'x';"
            ;;
        floor)
            create="CREATE TABLE bench_t (id bigint PRIMARY KEY, payload int, last_name text, surname text);"
            setup="CREATE TRIGGER bench_floor BEFORE UPDATE ON bench_t
                   FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();"
            ins="INSERT INTO bench_t (id, payload, last_name, surname)
                 SELECT g, g, 'name_' || g, 'name_' || g FROM generate_series(1, :rows) g;"
            upd="UPDATE bench_t SET last_name = last_name || 'x', surname = surname || 'x';"
            ;;
        zdm)
            create="CREATE TABLE bench_t (id bigint PRIMARY KEY, payload int, last_name text);"
            setup="SELECT zdm.begin_rename('bench_t'::regclass, 'last_name', 'surname') AS mig \\gset"
            ins="INSERT INTO bench_t (id, payload, last_name)
                 SELECT g, g, 'name_' || g FROM generate_series(1, :rows) g;"
            upd="UPDATE bench_t SET last_name = last_name || 'x';"
            teardown="SELECT zdm.abort(:'mig');"
            ;;
    esac

    psql -X -q -v ON_ERROR_STOP=1 -At -v rows="$BENCH_ROWS" <<SQL
SET client_min_messages = warning;
SET jit = off;
DROP TABLE IF EXISTS bench_t;
$create
$setup
CHECKPOINT;
SELECT clock_timestamp() AS t0 \\gset
$ins
SELECT round((extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000)::numeric, 1) AS ins_ms \\gset
VACUUM (FREEZE, ANALYZE) bench_t;
CHECKPOINT;
SELECT clock_timestamp() AS t0 \\gset
$upd
SELECT round((extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000)::numeric, 1) AS upd_ms \\gset
SELECT count(*) AS bad FROM bench_t
 WHERE last_name IS DISTINCT FROM surname OR last_name IS NULL OR last_name NOT LIKE 'name\\_%x' \\gset
SELECT count(*) AS n FROM bench_t \\gset
$teardown
DROP TABLE bench_t;
\\echo RESULT|$v|$rep|:ins_ms|:upd_ms|:bad|:n
SQL
}

if [[ "${1:-}" == "--inner" ]]; then
    inner
    exit 0
fi

# ---------------------------------------------------------------------------------
# Outer part: start the cluster, then turn the raw timings into results.md.
# ---------------------------------------------------------------------------------
command -v pg_virtualenv >/dev/null || { echo "pg_virtualenv not found (apt-get install postgresql-common)" >&2; exit 2; }

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

BENCH_OUT="$(mktemp -d -t zdm-bench.XXXXXX)"
trap 'rm -rf "$BENCH_OUT"' EXIT
chmod 755 "$BENCH_OUT"
export BENCH_OUT BENCH_ROWS BENCH_REPS BENCH_WARMUP BENCH_FLOOR

echo "== zdm bench: $BENCH_ROWS rows, best of $BENCH_REPS, PostgreSQL $PG_VERSION (pg_virtualenv)" >&2
start_s=$SECONDS
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
# -t: keep the throwaway cluster in a temp dir even as root, so that a concurrent
# pg_virtualenv (e.g. a test run) cannot collide with ours.
PGPORT="${ZDM_PGPORT:-$(pick_port)}" pg_virtualenv -t -v "$PG_VERSION" bash "$SCRIPT_DIR/run.sh" --inner >&2
elapsed=$(( SECONDS - start_s ))
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

raw="$BENCH_OUT/raw.txt"
meta="$BENCH_OUT/meta.txt"
grep -q '^RESULT|' "$raw" || { echo "no results were produced" >&2; exit 1; }

pg_version="$(sed -n 's/^pg_version=//p' "$meta")"
pg_settings="$(sed -n 's/^settings=//p' "$meta")"
zdm_version="$(sed -n 's/^zdm_version=//p' "$meta")"
cpu_model="$(grep -m1 -E '^(model name|Model|cpu model)' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*:[[:space:]]*//' || true)"
[[ -n "$cpu_model" ]] || cpu_model="unknown"
ncpu="$(nproc)"
mem_total_g="$(free -g | awk '/^Mem:/ {print $2}')"
kernel="$(uname -srm)"
free_out="$(free -g)"
now="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"

# best-of per variant and operation, ratios, PASS/MISS
summary="$(awk -F'|' -v target="$TARGET_RATIO" -v ncpu="$ncpu" -v load="${load_before%% *}" '
    $1 == "RESULT" {
        v = $2; ins = $4 + 0; upd = $5 + 0; bad[v] += $6
        if (!(v in bi) || ins < bi[v]) bi[v] = ins
        if (!(v in bu) || upd < bu[v]) bu[v] = upd
        if (!(v in wi) || ins > wi[v]) wi[v] = ins
        if (!(v in wu) || upd > wu[v]) wu[v] = upd
        seen[v] = 1
    }
    function ratio(x, base) { return base > 0 ? sprintf("%.2f", x / base) : "n/a" }
    function verdict(r) { return (r == "n/a") ? "n/a" : ((r + 0 <= target + 0) ? "PASS" : "MISS") }
    END {
        name["notrigger"] = "(a) no trigger, statement writes both columns"
        name["plpgsql"]   = "(b) PL/pgSQL bidirectional trigger"
        name["zdm"]       = "(c) zdm.begin_rename (compiled C++ trigger)"
        name["floor"]     = "(d) reference: like (a) + built-in C trigger suppress_redundant_updates_trigger() BEFORE UPDATE only"
        print "| Variant | INSERT ms (best) | UPDATE ms (best) | INSERT / no trigger | UPDATE / no trigger | spread worst/best (INSERT, UPDATE) |"
        print "|---|---:|---:|---:|---:|---:|"
        n = split("notrigger plpgsql zdm floor", order, " ")
        for (i = 1; i <= n; i++) {
            v = order[i]
            if (v == "floor" && !(v in seen)) continue
            if (!(v in seen)) { printf "| %s | n/a | n/a | n/a | n/a | n/a |\n", name[v]; continue }
            printf "| %s | %.1f | %.1f | %s | %s | %s, %s |\n", name[v], bi[v], bu[v],
                   ratio(bi[v], bi["notrigger"]), ratio(bu[v], bu["notrigger"]),
                   ratio(wi[v], bi[v]), ratio(wu[v], bu[v])
            if (wi[v] > 1.25 * bi[v] || wu[v] > 1.25 * bu[v]) noisy = 1
        }
        print ""
        if ("zdm" in seen) {
            ri = ratio(bi["zdm"], bi["notrigger"]); ru = ratio(bu["zdm"], bu["notrigger"])
            vi = verdict(ri); vu = verdict(ru)
            overall = (vi == "PASS" && vu == "PASS") ? "PASS" : "MISS"
            printf "**Target: zdm at most +10%% over no trigger** (ratio <= %s): INSERT %s (%s), UPDATE %s (%s) => **%s**\n",
                   target, ri, vi, ru, vu, overall
        } else {
            print "**Target: zdm at most +10% over no trigger**: not measured (zdm not installed)"
        }
        if ("plpgsql" in seen)
            printf "\nFor comparison, PL/pgSQL/no trigger: INSERT %s, UPDATE %s.\n",
                   ratio(bi["plpgsql"], bi["notrigger"]), ratio(bu["plpgsql"], bu["notrigger"])
        if ("floor" in seen)
            printf "Any BEFORE ROW trigger, even a trivial built-in C one (d), costs UPDATE %s over no trigger here.\n",
                   ratio(bu["floor"], bu["notrigger"])
        if (noisy || load + 0 > ncpu * 0.5)
            printf "\n**Noisy run**: the machine was busy (load average %s at the start, %d CPUs) or repetitions differ by more than 25%%; rerun on an idle machine before reading much into the ratios.\n", load, ncpu
        badtotal = 0
        for (v in bad) if (bad[v] > 0) { badtotal += bad[v]; printf "\n**WARNING: variant %s left %d rows with last_name/surname wrong**\n", v, bad[v] }
    }' "$raw")"

all_runs="$(awk -F'|' '
    BEGIN { print "| Variant | Rep | INSERT ms | UPDATE ms | rows |"; print "|---|---:|---:|---:|---:|" }
    $1 == "RESULT" { printf "| %s | %s | %.1f | %.1f | %s |\n", $2, $3, $4, $5, $7 }' "$raw")"

report="# zdm benchmark: trigger overhead on bulk writes

- Date: $now
- Machine: $ncpu CPUs (\`nproc\`), CPU model: $cpu_model, ${mem_total_g} GiB RAM (\`free -g\`), kernel $kernel
- PostgreSQL: $pg_version
- zdm: ${zdm_version:-not installed}
- Cluster: throwaway \`pg_virtualenv\` cluster, settings: $pg_settings (the bench sessions set \`jit = off\`)
- Workload: table \`bench_t(id bigint primary key, payload int, last_name text, surname text)\`;
  bulk \`INSERT ... SELECT\` of $BENCH_ROWS rows, then \`UPDATE\` of all rows (\`last_name = last_name || 'x'\`;
  the no-trigger variant also sets \`surname\`). Fresh table per repetition, best of $BENCH_REPS
  (after $BENCH_WARMUP untimed warm-up round(s)); the variants are interleaved within each repetition.
  Server-side timing: \`clock_timestamp()\` differences around each top-level statement (includes parse, plan
  and commit; the table is vacuumed and a checkpoint is taken before each timed statement, untimed).
- Load average (1, 5, 15 min): $load_before before, $load_after after
- Command: \`BENCH_ROWS=$BENCH_ROWS BENCH_REPS=$BENCH_REPS BENCH_WARMUP=$BENCH_WARMUP BENCH_FLOOR=$BENCH_FLOOR bench/run.sh\` (took ${elapsed}s)

$summary

<details><summary>All repetitions</summary>

$all_runs

\`free -g\`:
\`\`\`
$free_out
\`\`\`
</details>
"

printf '%s\n' "$report"
mkdir -p "$(dirname "$RESULTS")"
printf '%s\n' "$report" >"$RESULTS"
echo "(written to ${RESULTS#"$REPO_ROOT"/})" >&2

if grep -q 'WARNING: variant' <<<"$summary"; then
    exit 1
fi
exit 0
