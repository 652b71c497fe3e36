# test/reliability/ops/surname.sh — the surname case, as the reliability harness
# sees it: one migration of two operations, a NOT NULL `surname` added and
# computed from `last_name` (zdm.begin_add_column ... up => last_name,
# not_null => true), and `last_name` dropped, computed back from `surname` for
# the old app (zdm.begin_drop_column ... down => surname). finish leaves
# `surname` (NOT NULL, default 'unknown'); `last_name` disappears.
# Sourced by run.sh; the functions and names are those ops/rename.sh documents
# (OP_OLD is last_name, the dropped column; OP_NEW is surname, the added one).
# Every statement here is safe to run with a hostile search_path.

OP_TITLE="surname (zdm.begin_add_column surname up => last_name NOT NULL + zdm.begin_drop_column last_name down => surname, one migration)"
OP_VALGRIND_SQL=(sql/surname.sql)
# A smaller table than rename's for the backfill crashes (still 100 batches):
# the whole run, every operation, must stay within a few minutes.
CRASH_ROWS=$((CRASH_ROWS / 4))

# op_names plain [TABLE] | weird [SUFFIX]
op_names() {
    case "$1" in
        plain)
            OP_SCHEMA=public; OP_TABLE=${2:-t}; OP_OLD=last_name; OP_NEW=surname ;;
        weird)
            OP_SCHEMA='s p;"é'
            OP_TABLE="ta;b\"le é${2:-}"
            OP_OLD='last;name" é'
            OP_NEW="sur'name; DROP TABLE victim; --" ;;
        *) echo "op_names: plain or weird" >&2; return 1 ;;
    esac
    T="$(qi "$OP_SCHEMA").$(qi "$OP_TABLE")"
    T_LIT=$(ql "$T")
    O=$(qi "$OP_OLD")
    N=$(qi "$OP_NEW")
}

# op_setup ROWS [nokey]: the table in the old shape, ids 1..ROWS (as rename's:
# a NOT NULL last_name with a default, a CHECK and a partial index that go
# with it at finish, quotes, unicode and out-of-line values).
op_setup() {
    local rows=$1 key="PRIMARY KEY"
    [[ "${2:-}" == nokey ]] && key="NOT NULL"
    cat <<SQL
CREATE SCHEMA IF NOT EXISTS $(qi "$OP_SCHEMA");
CREATE TABLE $T (
    id bigserial $key,
    first_name text,
    $O text NOT NULL DEFAULT 'unknown'
        CONSTRAINT $(qi "${OP_TABLE}_len") CHECK (pg_catalog.length($O) OPERATOR(pg_catalog.<) 100000)
);
CREATE INDEX $(qi "${OP_TABLE}_old_idx") ON $T ($O) WHERE pg_catalog.length($O) OPERATOR(pg_catalog.<) 1000;
INSERT INTO $T (id, first_name, $O)
SELECT g, 'first ' OPERATOR(pg_catalog.||) g::text,
       CASE WHEN g OPERATOR(pg_catalog.%) 1000 OPERATOR(pg_catalog.=) 7
            THEN (SELECT pg_catalog.string_agg(pg_catalog.md5(g::text OPERATOR(pg_catalog.||) i::text), '')
                  FROM pg_catalog.generate_series(1, 200) i)
            ELSE CASE g OPERATOR(pg_catalog.%) 4
                 WHEN 0 THEN 'O''Brien ' WHEN 1 THEN 'Müller-é ' WHEN 2 THEN 'semi;colon "q" '
                 ELSE 'plain ' END END OPERATOR(pg_catalog.||) g::text
FROM pg_catalog.generate_series(1, $rows) g;
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence($T_LIT, 'id'), $rows);
VACUUM ANALYZE $T;
SQL
}

