#!/usr/bin/env bash
# bench/join.sh - what one synced write costs with zdm.begin_join_to_column, next to
# hand-written PL/pgSQL triggers doing the same job and to no sync at all, in one run.
#
# Usage:   bench/join.sh            (needs zdm installed system-wide; the callgrind part
#                                    needs valgrind and root, else it is skipped)
#   BENCH_STMTS (10000)      statements per workload and repetition (wall clock); voucher
#                            gets 2 ids per statement and workload (+1000), the even ids redeemed
#   BENCH_REPS (5)           timed repetitions, after one untimed warm-up round
#   BENCH_MODES ("loop tx")  loop: the statements in a DO loop, one transaction;
#                            tx: one psql line per statement, each its own transaction
#   BENCH_CALLGRIND (auto)   1/0: also count instructions per statement under valgrind
#   BENCH_CG_STMTS (2000)    statements per workload in the callgrind runs
#   BENCH_RESULTS (bench/results-join.md)
#   BENCH_KEEP (unset)       a directory to keep the raw timings and callgrind profiles in
#
# The case (zdm's regression test sql/voucher.sql, without foreign keys):
#     voucher(id int PRIMARY KEY, code text NOT NULL)            -- gets user_id
#     used_voucher(user_id int NOT NULL, voucher_id int NOT NULL UNIQUE)
# Variants, each on fresh tables per repetition (seeded, then made identical on disk
# with VACUUM FULL):
#   none     no sync: voucher.user_id added and filled by one UPDATE, no trigger;
#   plpgsql  the commonly published recipe for this case (two PL/pgSQL AFTER ROW
#            triggers with a pg_trigger_depth() guard against ping-pong), with its
#            three defects fixed: DELETE is handled on both sides, each CREATE
#            TRIGGER names the function that exists, DROP TRIGGER has ON table;
#   zdm      zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id',
#            'user_id') after seeding, then CALL zdm.backfill() (complete).
# Workloads, each BENCH_STMTS single-row statements, each workload (and mode) on its
# own block of 2 * BENCH_STMTS vouchers that no other workload touches (so that no
# variant finds pages freed by an earlier workload's sync: same HOT/non-HOT mix):
#   v1_insert    INSERT INTO used_voucher VALUES (u, v)          (v1 redeems a free voucher)
#   v1_delete    DELETE FROM used_voucher WHERE voucher_id = v    (v1 un-redeems)
#   v2_redeem    UPDATE voucher SET user_id = u WHERE id = v      (v2 redeems a free voucher)
#   v2_reassign  UPDATE voucher SET user_id = u2 WHERE id = v     (v2 reassigns a redeemed one)
#   v2_clear     UPDATE voucher SET user_id = NULL WHERE id = v   (v2 un-redeems)
# Before each timed workload (untimed): VACUUM (FREEZE, ANALYZE) of both tables, a
# CHECKPOINT, and five warm-up statements on two reserved vouchers that run every
# trigger and re-plan every statement the VACUUM invalidated. Times are server-side
# (clock_timestamp() in the same session around the whole workload), best of
# BENCH_REPS, the variants interleaved (their order rotates each repetition).
# Overhead = variant - none, per statement; the figure of merit is PL/pgSQL's overhead
# / zdm's overhead ("zdm is N x faster per synced write"); the target is >= 2.
# The callgrind part runs each variant once in a single-user backend under valgrind,
# collecting only inside the DO loops (--toggle-collect=plpgsql_inline_handler) and
# dumping after each (one profile per workload): instructions per statement, which
# do not move with the machine's load, and a function-level profile of where zdm's
# overhead goes (two more variants for that: zdm with its BEFORE INSERT lock trigger
# disabled, and "both": no trigger, the loop issuing the second statement itself).
# Nothing is asserted: the script exits 0 unless something errors or a synced
# variant leaves the two shapes different.
set -euo pipefail
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
cd "$(dirname "$SELF")/.."

N="${BENCH_STMTS:-10000}"
REPS="${BENCH_REPS:-5}"
MODES="${BENCH_MODES:-loop tx}"
CG_N="${BENCH_CG_STMTS:-2000}"
V=$(( 10 * N * $(wc -w <<<"$MODES") + 1000 ))
CG_V=$(( 10 * CG_N + 1000 ))
RESULTS="${BENCH_RESULTS:-bench/results-join.md}"
WORKLOADS="v1_insert v1_delete v2_redeem v2_reassign v2_clear"

