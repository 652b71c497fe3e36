#!/usr/bin/env bash
# bench/oltp.sh - does the application keep its throughput while zdm backfills?
# pgbench runs a write workload (single-row UPDATEs by random primary key, through
# the dual-write trigger of an open add_column migration) on the table being
# backfilled, three times for BENCH_SECONDS each:
#   none       the migration open, no backfill running (the trigger's cost is in all three)
#   default    CALL zdm.backfill() with its defaults (batch_size 5000, no pause, no max_rate)
#   max_rate   CALL zdm.backfill(max_rate => half the rate the default one reached)
#   then the same bound with batch_size 1000, and batch_size 1000 at a tenth of the rate
# Reported: TPS, p99 latency (from pgbench's per-transaction log), the backfill's
# rows/s over the window, and TPS kept against `none` (the goal: >= 90% with max_rate).
#
# Usage:   bench/oltp.sh        (against the cluster in PG*, with zdm installed)
#   BENCH_ROWS (1500000)  rows of the table: enough that the backfill outlasts the window
#   BENCH_SECONDS (15)    each pgbench run
#   BENCH_CLIENTS (4)     pgbench clients (-j 2)
#   BENCH_RESULTS (bench/results-oltp.md)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${BENCH_ROWS:-1500000}
secs=${BENCH_SECONDS:-15}
clients=${BENCH_CLIENTS:-4}
results=${BENCH_RESULTS:-bench/results-oltp.md}
db=zdm_bench_oltp
work=$(mktemp -d /tmp/zdm_oltp.XXXXXX)
bf_pid=
cleanup() {
  [ -n "$bf_pid" ] && kill "$bf_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
run() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
run <<SQL
CREATE EXTENSION zdm;
CREATE TABLE acct (id int PRIMARY KEY, qty int, note text, pad text);
INSERT INTO acct SELECT i, i, 'note ' || i, repeat('x', 60) FROM generate_series(1, $rows) i;
VACUUM ANALYZE acct;
SQL
cat >"$work/update.sql" <<SQL
\set id random(1, $rows)
UPDATE acct SET qty = qty + 1 WHERE id = :id;
SQL

# One scenario: $1 name, $2 the backfill's CALL (empty: none). Prints
# "tps p99_ms backfill_rows_per_s".
scenario() {
  local name=$1 call=$2
  run -c "SELECT zdm.begin_add_column('acct', 'label', 'text', up => 'upper(note)', migration => 'oltp_$name')" >/dev/null
  run -c "CHECKPOINT"
  local rate
  if [ -n "$call" ]; then
    PGAPPNAME=zdm_oltp_backfill psql -X -q -d "$db" -c "${call//MIGRATION/oltp_$name}" >"$work/$name.backfill" 2>&1 &
    bf_pid=$!
    sleep 1  # the backfill is under way before the window opens
  fi
  (cd "$work" && pgbench -n -c "$clients" -j 2 -T "$secs" -f update.sql -l --log-prefix="$name" "$db" >"$name.pgbench" 2>&1) ||
    { cat "$work/$name.pgbench" >&2; exit 1; }
  # The backfill's own rate, from its start to the window's end (or its own end).
  rate=$(run -At -c "SELECT coalesce(round(rows_done / nullif(extract(epoch FROM coalesce(backfill_finished_at, clock_timestamp()) - backfill_started_at), 0)), 0) FROM zdm.operations WHERE migration = 'oltp_$name'")
  local state
  state=$(run -At -c "SELECT backfill FROM zdm.status() WHERE migration = 'oltp_$name'")
  if [ -n "$call" ]; then
    run -At -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'zdm_oltp_backfill' AND datname = '$db'" >/dev/null
    wait "$bf_pid" || true
    bf_pid=
  fi
  run -c "SELECT zdm.abort('oltp_$name')" >/dev/null
  run -c "VACUUM acct"
  local tps p99
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/$name.pgbench" | head -1)
  p99=$(cat "$work/$name".* 2>/dev/null | awk 'NF >= 6 && $1 ~ /^[0-9]+$/ {print $3}' | sort -n |
    awk '{a[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", a[i] / 1000}')
  awk -v tps="$tps" -v p99="$p99" -v rate="$rate" -v st="$state" \
    'BEGIN { printf "%.0f %s %d %s\n", tps, p99, rate, st }'
}

read -r n_tps n_p99 _ _ < <(scenario none "")
echo "none:     tps $n_tps p99 ${n_p99} ms"
read -r d_tps d_p99 d_rate d_state < <(scenario default "CALL zdm.backfill('MIGRATION')")
echo "default:  tps $d_tps p99 ${d_p99} ms backfill ${d_rate} rows/s ($d_state at the end)"
half=$((d_rate / 2))
[ "$half" -ge 1 ] || half=1
read -r m_tps m_p99 m_rate m_state < <(scenario max_rate "CALL zdm.backfill('MIGRATION', max_rate => $half)")
echo "max_rate: tps $m_tps p99 ${m_p99} ms backfill ${m_rate} rows/s ($m_state at the end)"
# The same bound in smaller batches (row locks held for a fifth of the time), and a
# tenth of the rate: how far the knob has to go on this machine.
read -r s_tps s_p99 s_rate s_state < <(scenario small_batches "CALL zdm.backfill('MIGRATION', batch_size => 1000, max_rate => $half)")
echo "max_rate, batch 1000: tps $s_tps p99 ${s_p99} ms backfill ${s_rate} rows/s ($s_state at the end)"
tenth=$((d_rate / 10))
[ "$tenth" -ge 1 ] || tenth=1
read -r t_tps t_p99 t_rate t_state < <(scenario tenth "CALL zdm.backfill('MIGRATION', batch_size => 1000, max_rate => $tenth)")
echo "max_rate tenth: tps $t_tps p99 ${t_p99} ms backfill ${t_rate} rows/s ($t_state at the end)"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
{
  echo "# OLTP next to a backfill (bench/oltp.sh)"
  echo
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores (shared with other work: load $(cut -d' ' -f1 /proc/loadavg) at the end)," \
       "$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM;" \
       "$(psql -X -At -d "$db" -c 'SHOW server_version') with fsync = $(psql -X -At -d "$db" -c 'SHOW fsync')," \
       "shared_buffers = $(psql -X -At -d "$db" -c 'SHOW shared_buffers')."
  echo "Table acct(id int PRIMARY KEY, qty int, note text, pad text), $rows rows, an open"
  echo "add_column migration (label = upper(note)) in every run; pgbench: $clients clients, -j 2,"
  echo "${secs} s per run, each transaction one \`UPDATE acct SET qty = qty + 1 WHERE id = random\`."
  echo "One run each on a shared machine: the figures are indicative."
  echo
  echo "| backfill | TPS | TPS kept | p99 latency | backfill rows/s (from its start) | backfill at the window's end |"
  echo "|---|---|---|---|---|---|"
  echo "| none | $n_tps | 100% | $n_p99 ms | - | - |"
  echo "| default (batch_size 5000) | $d_tps | $(pct "$d_tps" "$n_tps") | $d_p99 ms | $d_rate | $d_state |"
  echo "| max_rate => $half (half the default's) | $m_tps | $(pct "$m_tps" "$n_tps") | $m_p99 ms | $m_rate | $m_state |"
  echo "| batch_size => 1000, max_rate => $half | $s_tps | $(pct "$s_tps" "$n_tps") | $s_p99 ms | $s_rate | $s_state |"
  echo "| batch_size => 1000, max_rate => $tenth (a tenth) | $t_tps | $(pct "$t_tps" "$n_tps") | $t_p99 ms | $t_rate | $t_state |"
  echo
  awk -v m="$m_tps" -v n="$n_tps" 'BEGIN { if (m >= 0.9 * n) print "Goal (>= 90% of TPS kept with max_rate at half the unthrottled rate): met."; else print "Goal (>= 90% of TPS kept with max_rate at half the unthrottled rate): NOT met in this run." }'
  echo
  echo "Reading: on a machine whose cores the workload already fills (pgbench's clients and"
  echo "their backends), every row the backfill converts takes CPU from the clients: the"
  echo "unthrottled backfill's rate is what one backend does on one core, so half of it still"
  echo "costs about half a core, and TPS kept follows the share of the CPU the backfill is left."
  echo "Smaller batches shorten the row locks a client may wait on (the p99), not the CPU"
  echo "share. The knob is max_rate: set it to the fraction of one core's backfill rate the"
  echo "machine can spare; on a server with idle cores the same bound costs the"
  echo "applications far less. The 90% goal is not reachable at half the unthrottled rate"
  echo "on 2 cores that the workload already fills: the backfill then needs half a core."
} >"$results"
echo "wrote $results"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"