# op_begin [MIGRATION]: both operations in one statement, so that begin is one
# step (atomic, and one lock wait); the add opens the migration (a generated
# name when MIGRATION is empty) and the drop joins it. Prints the name.
op_begin() {
    local mig=NULL
    [[ $# -gt 0 && -n "$1" ]] && mig=$(ql "$1")
    # One line: the hostile check queues its inputs line by line.
    echo "SELECT zdm.begin_drop_column($T_LIT, $(ql "$OP_OLD"), down => $(ql "$N"), migration => zdm.begin_add_column($T_LIT, $(ql "$OP_NEW"), 'text', up => $(ql "$O"), not_null => true, default_expr => $(ql "'unknown'"), migration => $mig))"
}

# op_remember: the dropped column's attnum (finish must drop that column).
op_remember() {
    echo "SELECT a.attnum FROM pg_catalog.pg_attribute a WHERE a.attrelid = $T_LIT::pg_catalog.regclass AND a.attname OPERATOR(pg_catalog.=) $(ql "$OP_OLD")::pg_catalog.name"
}

_checksum_of() {
    echo "SELECT pg_catalog.md5(COALESCE(pg_catalog.string_agg(t.id::text OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) pg_catalog.quote_nullable(t.$1), ',' ORDER BY t.id), '')) FROM $T t"
}
op_checksum_before() { _checksum_of "$O"; }
op_checksum_finished() { _checksum_of "$N"; }
op_checksum_aborted() { _checksum_of "$O"; }

op_divergence() {
    echo "SELECT (SELECT pg_catalog.count(*) FROM (SELECT id, $O FROM $T EXCEPT SELECT id, $N FROM $T) a)
         OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM (SELECT id, $N FROM $T EXCEPT SELECT id, $O FROM $T) b)"
}

op_converted() {
    echo "SELECT pg_catalog.count(*) FROM $T t WHERE t.$N IS NOT DISTINCT FROM t.$O"
}

# The add_column operation is the one with a backfill (the drop has none).
op_committed_prefix() {
    echo "SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE t.$N IS DISTINCT FROM t.$O) FROM $T t
          WHERE t.id OPERATOR(pg_catalog.<=) (SELECT (o.backfill_position[1])::bigint FROM zdm.operations o
                                              WHERE o.migration OPERATOR(pg_catalog.=) $(ql "$1")
                                                AND o.kind OPERATOR(pg_catalog.=) 'add_column')"
}

op_window_check() {
    cat <<SQL
SELECT CASE
  WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_OLD") AND NOT attisdropped AND attnotnull) THEN 'old column missing or no longer NOT NULL'
  WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_NEW") AND NOT attisdropped) THEN 'new column missing'
  WHEN NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $T_LIT::regclass AND contype = 'c' AND NOT convalidated
                   AND pg_get_constraintdef(oid) = 'CHECK ((' || quote_ident($(ql "$OP_NEW")) || ' IS NOT NULL)) NOT VALID') THEN 'NOT VALID check on the new column missing'
  WHEN NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $T_LIT::regclass AND tgname = 'zzz_zdm_dual_write') THEN 'dual-write trigger missing'
  ELSE 'ok' END
SQL
}