# ---------------------------------------------------------------------------------
# SQL, one statement per line (the single-user backend of the callgrind part reads
# a statement per line).
# ---------------------------------------------------------------------------------

# The PL/pgSQL triggers (variant plpgsql).
functions_sql() {
  cat <<'SQL'
CREATE OR REPLACE FUNCTION bench_used_voucher_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF pg_trigger_depth() > 1 THEN RETURN NULL; END IF; IF TG_OP = 'DELETE' THEN UPDATE voucher SET user_id = NULL WHERE id = OLD.voucher_id; RETURN NULL; END IF; IF TG_OP = 'UPDATE' AND OLD.voucher_id <> NEW.voucher_id THEN UPDATE voucher SET user_id = NULL WHERE id = OLD.voucher_id; END IF; UPDATE voucher SET user_id = NEW.user_id WHERE id = NEW.voucher_id; RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION bench_voucher_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF pg_trigger_depth() > 1 THEN RETURN NULL; END IF; IF TG_OP = 'DELETE' THEN DELETE FROM used_voucher WHERE voucher_id = OLD.id; RETURN NULL; END IF; IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN DELETE FROM used_voucher WHERE voucher_id = OLD.id; END IF; IF NEW.user_id IS NOT NULL THEN INSERT INTO used_voucher (user_id, voucher_id) VALUES (NEW.user_id, NEW.id) ON CONFLICT (voucher_id) DO UPDATE SET user_id = EXCLUDED.user_id; ELSIF TG_OP = 'UPDATE' THEN DELETE FROM used_voucher WHERE voucher_id = NEW.id; END IF; RETURN NULL; END $$;
SQL
}

# Fresh tables, seeded: vouchers 1..v, the even ones redeemed by user id % 1000 + 1.
tables_sql() {  # vouchers variant migration
  local v=$1
  cat <<SQL
DROP TABLE IF EXISTS used_voucher, voucher;
CREATE TABLE voucher (id int PRIMARY KEY, code text NOT NULL);
CREATE TABLE used_voucher (user_id int NOT NULL, voucher_id int NOT NULL UNIQUE);
INSERT INTO voucher SELECT i, 'V' || i FROM generate_series(1, $v) i;
INSERT INTO used_voucher SELECT i % 1000 + 1, i FROM generate_series(2, $v, 2) i;
SQL
  case "$2" in
    zdm|zdm_nolock)
      echo "SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id', migration => '$3');"
      echo "CALL zdm.backfill('$3');"
      [ "$2" = zdm_nolock ] && echo "SELECT format('ALTER TABLE used_voucher DISABLE TRIGGER %I', tgname) FROM pg_trigger WHERE tgrelid = 'used_voucher'::regclass AND tgname LIKE '0zdm\\_lock\\_%' \\gexec"
      ;;
    *)
      echo "ALTER TABLE voucher ADD COLUMN user_id int;"
      echo "UPDATE voucher v SET user_id = u.user_id FROM used_voucher u WHERE u.voucher_id = v.id;"
      ;;
  esac
  if [ "$2" = plpgsql ]; then
    echo "CREATE TRIGGER bench_used_voucher_sync AFTER INSERT OR UPDATE OR DELETE ON used_voucher FOR EACH ROW EXECUTE FUNCTION bench_used_voucher_sync();"
    echo "CREATE TRIGGER bench_voucher_sync AFTER INSERT OR UPDATE OF id, user_id OR DELETE ON voucher FOR EACH ROW EXECUTE FUNCTION bench_voucher_sync();"
  fi
  echo "VACUUM FULL voucher;"
  echo "VACUUM FULL used_voucher;"
}

teardown_sql() {  # variant migration
  case "$1" in
    zdm|zdm_nolock) echo "SELECT zdm.abort('$2');" ;;
    plpgsql) echo "DROP TRIGGER bench_used_voucher_sync ON used_voucher;"
             echo "DROP TRIGGER bench_voucher_sync ON voucher;" ;;
  esac
  echo "DROP TABLE used_voucher, voucher;"
}

