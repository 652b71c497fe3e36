#!/usr/bin/env bash
# bench/backfill.sh - what CALL zdm.backfill() costs next to the physical limit, a
# plain UPDATE of every row of a twin table, in the same run, per operation and size.
#
# Usage:   bench/backfill.sh        (against the cluster in PG*, with zdm installed)
#   BENCH_SIZES ("100000 1000000")   rows per table
#   BENCH_OPS ("rename add_column alter_type join_to_column")
#   BENCH_BATCH (5000)               batch_size of the backfill
#   BENCH_RESULTS (bench/results-backfill.md)
#   BENCH_MACHINE_NOTE               what else ran on the machine, for the results' header
#
# Per operation and size, on fresh tables (autovacuum off on them, so that the dead
# tuples left are counted, VACUUM ANALYZE'd, then a CHECKPOINT before each timed step
# so that both start with the same full-page-write state):
#   update    the twin (same shape, the new column already there) gets the statement
#             the backfill's rows amount to, in one UPDATE: rename SET memo = note,
#             add_column SET label = upper(note), alter_type SET qty_new = qty,
#             join_to_column UPDATE item SET user_id = u.user_id FROM used u ...
#   backfill  begin_<op> on the table, then CALL zdm.backfill(batch_size => BENCH_BATCH),
#             committing batch by batch.
# Reported: rows/s (rows of the table over wall time, server side), the ratio to the
# UPDATE, WAL bytes per row (pg_current_wal_lsn difference) and dead tuples left.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${BENCH_SIZES:-"100000 1000000"}
ops=${BENCH_OPS:-"rename add_column alter_type join_to_column"}
batch=${BENCH_BATCH:-5000}
results=${BENCH_RESULTS:-bench/results-backfill.md}
db=zdm_bench_backfill

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
run() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
run -c "CREATE EXTENSION zdm"

# Prints "seconds wal_bytes dead_tuples" for the statement(s) in $2 on table $1.
measure() {
  local table=$1 sql=$2
  run -c "CHECKPOINT" >/dev/null
  run -At <<SQL
SET client_min_messages = warning;
SELECT pg_current_wal_lsn() AS lsn0, extract(epoch FROM clock_timestamp()) AS t0 \gset
$sql
SELECT extract(epoch FROM clock_timestamp()) AS t1 \gset
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(0.2);
SELECT pg_stat_clear_snapshot();
SELECT round((:t1 - :t0)::numeric, 3), pg_wal_lsn_diff(pg_current_wal_lsn(), :'lsn0'),
       (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = '$table'::regclass);
SQL
}

# Creates $1 (and its twin $1_twin) with $2 rows for operation $3.
setup() {
  local t=$1 n=$2 op=$3
  if [ "$op" = join_to_column ]; then
    run <<SQL
DROP TABLE IF EXISTS used, item, used_twin, item_twin;
CREATE TABLE item (id int PRIMARY KEY, name text, pad text) WITH (autovacuum_enabled = false);
CREATE TABLE used (user_id int NOT NULL, item_id int NOT NULL UNIQUE) WITH (autovacuum_enabled = false);
INSERT INTO item SELECT i, 'item ' || i, repeat('x', 60) FROM generate_series(1, $n) i;
INSERT INTO used SELECT i % 1000, i FROM generate_series(1, $n) i;
CREATE TABLE item_twin (id int PRIMARY KEY, name text, pad text, user_id int) WITH (autovacuum_enabled = false);
CREATE TABLE used_twin (user_id int NOT NULL, item_id int NOT NULL UNIQUE) WITH (autovacuum_enabled = false);
INSERT INTO item_twin SELECT id, name, pad FROM item;
INSERT INTO used_twin SELECT * FROM used;
VACUUM ANALYZE item, used, item_twin, used_twin;
SQL
    return
  fi
  local extra
  case $op in
    rename) extra="memo text" ;;
    add_column) extra="label text" ;;
    alter_type) extra="qty_new bigint" ;;
  esac
  run <<SQL
