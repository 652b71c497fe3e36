# test/reliability/ops/rename.sh — the rename operation, as the reliability
# harness sees it. Sourced by run.sh; every op_* function prints SQL (op_pgbench
# prints a pgbench script). A new operation is a new file here defining the
# same functions; the checks in ../checks/ only call these.
#
# Names: op_names sets the table and the columns the other functions use:
#   OP_SCHEMA OP_TABLE OP_OLD OP_NEW   raw names
#   T        the table as a quoted, schema-qualified SQL identifier
#   T_LIT    the same as an SQL string literal (for regclass arguments)
#   O, N     the old-side and the new-side column, quoted
# Every statement here is safe to run with a hostile search_path: operators are
# written OPERATOR(pg_catalog.=) and no unqualified function is called.

OP_TITLE="rename (zdm.begin_rename: last_name -> surname)"
# pg_regress files of this operation that the valgrind check runs.
OP_VALGRIND_SQL=(sql/lifecycle.sql sql/writer.sql)

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

# op_setup ROWS [nokey]: creates and seeds the table (ids 1..ROWS), in the old
# shape; with nokey it has no primary key or unique index (backfill walks ctids).
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
-- Partial: btree entries cannot hold the out-of-line values below.
CREATE INDEX $(qi "${OP_TABLE}_old_idx") ON $T ($O) WHERE pg_catalog.length($O) OPERATOR(pg_catalog.<) 1000;
-- Quotes, unicode, and one row in 1000 with a ~6 kB incompressible value that
-- is stored out of line (TOAST), so the trigger copies toast pointers too.
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

# op_begin [MIGRATION]: opens the migration (NULL name when empty); prints its name.
op_begin() {
    local mig=NULL
    [[ $# -gt 0 && -n "$1" ]] && mig=$(ql "$1")
    echo "SELECT zdm.begin_rename($T_LIT, $(ql "$OP_OLD"), $(ql "$OP_NEW"), $mig)"
}

# op_remember: a fact taken before begin that op_finished_check needs (the old
# column's attnum: finish must keep that physical column).
op_remember() {
    echo "SELECT a.attnum FROM pg_catalog.pg_attribute a WHERE a.attrelid = $T_LIT::pg_catalog.regclass AND a.attname OPERATOR(pg_catalog.=) $(ql "$OP_OLD")::pg_catalog.name"
}

_checksum_of() {
    echo "SELECT pg_catalog.md5(COALESCE(pg_catalog.string_agg(t.id::text OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) pg_catalog.quote_nullable(t.$1), ',' ORDER BY t.id), '')) FROM $T t"
}
# The data, as one md5: before begin (old shape), after finish, after abort.
op_checksum_before() { _checksum_of "$O"; }
op_checksum_finished() { _checksum_of "$N"; }
op_checksum_aborted() { _checksum_of "$O"; }

# op_divergence: rows on which the two shapes disagree (EXCEPT both ways).
op_divergence() {
    echo "SELECT (SELECT pg_catalog.count(*) FROM (SELECT id, $O FROM $T EXCEPT SELECT id, $N FROM $T) a)
         OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM (SELECT id, $N FROM $T EXCEPT SELECT id, $O FROM $T) b)"
}

# op_converted: rows whose new side already equals the old side.
op_converted() {
    echo "SELECT pg_catalog.count(*) FROM $T t WHERE t.$N IS NOT DISTINCT FROM t.$O"
}

# op_committed_prefix MIGRATION: "rows|unconverted" among the rows up to the
# backfill position that zdm.operations says is committed.
op_committed_prefix() {
    echo "SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE t.$N IS DISTINCT FROM t.$O) FROM $T t
          WHERE t.id OPERATOR(pg_catalog.<=) (SELECT (o.backfill_position[1])::bigint FROM zdm.operations o
                                              WHERE o.migration OPERATOR(pg_catalog.=) $(ql "$1"))"
}

# op_window_check: 'ok' when the table has the shape of an open migration.
op_window_check() {
    cat <<SQL
SELECT CASE
  WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_OLD") AND NOT attisdropped) THEN 'old column missing'
  WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_NEW") AND NOT attisdropped) THEN 'new column missing'
  WHEN NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $T_LIT::regclass AND tgname = 'zzz_zdm_dual_write') THEN 'dual-write trigger missing'
  ELSE 'ok' END
SQL
}

# op_finished_check FACT: 'ok' when the table has its final shape (FACT is what
# op_remember printed).
op_finished_check() {
    cat <<SQL
SELECT CASE
  WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_OLD") AND NOT attisdropped) THEN 'old column still there'
  WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_NEW") AND attnum = $1 AND NOT attisdropped) THEN 'the new name is not the old physical column'
  WHEN EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $T_LIT::regclass AND tgname = 'zzz_zdm_dual_write') THEN 'dual-write trigger still there'
  ELSE 'ok' END
SQL
}