# Untimed, before each workload: vacuum, and five statements on the reserved vouchers
# v-1 (free) and v (redeemed) that run each trigger once and leave the data as it was
# (but for the user of voucher v).
prepare_sql() {  # vouchers
  local v=$1
  cat <<SQL
VACUUM (FREEZE, ANALYZE) voucher;
VACUUM (FREEZE, ANALYZE) used_voucher;
INSERT INTO used_voucher (user_id, voucher_id) VALUES (7, $((v - 1)));
DELETE FROM used_voucher WHERE voucher_id = $((v - 1));
UPDATE voucher SET user_id = 7 WHERE id = $((v - 1));
UPDATE voucher SET user_id = user_id % 1000 + 1 WHERE id = $v;
UPDATE voucher SET user_id = NULL WHERE id = $((v - 1));
SQL
}

# The statement of a workload for row number i of a block starting after id `base`:
# free vouchers are base + 2i - 1, redeemed ones base + 2i (seeded user
# (base + 2i) % 1000 + 1; reassigned to a user >= 1001, so the value always
# changes). The variant "both" issues the second statement itself (what the
# triggers do for it), in the same transaction.
statement() {  # workload base i variant
  local free="$2 + 2 * $3 - 1" red="$2 + 2 * $3" u="$3 % 1000 + 1" s
  if [[ "$3" =~ ^[0-9]+$ ]]; then  # a literal row number: literal values
    free=$(( $2 + 2 * $3 - 1 )) red=$(( $2 + 2 * $3 )) u=$(( $3 % 1000 + 1 ))
  fi
  case "$1" in
    v1_insert) s="INSERT INTO used_voucher (user_id, voucher_id) VALUES ($u, $free)"
               [ "$4" = both ] && s+="; UPDATE voucher SET user_id = $u WHERE id = $free" ;;
    v1_delete) s="DELETE FROM used_voucher WHERE voucher_id = $red"
               [ "$4" = both ] && s+="; UPDATE voucher SET user_id = NULL WHERE id = $red" ;;
    v2_redeem) s="UPDATE voucher SET user_id = $u WHERE id = $free"
               [ "$4" = both ] && s+="; INSERT INTO used_voucher (user_id, voucher_id) VALUES ($u, $free) ON CONFLICT (voucher_id) DO UPDATE SET user_id = EXCLUDED.user_id" ;;
    v2_reassign) s="UPDATE voucher SET user_id = 1000 + $u WHERE id = $red"
               [ "$4" = both ] && s+="; INSERT INTO used_voucher (user_id, voucher_id) VALUES (1000 + $u, $red) ON CONFLICT (voucher_id) DO UPDATE SET user_id = EXCLUDED.user_id" ;;
    v2_clear) s="UPDATE voucher SET user_id = NULL WHERE id = $red"
               [ "$4" = both ] && s+="; DELETE FROM used_voucher WHERE voucher_id = $red" ;;
  esac
  echo "$s;"
}

loop_sql() {  # workload base n variant -> one DO line
  echo "DO \$\$ BEGIN FOR i IN 1..$3 LOOP $(statement "$1" "$2" i "$4") END LOOP; END \$\$;"
}

# Rows whose two shapes disagree (0 when in sync), but for the reserved vouchers
# (the variant "both" does not sync the warm-up statements).
check_sql() {  # vouchers
  echo "SELECT (SELECT count(*) FROM (SELECT voucher_id, user_id FROM used_voucher WHERE voucher_id < $(($1 - 1)) EXCEPT SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL) a) + (SELECT count(*) FROM (SELECT id, user_id FROM voucher WHERE user_id IS NOT NULL AND id < $(($1 - 1)) EXCEPT SELECT voucher_id, user_id FROM used_voucher) b) AS bad"
}

# ---------------------------------------------------------------------------------
# Wall clock: runs inside pg_virtualenv.
# ---------------------------------------------------------------------------------
run_one() {  # variant rep -> lines "R|variant|rep|mode|workload|ms" and "C|variant|rep|bad"
  local var=$1 rep=$2 mode wl base=0
  {
    echo "SET client_min_messages = warning;"
    echo "SET jit = off;"
    tables_sql "$V" "$var" "bench_join_$rep"
    for mode in $MODES; do
      for wl in $WORKLOADS; do
        prepare_sql "$V"
        echo "CHECKPOINT;"
        echo "SELECT clock_timestamp() AS t0 \\gset"
        if [ "$mode" = loop ]; then loop_sql "$wl" "$base" "$N" "$var"
        else echo "\\i $BENCH_DIR/tx_$base.sql"; fi
        echo "SELECT round((extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000)::numeric, 2) AS ms \\gset"
        echo "\\echo R|$var|$rep|$mode|$wl|:ms"
        base=$((base + 2 * N))
      done
    done
    echo "$(check_sql "$V") \\gset"
    echo "\\echo C|$var|$rep|:bad"
    teardown_sql "$var" "bench_join_$rep"
  } > "$BENCH_DIR/run.sql"
  psql -X -q -v ON_ERROR_STOP=1 -At -f "$BENCH_DIR/run.sql"
}