# op_finished_check FACT: last_name (attnum FACT) dropped; surname a real NOT
# NULL with its default and no check left over; no trigger.
op_finished_check() {
    cat <<SQL
SELECT CASE
  WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_OLD") AND NOT attisdropped) THEN 'old column still there'
  WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attnum = $1 AND attisdropped) THEN 'the old physical column was not dropped'
  WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_NEW") AND NOT attisdropped AND attnotnull) THEN 'new column missing or not NOT NULL'
  WHEN (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
         WHERE a.attrelid = $T_LIT::regclass AND a.attname = $(ql "$OP_NEW")) IS DISTINCT FROM '''unknown''::text' THEN 'new column without its default'
  WHEN EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $T_LIT::regclass AND contype = 'c') THEN 'a check constraint is left'
  WHEN EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $T_LIT::regclass AND tgname = 'zzz_zdm_dual_write') THEN 'dual-write trigger still there'
  ELSE 'ok' END
SQL
}

# Writes from each side (the old app knows only last_name, the new app only
# surname), and a read of both sides ("old|new").
op_write_old() { echo "INSERT INTO $T (id, first_name, $O) VALUES ($1, 'old app', $(ql "$2"))"; }
op_write_new() { echo "INSERT INTO $T (id, first_name, $N) VALUES ($1, 'new app', $(ql "$2"))"; }
op_update_old() { echo "UPDATE $T SET $O = $(ql "$2") WHERE id OPERATOR(pg_catalog.=) $1::bigint"; }
op_update_new() { echo "UPDATE $T SET $N = $(ql "$2") WHERE id OPERATOR(pg_catalog.=) $1::bigint"; }
op_read() { echo "SELECT $O, $N FROM $T WHERE id OPERATOR(pg_catalog.=) $1::bigint"; }
op_read_want() { echo "$1|$1"; }

# op_pgbench ROWS: never names either column. Its INSERTs get last_name's
# default before finish (surname then comes from up) and surname's after.
op_pgbench() {
    cat <<SCRIPT
\\set id random(1, $1)
\\set r random(1, 100)
\\if :r <= 70
UPDATE $T SET first_name = 'pgbench :r' WHERE id = :id;
\\else
INSERT INTO $T (first_name) VALUES ('pgbench');
\\endif
SCRIPT
}

op_arg_value() {
    case "$1" in
        tbl) echo "$T_LIT" ;;
        old_name|from_column) ql "$OP_OLD" ;;
        column_name|new_name|to_column|new_column) ql "$OP_NEW" ;;
        type|new_type) echo "'text'" ;;
        up) ql "$O" ;;
        down) ql "$N" ;;
        default_expr) ql "'unknown'" ;;
        constraint_name) ql "${OP_TABLE}_len" ;;
        new_constraint_name) ql "copied_check" ;;
        *) return 1 ;;
    esac
}

# The views read another table: one on the migrated column would (rightly)
# keep finish from dropping it.
op_bad_fixtures() {
    cat <<SQL
CREATE TABLE bad_base (id bigint PRIMARY KEY, first_name text, $O text NOT NULL);
CREATE VIEW bad_view AS SELECT * FROM bad_base;
CREATE MATERIALIZED VIEW bad_matview AS SELECT * FROM bad_base;
CREATE SEQUENCE bad_seq;
CREATE TABLE bad_part (id int, last_name text) PARTITION BY RANGE (id);
CREATE TABLE bad_gen (id int PRIMARY KEY, last_name text, g text GENERATED ALWAYS AS (last_name || '!') STORED);
SQL
}
op_bad_inputs() {
    local o n oi ni
    o=$(ql "$OP_OLD"); n=$(ql "$OP_NEW"); oi=$(ql "$O"); ni=$(ql "$N")
    cat <<EOF
add: unknown table	SELECT zdm.begin_add_column('no_such_table', $n, 'text', up => $oi)
add: table OID 0	SELECT zdm.begin_add_column(0::regclass, $n, 'text', up => $oi)
add: the column exists	SELECT zdm.begin_add_column($T_LIT, 'first_name', 'text')
add: the old column's name	SELECT zdm.begin_add_column($T_LIT, $o, 'text')
add: system column name	SELECT zdm.begin_add_column($T_LIT, 'xmin', 'text')
add: empty column name	SELECT zdm.begin_add_column($T_LIT, '', 'text')
add: unknown type	SELECT zdm.begin_add_column($T_LIT, $n, 'no_such_type', up => $oi)
add: SQL after the type	SELECT zdm.begin_add_column($T_LIT, $n, 'text; DROP TABLE victim', up => $oi)
add: up names an unknown column	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => 'no_such_column')
add: up with a subquery	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => '(SELECT max(last_name) FROM bad_part)')
add: up is volatile	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => 'random()::text')
add: up with a second statement	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => $(ql "$O; DROP TABLE victim"))
add: up with an aggregate	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => 'max(first_name)')
add: up returns a set	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => 'generate_series(1, 2)::text')
add: up divides by zero	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => '(1 / 0)::text')
add: up of a type with no assignment cast	SELECT zdm.begin_add_column($T_LIT, 'n_int', 'integer', up => $oi)
add: up reads the new column	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => $ni)
add: default reads a column	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => $oi, default_expr => 'first_name')
add: default of the wrong type	SELECT zdm.begin_add_column($T_LIT, 'n_int', 'integer', default_expr => '''abc''')
add: view	SELECT zdm.begin_add_column('bad_view', $n, 'text')
add: materialized view	SELECT zdm.begin_add_column('bad_matview', $n, 'text')
add: sequence	SELECT zdm.begin_add_column('bad_seq', $n, 'text')
add: partitioned table	SELECT zdm.begin_add_column('bad_part', 'surname', 'text', up => 'last_name')
add: system catalog	SELECT zdm.begin_add_column('pg_catalog.pg_description', 'descr', 'text')
add: zdm's own catalog	SELECT zdm.begin_add_column('zdm.migrations', 'status', 'text')
add: empty migration name	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => $oi, migration => '')
add: 64-byte migration name	SELECT zdm.begin_add_column($T_LIT, $n, 'text', up => $oi, migration => repeat('m', 64))
drop: unknown table	SELECT zdm.begin_drop_column('no_such_table', $o)
drop: unknown column	SELECT zdm.begin_drop_column($T_LIT, 'no_such_column')
drop: system column	SELECT zdm.begin_drop_column($T_LIT, 'ctid')
drop: empty column name	SELECT zdm.begin_drop_column($T_LIT, '')
drop: down names an unknown column	SELECT zdm.begin_drop_column($T_LIT, $o, down => 'no_such_column')
drop: down with a subquery	SELECT zdm.begin_drop_column($T_LIT, $o, down => '(SELECT max(last_name) FROM bad_part)')
drop: down is volatile	SELECT zdm.begin_drop_column($T_LIT, $o, down => 'random()::text')
drop: down with a second statement	SELECT zdm.begin_drop_column($T_LIT, $o, down => '''x''; DROP TABLE victim')
drop: down divides by zero	SELECT zdm.begin_drop_column($T_LIT, $o, down => '(1 / 0)::text')
drop: view	SELECT zdm.begin_drop_column('bad_view', $o)
drop: materialized view	SELECT zdm.begin_drop_column('bad_matview', $o)
drop: partitioned table	SELECT zdm.begin_drop_column('bad_part', 'last_name')
drop: system catalog	SELECT zdm.begin_drop_column('pg_catalog.pg_description', 'description')
drop: zdm's own catalog	SELECT zdm.begin_drop_column('zdm.migrations', 'state')
batch_size 0	CALL zdm.backfill(NULL, 0)
negative pause	CALL zdm.backfill(NULL, 10, '-1 second')
backfill, no migration	CALL zdm.backfill()
finish, no migration	SELECT zdm.finish()
abort, no migration	SELECT zdm.abort()
finish, unknown migration	SELECT zdm.finish('no such migration')
abort, unknown migration	SELECT zdm.abort('no such migration')
pending statements, unknown migration	SELECT * FROM zdm.pending_statements('no such migration')
EOF
}

# op_bad_inputs_open MIGRATION: with the migration open (backfill not run).
op_bad_inputs_open() {
    local o n m
    o=$(ql "$OP_OLD"); n=$(ql "$OP_NEW"); m=$(ql "$1")
    cat <<EOF
add the same column again	SELECT zdm.begin_add_column($T_LIT, $n, 'text')
drop the dropped column again	SELECT zdm.begin_drop_column($T_LIT, $o)
drop the added column	SELECT zdm.begin_drop_column($T_LIT, $n)
rename the dropped column	SELECT zdm.begin_rename($T_LIT, $o, 'other_name')
rename the added column	SELECT zdm.begin_rename($T_LIT, $n, 'other_name')
alter the type of the dropped column	SELECT zdm.begin_alter_type($T_LIT, $o, 'varchar(200000)')
rename another column to the added column's name	SELECT zdm.begin_rename($T_LIT, 'first_name', $n)
finish before backfill	SELECT zdm.finish($m)
EOF
}
