#!/usr/bin/env bash
# bench/callgrind.sh - instructions per row (valgrind callgrind), a figure that does
# not move with the machine's load, for the expression cases of bench/expressions.sh:
# no trigger, a PL/pgSQL trigger, and zdm. Each variant runs in a single-user
# backend (postgres --single) under callgrind; the per-row cost of a statement is
# (instructions with it - instructions without it) / rows.
# Usage: bench/callgrind.sh   (as root; BENCH_ROWS, default 20000). Writes
# bench/results-callgrind.md. Needs valgrind and zdm installed in the
# PostgreSQL of $PG_CONFIG (default: the system's PostgreSQL 15), e.g. a
# private install from tools/devpg.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROWS="${BENCH_ROWS:-20000}"
OUT="${BENCH_RESULTS:-bench/results-callgrind.md}"
BIN=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --bindir)
WORK=$(mktemp -d)
chown postgres "$WORK"
trap 'rm -rf "$WORK"' EXIT
# Every measured run starts from a copy of the same cluster, with zdm already
# created: a run left in the data directory (dead catalog rows of the dropped
# tables, zdm's catalog) would otherwise make the next one dearer, and that
# growth, divided by the rows, was read as a per-row cost (up to ~1,900
# instructions per row in earlier runs of this script).
su postgres -c "$BIN/initdb -D $WORK/template -A trust >/dev/null"
echo "CREATE EXTENSION zdm;" >"$WORK/create.sql"
chmod 644 "$WORK/create.sql"
su postgres -c "$BIN/postgres --single -D $WORK/template postgres < $WORK/create.sql > /dev/null"

setup() {  # case variant: one statement per line (single-user mode reads lines)
  cat <<'SQL'
SET jit = off;
CREATE EXTENSION IF NOT EXISTS zdm;
CREATE OR REPLACE FUNCTION widen_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'INSERT' THEN IF NEW.n_new IS NOT NULL THEN NEW.n := NEW.n_new::int; ELSE NEW.n_new := NEW.n::bigint; END IF; ELSIF NEW.n_new IS DISTINCT FROM OLD.n_new THEN NEW.n := NEW.n_new::int; ELSE NEW.n_new := NEW.n::bigint; END IF; RETURN NEW; END $$;
CREATE OR REPLACE FUNCTION rename_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'INSERT' THEN IF NEW.surname IS NOT NULL THEN NEW.last_name := NEW.surname; ELSE NEW.surname := NEW.last_name; END IF; ELSIF NEW.surname IS DISTINCT FROM OLD.surname THEN NEW.last_name := NEW.surname; ELSE NEW.surname := NEW.last_name; END IF; RETURN NEW; END $$;
CREATE OR REPLACE FUNCTION split_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF (TG_OP = 'INSERT' AND NEW.first_name IS NULL AND NEW.last_name IS NULL) OR (TG_OP = 'UPDATE' AND NEW.first_name IS NOT DISTINCT FROM OLD.first_name AND NEW.last_name IS NOT DISTINCT FROM OLD.last_name) THEN NEW.first_name := split_part(NEW.full_name, ' ', 1); NEW.last_name := nullif(split_part(NEW.full_name, ' ', 2), ''); ELSE NEW.full_name := concat_ws(' ', NEW.first_name, NEW.last_name); END IF; RETURN NEW; END $$;
SELECT zdm.abort(name) FROM zdm.migrations WHERE state = 'active';
DELETE FROM zdm.ddl_log;
DELETE FROM zdm.operations;
DELETE FROM zdm.migrations;
DROP TABLE IF EXISTS t;
SQL
  case "$1/$2" in
    rename/none) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, last_name text, surname text);" ;;
    rename/plpgsql) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, last_name text, surname text);"
                    echo "CREATE TRIGGER sync BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION rename_sync();" ;;
    rename/floor) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, last_name text, surname text);"
                  echo "CREATE TRIGGER floor BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();" ;;
    rename/zdm) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, last_name text);"
                echo "SELECT zdm.begin_rename('t', 'last_name', 'surname');" ;;
    widen/none) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, n int, n_new bigint);" ;;
    widen/plpgsql) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, n int, n_new bigint);"
                   echo "CREATE TRIGGER sync BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION widen_sync();" ;;
    widen/floor) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, n int, n_new bigint);"
                 echo "CREATE TRIGGER floor BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();" ;;
    widen/zdm) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, n int);"
               echo "SELECT zdm.begin_alter_type('t', 'n', 'bigint');" ;;
    split/none) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, full_name text, first_name text, last_name text);" ;;
    split/plpgsql) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, full_name text, first_name text, last_name text);"
                   echo "CREATE TRIGGER sync BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION split_sync();" ;;
    split/floor) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, full_name text, first_name text, last_name text);"
                 echo "CREATE TRIGGER floor BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();" ;;
    split/zdm) echo "CREATE TABLE t (id bigint PRIMARY KEY, payload int, full_name text);"
               echo "SELECT zdm.begin_add_column('t', 'first_name', 'text', up => 'split_part(full_name, '' '', 1)', migration => 's');"
               echo "SELECT zdm.begin_add_column('t', 'last_name', 'text', up => 'nullif(split_part(full_name, '' '', 2), '''')', migration => 's');"
               echo "SELECT zdm.begin_drop_column('t', 'full_name', down => 'coalesce(first_name || '' '' || last_name, first_name, last_name, '''')', migration => 's');" ;;
  esac
}

