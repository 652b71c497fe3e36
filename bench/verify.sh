#!/usr/bin/env bash
# The cost of finish's verification scan (every row checked before the
# contraction), against a plain SELECT count(*) of the same table in the same
# run. Uses the server in PG* (zdm installed). Writes bench/results-verify.md.
#   bash bench/verify.sh [rows...]      (default: 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [[ ${#sizes[@]} -gt 0 ]] || sizes=(100000 1000000)
db=zdm_bench_verify
psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -qX -d $db -c "CREATE EXTENSION zdm"
ms() {  # ms SQL: wall time of one statement, in ms, best of 3
  local best=""
  for _ in 1 2 3; do
    local t
    t=$(psql -qX -d $db -At -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
    if [[ -z "$best" ]] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
  done
  echo "$best"
}
out=bench/results-verify.md
{
  echo "# finish's verification scan"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(psql -qX -d $db -Atc 'SHOW server_version'), run $(date -u +%Y-%m-%d). Shared machine: compare the ratios, measured in one run."
  echo
  echo "The scan is the query finish runs (zdm::core::verify_sql) over a table after"
  echo "its backfill; alter_type int -> bigint (up and down both evaluated per row) and"
  echo "rename (a copy compared both ways). Best of 3."
  echo
  echo "| rows | operation | SELECT count(*) ms | verification ms | ratio |"
  echo "|---:|---|---:|---:|---:|"
} > "$out"
for n in "${sizes[@]}"; do
  for op in rename alter_type; do
    psql -qX -d $db <<SQL >/dev/null
DROP TABLE IF EXISTS v;
CREATE TABLE v (id int PRIMARY KEY, a int, note text);
INSERT INTO v SELECT g, g, 'row ' || g FROM generate_series(1, $n) g;
SET client_min_messages = warning;
SELECT CASE WHEN '$op' = 'rename' THEN zdm.begin_rename('v', 'a', 'b', 'bench_${op}_${n}')
            ELSE zdm.begin_alter_type('v', 'a', 'bigint', migration => 'bench_${op}_${n}') END;
CALL zdm.backfill('bench_${op}_${n}', 50000);
VACUUM ANALYZE v;
SQL
    if [[ $op == rename ]]; then
      check="SELECT count(*) FROM v t WHERE NOT ((NOT NOT pg_catalog.record_image_eq(ROW(t.b), ROW(t.a))) OR (NOT NOT pg_catalog.record_image_eq(ROW(t.a), ROW(t.b))))"
    else
      check="SELECT count(*) FROM v t WHERE NOT ((NOT NOT pg_catalog.record_image_eq(ROW(t.a_new), ROW(CAST((t.a) AS bigint)))) OR (NOT NOT pg_catalog.record_image_eq(ROW(t.a), ROW(CAST((t.a_new::integer) AS integer)))))"
    fi
    base=$(ms "SELECT count(*) FROM v")
    ver=$(ms "$check")
    echo "| $n | $op | $base | $ver | $(awk "BEGIN{printf \"%.1f\", $ver/$base}") |" >> "$out"
    psql -qX -d $db -c "SELECT zdm.abort('bench_${op}_${n}')" -c "DELETE FROM zdm.ddl_log" >/dev/null
  done
done
psql -qX -d postgres -c "DROP DATABASE $db"
cat "$out"
