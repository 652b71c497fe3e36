#!/usr/bin/env bash
# bench/expressions.sh - what zdm's compiled up/down expressions cost, next to a
# PL/pgSQL trigger doing the same job and to no trigger at all, in one run.
#
# Usage:   bench/expressions.sh            (needs zdm installed system-wide)
#   BENCH_ROWS (200000), BENCH_REPS (3), BENCH_RESULTS (bench/results-expressions.md)
#
# Two cases, each on a fresh table per repetition, old-side writes only (the old
# app's statements): a bulk INSERT ... SELECT of BENCH_ROWS rows, then an UPDATE
# of every row.
#   widen: n int -> bigint.  none: the statements write n and n_new themselves;
#          plpgsql: a trigger computing n_new := n::bigint (and back);
#          zdm: zdm.begin_alter_type('t', 'n', 'bigint').
#   split: full_name -> first_name + last_name.  none: the statements write all
#          three; plpgsql: a trigger with split_part / concat_ws;
#          zdm: two begin_add_column ... up and one begin_drop_column ... down.
# Times are server-side (clock_timestamp() around each statement), best of
# BENCH_REPS, variants interleaved within each repetition. The target is zdm's
# overhead over no trigger at most a quarter of PL/pgSQL's. Nothing is asserted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROWS="${BENCH_ROWS:-200000}"
REPS="${BENCH_REPS:-3}"
RESULTS="${BENCH_RESULTS:-bench/results-expressions.md}"

run_one() {  # case variant -> "case|variant|insert_ms|update_ms|bad"
  local c=$1 v=$2 create setup="" ins upd check
  case "$c/$v" in
    widen/none)
      create="CREATE TABLE t (id bigint PRIMARY KEY, payload int, n int, n_new bigint);"
      ins="INSERT INTO t SELECT g, g, g, g FROM generate_series(1, :rows) g;"
      upd="UPDATE t SET n = n + 1, n_new = n_new + 1;" ;;
    widen/plpgsql)
      create="CREATE TABLE t (id bigint PRIMARY KEY, payload int, n int, n_new bigint);"
      setup="CREATE TRIGGER sync BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION widen_sync();"
      ins="INSERT INTO t (id, payload, n) SELECT g, g, g FROM generate_series(1, :rows) g;"
      upd="UPDATE t SET n = n + 1;" ;;
    widen/zdm)
      create="CREATE TABLE t (id bigint PRIMARY KEY, payload int, n int);"
      setup="SELECT zdm.begin_alter_type('t', 'n', 'bigint') AS mig \\gset"
      ins="INSERT INTO t (id, payload, n) SELECT g, g, g FROM generate_series(1, :rows) g;"
      upd="UPDATE t SET n = n + 1;" ;;
    split/none)
      create="CREATE TABLE t (id bigint PRIMARY KEY, payload int, full_name text, first_name text, last_name text);"
      ins="INSERT INTO t SELECT g, g, 'first' || g || ' last' || g, 'first' || g, 'last' || g FROM generate_series(1, :rows) g;"
      upd="UPDATE t SET full_name = full_name || 'x', last_name = last_name || 'x';" ;;
    split/plpgsql)
      create="CREATE TABLE t (id bigint PRIMARY KEY, payload int, full_name text, first_name text, last_name text);"
      setup="CREATE TRIGGER sync BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION split_sync();"
      ins="INSERT INTO t (id, payload, full_name) SELECT g, g, 'first' || g || ' last' || g FROM generate_series(1, :rows) g;"
      upd="UPDATE t SET full_name = full_name || 'x';" ;;
    split/zdm)
      create="CREATE TABLE t (id bigint PRIMARY KEY, payload int, full_name text);"
      setup="SELECT zdm.begin_add_column('t', 'first_name', 'text', up => 'split_part(full_name, '' '', 1)') AS mig \\gset
             SELECT zdm.begin_add_column('t', 'last_name', 'text', up => 'nullif(split_part(full_name, '' '', 2), '''')', migration => :'mig');
             SELECT zdm.begin_drop_column('t', 'full_name', down => 'coalesce(first_name || '' '' || last_name, first_name, last_name, '''')', migration => :'mig');"
      ins="INSERT INTO t (id, payload, full_name) SELECT g, g, 'first' || g || ' last' || g FROM generate_series(1, :rows) g;"
      upd="UPDATE t SET full_name = full_name || 'x';" ;;
  esac
  if [ "$c" = widen ]; then check="SELECT count(*) AS bad FROM t WHERE n_new IS DISTINCT FROM n::bigint"
  else check="SELECT count(*) AS bad FROM t WHERE full_name IS DISTINCT FROM concat_ws(' ', first_name, last_name)"; fi
  psql -X -q -v ON_ERROR_STOP=1 -At -v rows="$ROWS" <<SQL