# Writes from each side, and a read of both sides ("old|new").
op_write_old() { echo "INSERT INTO $T (id, first_name, $O) VALUES ($1, 'old app', $(ql "$2"))"; }
op_write_new() { echo "INSERT INTO $T (id, first_name, $N) VALUES ($1, 'new app', $(ql "$2"))"; }
op_update_old() { echo "UPDATE $T SET $O = $(ql "$2") WHERE id OPERATOR(pg_catalog.=) $1::bigint"; }
op_update_new() { echo "UPDATE $T SET $N = $(ql "$2") WHERE id OPERATOR(pg_catalog.=) $1::bigint"; }
op_read() { echo "SELECT $O, $N FROM $T WHERE id OPERATOR(pg_catalog.=) $1::bigint"; }
op_read_want() { echo "$1|$1"; }   # what op_read prints after a write of $1

# op_pgbench ROWS: a short write workload that stays valid before, during and
# after the migration (it never names the migrated column).
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

# op_arg_value ARGNAME: a valid value for an argument of a zdm function (the
# NULL-argument check passes NULL for one argument and these for the others).
op_arg_value() {
    case "$1" in
        tbl) echo "$T_LIT" ;;
        old_name|column_name|from_column) ql "$OP_OLD" ;;
        new_name|to_column|new_column) ql "$OP_NEW" ;;
        constraint_name) ql "${OP_TABLE}_len" ;;
        new_constraint_name) ql "copied_check" ;;
        *) return 1 ;;
    esac
}

# op_bad_inputs: fixtures (SQL) then "label<TAB>SQL" lines, one per bad input on
# a table without an open migration, each of which must raise an ERROR and
# change nothing. op_names plain has been called; the table exists.
op_bad_fixtures() {
    cat <<SQL
CREATE VIEW bad_view AS SELECT * FROM $T;
CREATE MATERIALIZED VIEW bad_matview AS SELECT * FROM $T;
CREATE SEQUENCE bad_seq;
CREATE TABLE bad_part (id int, last_name text) PARTITION BY RANGE (id);
CREATE TABLE bad_gen (id int PRIMARY KEY, last_name text, g text GENERATED ALWAYS AS (last_name || '!') STORED);
SQL
}
op_bad_inputs() {
    local o n
    o=$(ql "$OP_OLD"); n=$(ql "$OP_NEW")
    cat <<EOF
unknown table	SELECT zdm.begin_rename('no_such_table', $o, $n)
table OID 0	SELECT zdm.begin_rename(0::regclass, $o, $n)
unknown column	SELECT zdm.begin_rename($T_LIT, 'no_such_column', $n)
old = new	SELECT zdm.begin_rename($T_LIT, $o, $o)
new name clashes	SELECT zdm.begin_rename($T_LIT, $o, 'first_name')
empty new name	SELECT zdm.begin_rename($T_LIT, $o, '')
system column as old	SELECT zdm.begin_rename($T_LIT, 'ctid', $n)
system column as new	SELECT zdm.begin_rename($T_LIT, $o, 'xmin')
generated column	SELECT zdm.begin_rename('bad_gen', 'g', 'g2')
view	SELECT zdm.begin_rename('bad_view', $o, $n)
materialized view	SELECT zdm.begin_rename('bad_matview', $o, $n)
sequence	SELECT zdm.begin_rename('bad_seq', 'last_value', 'lv')
partitioned table	SELECT zdm.begin_rename('bad_part', 'last_name', 'surname')
system catalog	SELECT zdm.begin_rename('pg_catalog.pg_description', 'description', 'descr')
zdm's own catalog	SELECT zdm.begin_rename('zdm.migrations', 'state', 'status')
empty migration name	SELECT zdm.begin_rename($T_LIT, $o, $n, '')
64-byte migration name	SELECT zdm.begin_rename($T_LIT, $o, $n, repeat('m', 64))
batch_size 0	CALL zdm.backfill(NULL, 0)
batch_size -1	CALL zdm.backfill(NULL, -1)
negative pause	CALL zdm.backfill(NULL, 10, '-1 second')
backfill, no migration	CALL zdm.backfill()
finish, no migration	SELECT zdm.finish()
abort, no migration	SELECT zdm.abort()
finish, unknown migration	SELECT zdm.finish('no such migration')
abort, unknown migration	SELECT zdm.abort('no such migration')
backfill, unknown migration	CALL zdm.backfill('no such migration')
trigger called directly	SELECT zdm.dual_write_trigger()
copy_check on a non-CHECK	SELECT zdm.copy_check_constraint($T_LIT, $(ql "${OP_TABLE}_pkey"), $o, 'first_name', 'x')
EOF
}

# op_bad_inputs_open MIGRATION: bad inputs while MIGRATION is open on the table
# (backfill not run yet).
op_bad_inputs_open() {
    local o n m
    o=$(ql "$OP_OLD"); n=$(ql "$OP_NEW"); m=$(ql "$1")
    cat <<EOF
second rename of the same column	SELECT zdm.begin_rename($T_LIT, $o, 'other_name')
rename of the new column	SELECT zdm.begin_rename($T_LIT, $n, 'other_name')
finish before backfill	SELECT zdm.finish($m)
reuse of an open migration's new name	SELECT zdm.begin_rename($T_LIT, 'first_name', $n)
EOF
}
