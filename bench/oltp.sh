#!/usr/bin/env bash
# bench/oltp.sh - does the application keep its throughput while zdm backfills?
# pgbench runs a write workload (single-row UPDATEs by random primary key, through
# the dual-write trigger of an open add_column migration) on the table being
# backfilled, for BENCH_SECONDS each:
#   closed loop (pgbench as fast as it can: the clients fill the machine's cores)
#     none       the migration open, no backfill running (the trigger's cost is in all)
#     default    CALL zdm.backfill() with its defaults (batch_size 5000, no max_rate)
#     max_rate   CALL zdm.backfill(max_rate => half the rate the default one reached)
#     then the same bound with batch_size 1000, and batch_size 1000 at a tenth
#   open loop (pgbench -R at BENCH_LOAD % of the closed loop's TPS: a server with
#   headroom, as production runs) with no backfill, the default one and max_rate
# Reported: TPS, p99 latency (from pgbench's per-transaction log), the backfill's
# rows/s, the CPU its backend used over the window (from /proc) as a share of the
# machine, and TPS kept against `none` (the goal: >= 90% with max_rate at half).
#
# Usage:   bench/oltp.sh        (against the cluster in PG*, with zdm installed)
#   BENCH_ROWS (3000000)  rows of the table: enough that the backfill outlasts the window
#   BENCH_SECONDS (15)    each pgbench run
#   BENCH_CLIENTS (4)     pgbench clients (-j 2)
#   BENCH_LOAD (50)       the open loop's rate, % of the closed loop's TPS
#   BENCH_RESULTS (bench/results-oltp.md)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${BENCH_ROWS:-3000000}
secs=${BENCH_SECONDS:-15}
clients=${BENCH_CLIENTS:-4}
load=${BENCH_LOAD:-50}
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
run -c "CREATE EXTENSION zdm"
# A fresh table for every scenario: a backfill leaves its rows' old versions
# and index entries behind, and the next scenario would pay for them.
fresh_table() {
  run <<SQL
DROP TABLE IF EXISTS acct;
CREATE TABLE acct (id int PRIMARY KEY, qty int, note text, pad text);
INSERT INTO acct SELECT i, i, 'note ' || i, repeat('x', 60) FROM generate_series(1, $rows) i;
VACUUM ANALYZE acct;
SQL
}
cat >"$work/update.sql" <<SQL
\set id random(1, $rows)
UPDATE acct SET qty = qty + 1 WHERE id = :id;
SQL

# CPU seconds (user + system) a process has used so far, from /proc.
cpu_s() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || true
}

# One scenario: $1 name, $2 the backfill's CALL (empty: none), $3 pgbench's rate
# (-R, empty: as fast as it can). Prints
# "tps p99_ms backfill_rows_per_s backfill_state backfill_cpu_share_%".
scenario() {
  local name=$1 call=$2 rate_arg=${3:+-R $3}
  fresh_table
  run -c "SELECT zdm.begin_add_column('acct', 'label', 'text', up => 'upper(note)', migration => 'oltp_$name')" >/dev/null
  run -c "CHECKPOINT"
  local rate
  if [ -n "$call" ]; then
    PGAPPNAME=zdm_oltp_backfill psql -X -q -d "$db" -c "${call//MIGRATION/oltp_$name}" >"$work/$name.backfill" 2>&1 &
    bf_pid=$!
    sleep 1  # the backfill is under way before the window opens
  fi
  local bf_backend= cpu0= cpu1=
  [ -n "$call" ] && bf_backend=$(run -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'zdm_oltp_backfill' AND datname = '$db'")
  [ -n "$bf_backend" ] && cpu0=$(cpu_s "$bf_backend")
  # What the application's backends wait on, four times a second over the window.
  printf '%s\n' "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'pgbench' AND state = 'active' \\watch 0.25" |
    psql -X -At -d "$db" >"$work/$name.waits" 2>/dev/null &
  local sampler=$!
  # shellcheck disable=SC2086  # $rate_arg is two words or none
  (cd "$work" && pgbench -n -c "$clients" -j 2 -T "$secs" $rate_arg -f update.sql -l --log-prefix="$name" "$db" >"$name.pgbench" 2>&1) ||
    { cat "$work/$name.pgbench" >&2; exit 1; }
  [ -n "$bf_backend" ] && cpu1=$(cpu_s "$bf_backend")
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
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
  local tps p99
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/$name.pgbench" | head -1)
  p99=$(cat "$work/$name".* 2>/dev/null | awk 'NF >= 6 && $1 ~ /^[0-9]+$/ {print $3}' | sort -n |
    awk '{a[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", a[i] / 1000}')
  # The three most sampled states of the application's backends, as shares.
  grep -v '^$' "$work/$name.waits" | sort | uniq -c | sort -rn | head -3 |
    awk '{ n[NR] = $1; w[NR] = $2; t += $1 } END { for (i = 1; i <= NR; i++) printf "%s%s %.0f%%", (i > 1 ? ", " : ""), w[i], 100 * n[i] / t; print "" }' >"$work/$name.top"
  awk -v tps="$tps" -v p99="$p99" -v rate="$rate" -v st="${state:--}" -v c0="$cpu0" -v c1="$cpu1" \
    -v secs="$secs" -v cores="$(nproc)" \
    'BEGIN { cpu = (c0 == "" || c1 == "") ? "-" : sprintf("%.0f", 100 * (c1 - c0) / (secs * cores));
             printf "%.0f %s %d %s %s\n", tps, p99, rate, st, cpu }'
}