statement() {  # case variant ins|upd
  local v=$2
  [ "$v" = floor ] && v=none  # the floor writes what `none` writes
  case "$1/$v/$3" in
    rename/none/ins) echo "INSERT INTO t SELECT g, g, 'name_' || g, 'name_' || g FROM generate_series(1, $ROWS) g;" ;;
    rename/*/ins) echo "INSERT INTO t (id, payload, last_name) SELECT g, g, 'name_' || g FROM generate_series(1, $ROWS) g;" ;;
    rename/none/upd) echo "UPDATE t SET last_name = last_name || 'x', surname = surname || 'x';" ;;
    rename/*/upd) echo "UPDATE t SET last_name = last_name || 'x';" ;;
    widen/none/ins) echo "INSERT INTO t SELECT g, g, g, g FROM generate_series(1, $ROWS) g;" ;;
    widen/*/ins) echo "INSERT INTO t (id, payload, n) SELECT g, g, g FROM generate_series(1, $ROWS) g;" ;;
    widen/none/upd) echo "UPDATE t SET n = n + 1, n_new = n_new + 1;" ;;
    widen/*/upd) echo "UPDATE t SET n = n + 1;" ;;
    split/none/ins) echo "INSERT INTO t SELECT g, g, 'first' || g || ' last' || g, 'first' || g, 'last' || g FROM generate_series(1, $ROWS) g;" ;;
    split/*/ins) echo "INSERT INTO t (id, payload, full_name) SELECT g, g, 'first' || g || ' last' || g FROM generate_series(1, $ROWS) g;" ;;
    split/none/upd) echo "UPDATE t SET full_name = full_name || 'x', last_name = last_name || 'x';" ;;
    split/*/upd) echo "UPDATE t SET full_name = full_name || 'x';" ;;
  esac
}

instructions() {  # script -> total instructions, from a fresh copy of the template
  chmod 644 "$1"
  rm -rf "$WORK/data"
  cp -a "$WORK/template" "$WORK/data"
  su postgres -c "valgrind --tool=callgrind --callgrind-out-file=/dev/null $BIN/postgres --single -D $WORK/data postgres < $1 > /dev/null 2> $WORK/err"
  grep -o 'Collected : [0-9]*' "$WORK/err" | awk '{print $3}'
}

declare -A ins upd
for c in rename widen split; do
  for v in none floor plpgsql zdm; do
    setup "$c" "$v" > "$WORK/base.sql"
    { setup "$c" "$v"; statement "$c" "$v" ins; } > "$WORK/ins.sql"
    { setup "$c" "$v"; statement "$c" "$v" ins; statement "$c" "$v" upd; } > "$WORK/upd.sql"
    b=$(instructions "$WORK/base.sql"); i=$(instructions "$WORK/ins.sql"); u=$(instructions "$WORK/upd.sql")
    ins[$c/$v]=$(( (i - b) / ROWS )); upd[$c/$v]=$(( (u - i) / ROWS ))
    echo "  $c/$v: insert ${ins[$c/$v]}, update ${upd[$c/$v]} instructions per row" >&2
  done
done

{
  echo "# zdm benchmark: instructions per row (callgrind)"
  echo
  echo "- $(date -u '+%Y-%m-%d %H:%M') UTC; \`bench/callgrind.sh\`, $ROWS rows; PostgreSQL 15 single-user backend under valgrind 3.19, jit off"
  echo "- Machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)); instruction counts do not depend on the load"
  echo "- Overhead = instructions per row with the trigger - without it. Targets: rename at most +10% over no trigger; the expression cases (widen, split) at most 1/4 of PL/pgSQL's overhead."
  echo "- C floor: PostgreSQL's built-in C trigger suppress_redundant_updates_trigger() BEFORE UPDATE on the no-trigger table, what any row trigger pays on UPDATE (it cannot fire on INSERT); zdm above floor = zdm's overhead minus the floor's."
  echo
  echo "| case | statement | no trigger | C floor | PL/pgSQL | zdm | PL/pgSQL overhead | zdm overhead | zdm above floor | zdm / PL/pgSQL overhead |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in rename widen split; do
    for s in INSERT UPDATE; do
      if [ $s = INSERT ]; then n=${ins[$c/none]} f="" p=${ins[$c/plpgsql]} z=${ins[$c/zdm]}
      else n=${upd[$c/none]} f=${upd[$c/floor]} p=${upd[$c/plpgsql]} z=${upd[$c/zdm]}; fi
      awk -v c=$c -v s=$s -v n=$n -v f="$f" -v p=$p -v z=$z 'BEGIN {
        fl = (f == "") ? "-" : sprintf("%d (%+d)", f, f-n);
        above = (f == "") ? "-" : sprintf("%+d", z-f);
        printf "| %s | %s | %d | %s | %d | %d | %+d (%+.0f%%) | %+d (%+.0f%%) | %s | %.2f |\n",
               c, s, n, fl, p, z, p-n, 100*(p-n)/n, z-n, 100*(z-n)/n, above, (z-n)/(p-n) }'
    done
  done
} > "$OUT"
cat "$OUT"