inner() {
  psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS zdm;
$(functions_sql)
SQL
  {
    echo "pg_version=$(psql -X -At -c 'SELECT version()')"
    echo "settings=$(psql -X -At -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'fsync', 'synchronous_commit', 'wal_level', 'jit')")"
    echo "zdm_version=$(psql -X -At -c "SELECT extversion FROM pg_extension WHERE extname = 'zdm'")"
  } > "$BENCH_DIR/meta.txt"
  # The single-row-transaction scripts: one line, one statement, one transaction.
  local base=0 mode wl i
  for mode in $MODES; do
    for wl in $WORKLOADS; do
      if [ "$mode" = tx ]; then
        for (( i = 1; i <= N; i++ )); do statement "$wl" "$base" "$i" none; done > "$BENCH_DIR/tx_$base.sql"
      fi
      base=$((base + 2 * N))
    done
  done
  local variants=(none plpgsql zdm) rep k
  for (( rep = 0; rep <= REPS; rep++ )); do   # round 0 warms up and is not counted
    for (( k = 0; k < 3; k++ )); do
      local var=${variants[$(( (rep + k) % 3 ))]}
      if (( rep > 0 )); then run_one "$var" "$rep" >> "$BENCH_DIR/raw.txt"; else run_one "$var" 0 > /dev/null; fi
    done
    echo "  round $rep/$REPS done ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
  done
}

# ---------------------------------------------------------------------------------
# Callgrind: a single-user backend per variant, collecting only inside the DO loops.
# ---------------------------------------------------------------------------------
callgrind() {
  local bin=/usr/lib/postgresql/15/bin cg="$BENCH_DIR/cg" var wl
  mkdir -p "$cg"
  chown postgres "$BENCH_DIR" "$cg"
  su postgres -c "$bin/initdb -D $cg/data -A trust >/dev/null"
  for var in none plpgsql zdm zdm_nolock both; do
    {
      echo "SET jit = off;"
      echo "CREATE EXTENSION IF NOT EXISTS zdm;"
      echo "SELECT zdm.abort(name) FROM zdm.migrations WHERE state = 'active';"
      echo "DELETE FROM zdm.ddl_log;"
      echo "DELETE FROM zdm.operations;"
      echo "DELETE FROM zdm.migrations;"
      functions_sql
      tables_sql "$CG_V" "$var" "bench_join_$var" | grep -v gexec
      # single-user mode has no \gexec: disable the lock trigger by a DO block
      # (before the collected DO loops: the profiles are the last five dumps)
      [ "$var" = zdm_nolock ] && echo "DO \$\$ DECLARE t name; BEGIN SELECT tgname INTO t FROM pg_trigger WHERE tgrelid = 'used_voucher'::regclass AND tgname LIKE '0zdm\\_lock\\_%'; EXECUTE format('ALTER TABLE used_voucher DISABLE TRIGGER %I', t); END \$\$;"
      local base=0
      for wl in $WORKLOADS; do
        prepare_sql "$CG_V"
        loop_sql "$wl" "$base" "$CG_N" "$var"
        base=$((base + 2 * CG_N))
      done
      echo "$(check_sql "$CG_V");"
    } > "$cg/$var.sql"
    chmod 644 "$cg/$var.sql"
    su postgres -c "cd $cg && valgrind --tool=callgrind --toggle-collect=plpgsql_inline_handler --dump-after=plpgsql_inline_handler --callgrind-out-file=$cg/$var.out $bin/postgres --single -D $cg/data postgres < $cg/$var.sql > $cg/$var.log 2> $cg/$var.err" \
      || { echo "callgrind run of $var failed:" >&2; tail -20 "$cg/$var.err" >&2; return 1; }
    echo "  callgrind $var done" >&2
  done
}

if [ "${1:-}" = --inner ]; then inner; exit 0; fi