SET client_min_messages = warning;
SET jit = off;
DROP TABLE IF EXISTS t;
$create
$setup
CHECKPOINT;
SELECT clock_timestamp() AS t0 \\gset
$ins
SELECT round((extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000)::numeric, 1) AS ins_ms \\gset
VACUUM (FREEZE, ANALYZE) t;
CHECKPOINT;
SELECT clock_timestamp() AS t0 \\gset
$upd
SELECT round((extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000)::numeric, 1) AS upd_ms \\gset
$check \\gset
SELECT count(zdm.abort(name)) AS aborted FROM zdm.migrations WHERE state = 'active' \\gset
DROP TABLE t;
\\echo $c|$v|:ins_ms|:upd_ms|:bad
SQL
}

inner() {
  psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION IF NOT EXISTS zdm;
CREATE OR REPLACE FUNCTION widen_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.n_new IS NOT NULL THEN NEW.n := NEW.n_new::int; ELSE NEW.n_new := NEW.n::bigint; END IF;
  ELSIF NEW.n_new IS DISTINCT FROM OLD.n_new THEN NEW.n := NEW.n_new::int;
  ELSE NEW.n_new := NEW.n::bigint;
  END IF;
  RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION split_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (TG_OP = 'INSERT' AND NEW.first_name IS NULL AND NEW.last_name IS NULL)
     OR (TG_OP = 'UPDATE' AND NEW.first_name IS NOT DISTINCT FROM OLD.first_name
         AND NEW.last_name IS NOT DISTINCT FROM OLD.last_name) THEN
    NEW.first_name := split_part(NEW.full_name, ' ', 1);
    NEW.last_name := nullif(split_part(NEW.full_name, ' ', 2), '');
  ELSE
    NEW.full_name := concat_ws(' ', NEW.first_name, NEW.last_name);
  END IF;
  RETURN NEW;
END $$;
SQL
  for rep in $(seq 0 "$REPS"); do  # round 0 warms up and is not counted
    for c in widen split; do
      for v in none plpgsql zdm; do
        line=$(run_one "$c" "$v")
        [ "$rep" -gt 0 ] && echo "$line" >> "$BENCH_RAW"
      done
    done
    echo "  round $rep/$REPS done" >&2
  done
}

if [ "${1:-}" = --inner ]; then inner; exit 0; fi

export BENCH_RAW
BENCH_RAW=$(mktemp)
PGPORT=$(scripts/free-port.sh) pg_virtualenv -t -v 15 bash "$0" --inner
python3 - "$BENCH_RAW" "$RESULTS" "$ROWS" "$REPS" <<'PY'
import sys, subprocess, datetime, platform, os
raw, out, rows, reps = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
best = {}
bad = 0
for line in open(raw):
    if line.count("|") != 4: continue
    c, v, ins, upd, b = line.strip().split("|")
    bad += int(b)
    k = (c, v)
    i, u = float(ins), float(upd)
    bi, bu = best.get(k, (i, u))
    best[k] = (min(bi, i), min(bu, u))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
load = open("/proc/loadavg").read().split()[:3]
lines = [
    "# zdm benchmark: compiled up/down expressions vs a PL/pgSQL trigger",
    "",
    f"- Date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; command `bench/expressions.sh` (BENCH_ROWS={rows}, best of {reps} after a warm-up round)",
    f"- Machine: {os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, kernel {platform.release()}; load average at the end {' '.join(load)}",
    "- PostgreSQL 15 (Debian), throwaway pg_virtualenv cluster, jit off in the bench sessions.",
    "- Each case: bulk INSERT ... SELECT of the rows, then UPDATE of every row, old-side writes only.",
    "- Overhead = time with the trigger / time with no trigger - 1. Target: zdm's overhead at most 1/4 of PL/pgSQL's.",
    "",
    "| case | statement | no trigger ms | PL/pgSQL ms | zdm ms | PL/pgSQL overhead | zdm overhead | zdm / PL/pgSQL overhead |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
]
verdicts = []
for c in ("widen", "split"):
    for idx, stmt in ((0, "INSERT"), (1, "UPDATE")):
        n = best[(c, "none")][idx]; p = best[(c, "plpgsql")][idx]; z = best[(c, "zdm")][idx]
        po, zo = p / n - 1, z / n - 1
        share = zo / po if po > 0 else float("nan")
        verdicts.append(share <= 0.25)
        lines.append(f"| {c} | {stmt} | {n:.1f} | {p:.1f} | {z:.1f} | {po:+.0%} | {zo:+.0%} | {share:.2f} |")
lines += ["", f"Target met in {sum(verdicts)} of {len(verdicts)} measurements (zdm / PL/pgSQL overhead <= 0.25).",
          f"Rows where the two shapes disagreed after a run: {bad} (must be 0)."]
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
PY
rm -f "$BENCH_RAW"