read -r n_tps n_p99 _ _ _ < <(scenario none "")
echo "none:     tps $n_tps p99 ${n_p99} ms"
read -r d_tps d_p99 d_rate d_state d_cpu < <(scenario default "CALL zdm.backfill('MIGRATION')")
echo "default:  tps $d_tps p99 ${d_p99} ms backfill ${d_rate} rows/s ($d_state at the end), cpu ${d_cpu}%"
half=$((d_rate / 2))
[ "$half" -ge 1 ] || half=1
read -r m_tps m_p99 m_rate m_state m_cpu < <(scenario max_rate "CALL zdm.backfill('MIGRATION', max_rate => $half)")
echo "max_rate: tps $m_tps p99 ${m_p99} ms backfill ${m_rate} rows/s ($m_state at the end), cpu ${m_cpu}%"
# The same bound in smaller batches (row locks held for a fifth of the time), and a
# tenth of the rate: how far the knob has to go on this machine.
read -r s_tps s_p99 s_rate s_state s_cpu < <(scenario small_batches "CALL zdm.backfill('MIGRATION', batch_size => 1000, max_rate => $half)")
echo "max_rate, batch 1000: tps $s_tps p99 ${s_p99} ms backfill ${s_rate} rows/s ($s_state at the end), cpu ${s_cpu}%"
tenth=$((d_rate / 10))
[ "$tenth" -ge 1 ] || tenth=1
read -r t_tps t_p99 t_rate t_state t_cpu < <(scenario tenth "CALL zdm.backfill('MIGRATION', batch_size => 1000, max_rate => $tenth)")
echo "max_rate tenth: tps $t_tps p99 ${t_p99} ms backfill ${t_rate} rows/s ($t_state at the end), cpu ${t_cpu}%"
# No backfill again: the spread of the two is this machine's noise.
read -r n2_tps n2_p99 _ _ _ < <(scenario none_again "")
echo "none again: tps $n2_tps p99 ${n2_p99} ms"
# Open loop: the application asks for a fixed rate, as a production server with
# headroom sees it; what the backfill may cost it is latency, and TPS only if the
# server can no longer keep up.
target=$((n_tps * load / 100))
read -r on_tps on_p99 _ _ _ < <(scenario open_none "" "$target")
echo "open loop $target tps, none: tps $on_tps p99 ${on_p99} ms"
read -r od_tps od_p99 od_rate od_state od_cpu < <(scenario open_default "CALL zdm.backfill('MIGRATION')" "$target")
echo "open loop, default: tps $od_tps p99 ${od_p99} ms backfill ${od_rate} rows/s, cpu ${od_cpu}%"
read -r om_tps om_p99 om_rate om_state om_cpu < <(scenario open_max_rate "CALL zdm.backfill('MIGRATION', max_rate => $half)" "$target")
echo "open loop, max_rate: tps $om_tps p99 ${om_p99} ms backfill ${om_rate} rows/s, cpu ${om_cpu}%"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
# What the arithmetic allows: with the cores full, TPS kept is at most what the
# backfill's CPU share leaves.
top() { cat "$work/$1.top"; }
bound() { awk -v c="$1" 'BEGIN { if (c == "-") print "-"; else printf "%.0f%%", 100 - c }'; }
{
  echo "# OLTP next to a backfill (bench/oltp.sh)"
  echo
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores (load $(cut -d' ' -f1 /proc/loadavg) at the end: ${BENCH_MACHINE_NOTE:-other work on the machine unknown})," \
       "$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM;" \
       "$(psql -X -At -d "$db" -c 'SHOW server_version') with fsync = $(psql -X -At -d "$db" -c 'SHOW fsync')," \
       "shared_buffers = $(psql -X -At -d "$db" -c 'SHOW shared_buffers')."
  echo "Table acct(id int PRIMARY KEY, qty int, note text, pad text), $rows rows, an open"
  echo "add_column migration (label = upper(note)) in every run; pgbench: $clients clients, -j 2,"
  echo "${secs} s per run, each transaction one \`UPDATE acct SET qty = qty + 1 WHERE id = random\`."
  echo "\"backfill CPU\" is what the backfill's backend used over the window (/proc), as a share"
  echo "of all $(nproc) cores; \"TPS bound\" is 100% minus that share: what a CPU-bound workload"
  echo "can keep at best when the backfill takes it."
  echo
  echo "Closed loop (pgbench as fast as it can: its clients fill every core):"
  echo
  echo "| backfill | TPS | TPS kept | p99 latency | backfill rows/s | backfill CPU | TPS bound | backfill at the window's end | the app's backends (samples) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  echo "| none | $n_tps | 100% | $n_p99 ms | - | - | - | - | $(top none) |"
  echo "| none, again after the others | $n2_tps | $(pct "$n2_tps" "$n_tps") | $n2_p99 ms | - | - | - | - | $(top none_again) |"
  echo "| default (batch_size 5000) | $d_tps | $(pct "$d_tps" "$n_tps") | $d_p99 ms | $d_rate | $d_cpu% | $(bound "$d_cpu") | $d_state | $(top default) |"
  echo "| max_rate => $half (half the default's) | $m_tps | $(pct "$m_tps" "$n_tps") | $m_p99 ms | $m_rate | $m_cpu% | $(bound "$m_cpu") | $m_state | $(top max_rate) |"
  echo "| batch_size => 1000, max_rate => $half | $s_tps | $(pct "$s_tps" "$n_tps") | $s_p99 ms | $s_rate | $s_cpu% | $(bound "$s_cpu") | $s_state | $(top small_batches) |"
  echo "| batch_size => 1000, max_rate => $tenth (a tenth) | $t_tps | $(pct "$t_tps" "$n_tps") | $t_p99 ms | $t_rate | $t_cpu% | $(bound "$t_cpu") | $t_state | $(top tenth) |"
  echo
  awk -v m="$m_tps" -v n="$n_tps" 'BEGIN { if (m >= 0.9 * n) print "Goal (>= 90% of TPS kept with max_rate at half the unthrottled rate), closed loop: met."; else print "Goal (>= 90% of TPS kept with max_rate at half the unthrottled rate), closed loop: NOT met in this run." }'
  echo
  echo "Open loop (pgbench -R $target, $load% of the closed loop's TPS: a server with headroom):"
  echo
  echo "| backfill | TPS | TPS kept | p99 latency | backfill rows/s | backfill CPU | the app's backends (samples) |"
  echo "|---|---|---|---|---|---|---|"
  echo "| none | $on_tps | 100% | $on_p99 ms | - | - | $(top open_none) |"
  echo "| default (batch_size 5000) | $od_tps | $(pct "$od_tps" "$on_tps") | $od_p99 ms | $od_rate | $od_cpu% | $(top open_default) |"
  echo "| max_rate => $half | $om_tps | $(pct "$om_tps" "$on_tps") | $om_p99 ms | $om_rate | $om_cpu% | $(top open_max_rate) |"
} >"$results"
echo "wrote $results"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"