# ---------------------------------------------------------------------------------
# Outer part.
# ---------------------------------------------------------------------------------
[[ "$N" =~ ^[1-9][0-9]*$ && "$CG_N" =~ ^[1-9][0-9]*$ && "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_STMTS, BENCH_CG_STMTS and BENCH_REPS must be positive integers" >&2; exit 2; }
CG="${BENCH_CALLGRIND:-auto}"
if [ "$CG" = auto ]; then
  if [ "$(id -u)" = 0 ] && command -v valgrind >/dev/null && id postgres >/dev/null 2>&1; then CG=1; else CG=0; fi
fi
export BENCH_DIR V N REPS MODES WORKLOADS
BENCH_DIR=$(mktemp -d -t zdm-bench-join.XXXXXX)
chmod 755 "$BENCH_DIR"
trap 'rm -rf "$BENCH_DIR"' EXIT
start=$SECONDS
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== bench/join.sh: $N statements per workload, best of $REPS, modes: $MODES" >&2
PGPORT=$(scripts/free-port.sh) pg_virtualenv -t -v 15 bash "$SELF" --inner
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
wall_s=$((SECONDS - start))
if [ "$CG" = 1 ]; then callgrind; fi
cg_s=$((SECONDS - start - wall_s))
if [ -n "${BENCH_KEEP:-}" ]; then  # keep the raw timings and the callgrind profiles
  mkdir -p "$BENCH_KEEP"
  cp "$BENCH_DIR/raw.txt" "$BENCH_DIR/meta.txt" "$BENCH_KEEP/"
  [ "$CG" = 1 ] && cp "$BENCH_DIR"/cg/*.out* "$BENCH_DIR"/cg/*.sql "$BENCH_DIR"/cg/*.log "$BENCH_KEEP/"
fi

export RESULTS CG CG_V CG_N wall_s cg_s load_before load_after
python3 - <<'PY'
import sys, os, re, glob, subprocess, datetime, platform
E = os.environ
d, out, cg = E["BENCH_DIR"], E["RESULTS"], E["CG"] == "1"
N, V, CG_N, CG_V, REPS, MODES = int(E["N"]), int(E["V"]), int(E["CG_N"]), int(E["CG_V"]), int(E["REPS"]), E["MODES"].split()
WL = E["WORKLOADS"].split()
meta = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(d, "meta.txt")) if "=" in l)
runs, bad = {}, {}
for line in open(os.path.join(d, "raw.txt")):
    f = line.strip().split("|")
    if f[0] == "R":
        runs.setdefault((f[1], f[3], f[4]), []).append(float(f[5]) * 1000 / N)   # us per statement
    elif f[0] == "C":
        bad[f[1]] = bad.get(f[1], 0) + int(f[3])
best = {k: min(v) for k, v in runs.items()}
worst = {k: max(v) for k, v in runs.items()}
desc = {"v1_insert": "v1 `INSERT INTO used_voucher` (redeem)",
        "v1_delete": "v1 `DELETE FROM used_voucher` (un-redeem)",
        "v2_redeem": "v2 `UPDATE voucher SET user_id = u` (redeem a free voucher)",
        "v2_reassign": "v2 `UPDATE voucher SET user_id = u2` (reassign)",
        "v2_clear": "v2 `UPDATE voucher SET user_id = NULL` (un-redeem)"}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
L = []
L += ["# zdm benchmark: cross-table sync (join_to_column) per synced write",
      "",
      f"- Date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC",
      f"- Command: `bench/join.sh` (BENCH_STMTS={N} BENCH_REPS={REPS} BENCH_MODES=\"{' '.join(MODES)}\""
      + (f" BENCH_CG_STMTS={CG_N}" if cg else " BENCH_CALLGRIND=0") + f"); wall-clock part {E['wall_s']} s" + (f", callgrind part {E['cg_s']} s" if cg else ""),
      f"- Machine: {os.cpu_count()} CPUs (`nproc`), {cpu}, {mem:.0f} GiB RAM, kernel {platform.release()}; load average (1, 5, 15 min) {E['load_before']} before, {E['load_after']} after the wall-clock part (a shared machine)",
      f"- PostgreSQL: {meta.get('pg_version', '?')}; zdm {meta.get('zdm_version', '?')}",
      f"- Cluster: throwaway `pg_virtualenv` cluster, {meta.get('settings', '?')} (jit off in the bench sessions)",
      "- Tables: `voucher(id int PRIMARY KEY, code text NOT NULL)` + `user_id int`, "
      f"`used_voucher(user_id int NOT NULL, voucher_id int NOT NULL UNIQUE)`, no foreign keys; {V} vouchers, the even ones redeemed; "
      "fresh tables per repetition, made identical on disk by `VACUUM FULL` after seeding.",
      "- Variants: **none** = no sync (the same tables, no trigger); **PL/pgSQL** = the commonly published recipe "
      "(`AFTER INSERT OR UPDATE OR DELETE ON used_voucher` doing `UPDATE voucher SET user_id = NEW.user_id WHERE id = NEW.voucher_id` / "
      "`SET user_id = NULL` on delete; `AFTER INSERT OR UPDATE OF id, user_id OR DELETE ON voucher` doing "
      "`INSERT ... ON CONFLICT (voucher_id) DO UPDATE` / `DELETE`; `pg_trigger_depth() > 1` returns at once), "
      "with its three defects fixed (DELETE handled, CREATE TRIGGER names the existing function, DROP TRIGGER ... ON table); "
      "**zdm** = `zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id')` after seeding, "
      "then `CALL zdm.backfill()` (complete): compiled C triggers, SPI plans kept, plus the BEFORE INSERT trigger on the join table that "
      "locks the target row `FOR NO KEY UPDATE` (deadlock avoidance; the recipe has none).",
      f"- Workloads: {N} single-row statements each, on rows no other workload touches, "
      "untimed before each: `VACUUM (FREEZE, ANALYZE)` of both tables, `CHECKPOINT`, five warm-up statements on two reserved vouchers. "
      "Modes: **loop** = the statements in a `DO` loop (one transaction, plans cached: the trigger's cost stands out; the steadier numbers); "
      "**tx** = one psql line per statement, autocommit (parse, plan, round trip and commit per statement: what an application sees). "
      f"Server-side `clock_timestamp()` around the whole workload / {N}; best of {REPS} repetitions after an untimed warm-up round, "
      "the three variants interleaved in an order that rotates each repetition.",
      "- Overhead = variant - none, per statement. **zdm ×** = PL/pgSQL overhead / zdm overhead: how many times cheaper zdm's sync is per synced write. Target: >= 2.",
      ""]
ratios = []
for mode in MODES:
    L += [f"## Wall clock, mode {mode} (µs per statement, best of {REPS})", "",
          "| workload | none | PL/pgSQL | zdm | PL/pgSQL overhead | zdm overhead | zdm × | spread worst/best (none, PL/pgSQL, zdm) |",
          "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for wl in WL:
        n, p, z = (best[(v, mode, wl)] for v in ("none", "plpgsql", "zdm"))
        po, zo = p - n, z - n
        r = po / zo if zo > 0 else float("inf")
        ratios.append((mode, wl, r))
        sp = ", ".join(f"{worst[(v, mode, wl)] / best[(v, mode, wl)]:.2f}" for v in ("none", "plpgsql", "zdm"))
        L.append(f"| {desc[wl]} | {n:.1f} | {p:.1f} | {z:.1f} | {po:+.1f} ({po / n:+.0%}) | {zo:+.1f} ({zo / n:+.0%}) | **{r:.2f}** | {sp} |")
    L.append("")
met = sum(r >= 2 for _, _, r in ratios)
L += [f"Wall clock: zdm × >= 2 in {met} of {len(ratios)} measurements. "
      f"Out-of-sync rows after the runs: PL/pgSQL {bad.get('plpgsql', '?')}, zdm {bad.get('zdm', '?')} (must be 0).", ""]

if cg:
    import collections
    def parse(path):  # callgrind file -> self cost per function, call arcs, object per function, total
        names, obj_names = {}, {}
        def nm(table, s):
            m = re.match(r"\((\d+)\)(?: (.*))?$", s.strip())
            if not m: return s.strip()
            if m.group(2) is not None: table[m.group(1)] = m.group(2)
            return table.get(m.group(1), "?" + m.group(1))
        slf, arcs, obj = collections.Counter(), collections.Counter(), {}
        fn = cfn = ob = None; pending = False; total = 0
        for line in open(path):
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if pending: arcs[(fn, cfn)] += cost; pending = False
                else: slf[fn] += cost
            elif line.startswith("fn="):
                fn = re.sub(r"\(anonymous namespace\)::", "", nm(names, line[3:])).split("(")[0]; obj[fn] = ob
            elif line.startswith("cfn="): cfn = re.sub(r"\(anonymous namespace\)::", "", nm(names, line[4:])).split("(")[0]
            elif line.startswith("ob="): ob = os.path.basename(nm(obj_names, line[3:]))
            elif line.startswith("cob="): nm(obj_names, line[4:])
            elif line.startswith("calls="): pending = True
            elif line.startswith("summary:") or line.startswith("totals:"): total = int(line.split()[1])
        return slf, arcs, obj, total
    def dumps(var):
        files = [f for f in glob.glob(os.path.join(d, "cg", var + ".out.*")) if re.search(r"\.\d+$", f)]
        files.sort(key=lambda f: int(f.rsplit(".", 1)[1]))
        return dict(zip(WL, files[-len(WL):]))   # the last five dumps are the workloads' loops
    variants = ("none", "plpgsql", "zdm", "zdm_nolock", "both")
    P = {}
    for v in variants:
        for wl, f in dumps(v).items():
            P[(v, wl)] = parse(f)
    ir = {k: x[3] / CG_N for k, x in P.items()}
    def inc(v, wl, fns):  # inclusive cost per statement of functions (self + calls to others)
        slf, arcs = P[(v, wl)][0], P[(v, wl)][1]
        tot = sum(slf.get(f, 0) for f in fns)
        tot += sum(x for (f, g), x in arcs.items() if f in fns and g != f)
        return tot / CG_N
    def selfin(v, wl, lib):
        slf, obj = P[(v, wl)][0], P[(v, wl)][2]
        return sum(x for f, x in slf.items() if obj.get(f) == lib) / CG_N
    cgbad = []
    for v in variants:
        m = re.findall(r'bad = "(\d+)"', open(os.path.join(d, "cg", v + ".log")).read())
        cgbad.append(f"{v} {m[-1] if m else '?'}")
        if v != "none" and (not m or m[-1] != "0"): bad["callgrind " + v] = 1
    L += [f"## Instructions per statement (callgrind, {CG_N} statements per workload)", "",
          "Single-user backend (`postgres --single`) under valgrind, jit off, one run per variant; only the `DO` loops are collected "
          "(`--toggle-collect=plpgsql_inline_handler`, a profile dumped after each: one per workload), so setup, warm-up and commit are left out. "
          "Instruction counts do not move with the machine's load. Two more variants for the analysis: **both** = no trigger, "
          "the loop itself issues the second statement the triggers would (the floor for any sync made of SQL statements); "
          "**zdm no lock** = zdm with its BEFORE INSERT lock trigger disabled.", "",
          "| workload | none | PL/pgSQL | zdm | PL/pgSQL overhead | zdm overhead | zdm × | both: overhead | zdm no lock: overhead |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    cg_ratios = []
    for wl in WL:
        n, p, z, nl, b = (ir[(v, wl)] for v in variants)
        r = (p - n) / (z - n)
        cg_ratios.append(r)
        L.append(f"| {wl} | {n:,.0f} | {p:,.0f} | {z:,.0f} | {p - n:+,.0f} ({(p - n) / n:+.0%}) | {z - n:+,.0f} ({(z - n) / n:+.0%}) | **{r:.2f}** | {b - n:+,.0f} | {nl - n:+,.0f} |")
    L += ["", f"Callgrind: zdm × >= 2 in {sum(r >= 2 for r in cg_ratios)} of {len(cg_ratios)} workloads. "
          f"Out-of-sync rows at the end of each callgrind run: {', '.join(cgbad)} (none is expected to differ; the others must be 0).", ""]
    rows = [
        ("lock", "BEFORE INSERT lock trigger (v1_insert: its `SELECT ... FOR NO KEY UPDATE`; v2: called on the upsert, returns at once)", None),
        ("GetCachedPlan", "plan cache: `GetCachedPlan` (revalidate the kept plan, lock the relations)", ["GetCachedPlan"]),
        ("ExecutorStart", "executor startup: `ExecutorStart` (range table, open table + indexes, init plan nodes, expressions, slots)", ["ExecutorStart"]),
        ("-CopyTriggerDesc", "&nbsp;&nbsp;of which `CopyTriggerDesc` (each trigger's arguments copied at every executor startup on the table)", ["CopyTriggerDesc"]),
        ("-ExecInitIndexScan", "&nbsp;&nbsp;of which `ExecInitIndexScan` (scan keys, quals and projection compiled for the key lookup)", ["ExecInitIndexScan"]),
        ("ExecutorEnd", "executor shutdown: `ExecutorEnd` (close, free the executor state)", ["ExecutorEnd"]),
        ("spi", "SPI and snapshots: `SPI_connect`, `SPI_finish`, `Push/PopActiveSnapshot`, `GetTransactionSnapshot`, `CommandCounterIncrement`",
         ["SPI_connect", "SPI_finish", "PushActiveSnapshot", "PopActiveSnapshot", "GetTransactionSnapshot", "CommandCounterIncrement"]),
        ("work", "the row work itself: index lookup (`index_getnext_slot`), `heap_update/insert/delete/lock_tuple`, `ExecInsertIndexTuples`, `ExecCheckIndexConstraints` (WAL included)",
         ["index_getnext_slot", "heap_update", "heap_insert", "heap_delete", "heap_lock_tuple", "ExecInsertIndexTuples", "ExecCheckIndexConstraints"]),
        ("queue", "AFTER-trigger event queueing: `ExecAR{Insert,Update,Delete}Triggers` (outer and nested statement)",
         ["ExecARInsertTriggers", "ExecARUpdateTriggers", "ExecARDeleteTriggers"]),
    ]
    L += ["## Where the sync's instructions go (callgrind profile)", "",
          "Per statement, each figure minus the same figure in the no-sync variant (so only what the sync adds is left), from the profiles above. "
          "The rows do not overlap (but for the indented \"of which\" rows): each is the inclusive cost (function + callees) of functions that never contain another of the rows. "
          "The zdm column is taken from the no-lock variant, with the lock trigger as its own row (zdm - zdm no lock). "
          "Debian's postgres binary is stripped: only exported functions have names, which is why the breakdown uses those.", ""]
    for wl in WL:
        L += [f"**{wl}** ({desc[wl]})", "",
              "| Ir per statement, minus none | PL/pgSQL | zdm | both (2nd statement issued by the loop) |", "|---|---:|---:|---:|"]
        cols = {"plpgsql": "plpgsql", "zdm": "zdm_nolock", "both": "both"}
        tot = {k: ir[(v, wl)] - ir[("none", wl)] for k, v in cols.items()}
        tot["zdm"] = ir[("zdm", wl)] - ir[("none", wl)]
        L.append("| **total overhead** | " + " | ".join(f"**{tot[k]:,.0f}**" for k in cols) + " |")
        rest = dict(tot)
        for key, label, fns in rows:
            vals = {}
            for k, v in cols.items():
                if key == "lock":
                    vals[k] = ir[("zdm", wl)] - ir[("zdm_nolock", wl)] if k == "zdm" else 0.0
                else:
                    vals[k] = inc(v, wl, fns) - inc("none", wl, fns)
                if not key.startswith("-"): rest[k] -= vals[k]
            L.append(f"| {label} | " + " | ".join(f"{vals[k]:,.0f}" for k in cols) + " |")
        L.append("| everything else (trigger firing: fetch the row, call the function; PL/pgSQL interpretation or zdm's own code; "
                 "`ExecutorRun`/ModifyTable node overhead; memory contexts) | " + " | ".join(f"{rest[k]:,.0f}" for k in cols) + " |")
        L.append("| of which self cost in plpgsql.so / zdm.so | "
                 f"{selfin('plpgsql', wl, 'plpgsql.so') - selfin('none', wl, 'plpgsql.so'):,.0f} | {selfin('zdm_nolock', wl, 'zdm.so'):,.0f} | "
                 f"{selfin('both', wl, 'plpgsql.so') - selfin('none', wl, 'plpgsql.so'):,.0f} |")
        L.append("")
    for wl in ("v1_insert", "v2_redeem"):
        sz, sn = P[("zdm", wl)][0], P[("none", wl)][0]
        dz = {k: (sz.get(k, 0) - sn.get(k, 0)) / CG_N for k in set(sz) | set(sn)}
        tot = ir[("zdm", wl)] - ir[("none", wl)]
        L += [f"Top 15 self costs that zdm adds in {wl} (Ir per statement, zdm minus none; `0x...` = a static function of the stripped postgres binary):", "",
              "| function | Ir / statement | share of zdm's overhead |", "|---|---:|---:|"]
        for k, x in sorted(dz.items(), key=lambda kv: -kv[1])[:15]:
            L.append(f"| `{k}` | {x:,.0f} | {x / tot:.1%} |")
        L.append("")
text = "\n".join(L) + "\n"
MARK = "<!-- analysis: kept when the script rewrites this file -->"
if os.path.exists(out) and MARK in open(out).read():
    text += "\n" + MARK + open(out).read().split(MARK, 1)[1]
open(out, "w").write(text)
print(text)
sys.exit(1 if any(x for k, x in bad.items() if k != "none") else 0)
PY