DROP TABLE IF EXISTS $t, ${t}_twin;
CREATE TABLE $t (id int PRIMARY KEY, qty int, note text, pad text) WITH (autovacuum_enabled = false);
INSERT INTO $t SELECT i, i, 'note ' || i, repeat('x', 60) FROM generate_series(1, $n) i;
CREATE TABLE ${t}_twin (LIKE $t INCLUDING ALL, $extra) WITH (autovacuum_enabled = false);
INSERT INTO ${t}_twin (id, qty, note, pad) SELECT id, qty, note, pad FROM $t;
VACUUM ANALYZE $t, ${t}_twin;
SQL
}

rows_md=""
for n in $sizes; do
  for op in $ops; do
    t=bench_$op
    setup "$t" "$n" "$op"
    case $op in
      rename)
        plain="UPDATE ${t}_twin SET memo = note;"
        begin="SELECT zdm.begin_rename('$t', 'note', 'memo');" ;;
      add_column)
        plain="UPDATE ${t}_twin SET label = upper(note);"
        begin="SELECT zdm.begin_add_column('$t', 'label', 'text', up => 'upper(note)');" ;;
      alter_type)
        plain="UPDATE ${t}_twin SET qty_new = qty;"
        begin="SELECT zdm.begin_alter_type('$t', 'qty', 'bigint');" ;;
      join_to_column)
        plain="UPDATE item_twin i SET user_id = u.user_id FROM used_twin u WHERE u.item_id = i.id;"
        begin="SELECT zdm.begin_join_to_column('used', 'item_id', 'item', 'id', 'user_id');" ;;
    esac
    target=$t; twin=${t}_twin
    if [ "$op" = join_to_column ]; then target=item; twin=item_twin; fi
    read -r us uw ud < <(measure "$twin" "$plain" | tail -1 | tr '|' ' ')
    run -c "$begin" >/dev/null
    read -r bs bw bd < <(measure "$target" "CALL zdm.backfill(batch_size => $batch);" | tail -1 | tr '|' ' ')
    run -c "SELECT zdm.finish()" >/dev/null
    line=$(awk -v n="$n" -v op="$op" -v us="$us" -v uw="$uw" -v ud="$ud" -v bs="$bs" -v bw="$bw" -v bd="$bd" 'BEGIN {
      ur = n / us; br = n / bs;
      printf "| %s | %d | %.0f | %.0f | %.0f%% | %.0f | %.0f | %d | %d |", op, n, ur, br, 100 * br / ur, uw / n, bw / n, ud, bd }')
    echo "$line"
    rows_md+="$line"$'\n'
  done
done

{
  echo "# Backfill throughput against a plain UPDATE (bench/backfill.sh)"
  echo
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores (load $(cut -d' ' -f1 /proc/loadavg) at the end: ${BENCH_MACHINE_NOTE:-other work on the machine unknown})," \
       "$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM;" \
       "$(psql -X -At -d "$db" -c 'SHOW server_version') with fsync = $(psql -X -At -d "$db" -c 'SHOW fsync')," \
       "shared_buffers = $(psql -X -At -d "$db" -c 'SHOW shared_buffers'), max_wal_size = $(psql -X -At -d "$db" -c 'SHOW max_wal_size')," \
       "checkpoint_timeout = $(psql -X -At -d "$db" -c 'SHOW checkpoint_timeout'); batch_size $batch."
  echo "Tables: (id int PRIMARY KEY, qty int, note text, pad text) with a 60-byte pad;"
  echo "join_to_column: item(id, name, pad) and used(user_id, item_id UNIQUE), one join row per item."
  echo "One run, wall clock: compare the ratios (UPDATE and backfill one after the other), not the absolute rates."
  echo
  echo "| operation | rows | UPDATE rows/s | backfill rows/s | backfill / UPDATE | UPDATE WAL B/row | backfill WAL B/row | UPDATE dead tuples | backfill dead tuples |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s' "$rows_md"
  echo
  echo "Why the gap: each batch is its own transaction (a commit, a WAL flush, the"
  echo "position written to zdm.operations) and two statements (find the batch's last key"
  echo "by the index, then UPDATE the key range by the index); the dual-write trigger runs"
  echo "per row. The UPDATE is one statement, one transaction, one sequential scan. The"
  echo "dead tuples are the rows' old versions in both: the backfill leaves as many as the"
  echo "UPDATE (plus zdm.operations' own updates, one per batch, in another table)."
} >"$results"
echo "wrote $results"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"
