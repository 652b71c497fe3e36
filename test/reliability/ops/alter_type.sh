# test/reliability/ops/alter_type.sh — zdm.begin_alter_type, as the reliability
# harness sees it: an int column `n` (NOT NULL, a default, a CHECK, two indexes,
# one with a name near the 63-byte limit) widened to bigint through its shadow
# column `n_new`. The twin indexes are built by the statements
# zdm.pending_statements() lists (CREATE INDEX CONCURRENTLY, top level); the
# checks run them before every finish (run_pending / zdm_finish in lib.sh).
# finish drops the int column and gives the shadow column its name, indexes,
# CHECK, NOT NULL and default.
# Sourced by run.sh; the functions and names are those ops/rename.sh documents
# (OP_OLD is n, OP_NEW its shadow column n_new).
#
# The checks write text values (op_write_old ID VALUE ...); here a value is
# mapped to an integer with cksum (_int), the same on write and on read.
# Every statement here is safe to run with a hostile search_path.

OP_TITLE="alter_type (zdm.begin_alter_type: n integer -> bigint, with its indexes)"
OP_VALGRIND_SQL=(sql/alter_type.sql)
# A smaller table than rename's for the backfill crashes (still 100 batches):
# the whole run, every operation, must stay within a few minutes.
CRASH_ROWS=$((CRASH_ROWS / 4))

# op_names plain [TABLE] | weird [SUFFIX]
op_names() {
    case "$1" in
        plain)
            OP_SCHEMA=public; OP_TABLE=${2:-t}; OP_OLD=n ;;
        weird)
            OP_SCHEMA='s p;"é'
            OP_TABLE="ta;b\"le é${2:-}"
            OP_OLD="n'; DROP TABLE victim; --\" é" ;;
        *) echo "op_names: plain or weird" >&2; return 1 ;;
    esac
    OP_NEW="${OP_OLD}_new"   # zdm's shadow column (no clash here)
    T="$(qi "$OP_SCHEMA").$(qi "$OP_TABLE")"
    T_LIT=$(ql "$T")
    O=$(qi "$OP_OLD")
    N=$(qi "$OP_NEW")
    OP_IDX="${OP_TABLE}_n_idx"
    # A second index, named near the 63-byte limit, so that its twin's name
    # ("<name>_zdm_new") must be shortened.
    OP_IDX_LONG="${OP_TABLE}_n_first_name_idx_"
    while (($(LC_ALL=C; echo ${#OP_IDX_LONG}) < 60)); do OP_IDX_LONG+=x; done
    OP_CHECK="${OP_TABLE}_n_range"
}

# _int VALUE: the integer a written value stands for (0 .. 1999999999).
_int() { printf '%s' "$1" | cksum | awk '{ print $1 % 2000000000 }'; }

# op_setup ROWS [nokey]
op_setup() {
    local rows=$1 key="PRIMARY KEY"
    [[ "${2:-}" == nokey ]] && key="NOT NULL"
    cat <<SQL
CREATE SCHEMA IF NOT EXISTS $(qi "$OP_SCHEMA");
CREATE TABLE $T (
    id bigserial $key,
    first_name text,
    $O integer NOT NULL DEFAULT 0
        CONSTRAINT $(qi "$OP_CHECK") CHECK ($O OPERATOR(pg_catalog.>) -1000000000)
);
CREATE INDEX $(qi "$OP_IDX") ON $T ($O);
CREATE INDEX $(qi "$OP_IDX_LONG") ON $T (first_name, $O) INCLUDE (id);
INSERT INTO $T (id, first_name, $O)
SELECT g, 'first ' OPERATOR(pg_catalog.||) g::text,
       CASE WHEN g OPERATOR(pg_catalog.%) 10 OPERATOR(pg_catalog.=) 3 THEN 2147483647 OPERATOR(pg_catalog.-) g
            WHEN g OPERATOR(pg_catalog.%) 10 OPERATOR(pg_catalog.=) 4 THEN OPERATOR(pg_catalog.-) g
            ELSE (g OPERATOR(pg_catalog.*) 7919) OPERATOR(pg_catalog.%) 1000000000 END
FROM pg_catalog.generate_series(1, $rows) g;
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence($T_LIT, 'id'), $rows);
VACUUM ANALYZE $T;
SQL
}

# op_begin [MIGRATION]: default up and down ((n)::bigint, (n_new)::integer).
op_begin() {
    local mig=NULL
    [[ $# -gt 0 && -n "$1" ]] && mig=$(ql "$1")
    echo "SELECT zdm.begin_alter_type($T_LIT, $(ql "$OP_OLD"), 'bigint', migration => $mig)"
}

# op_remember: the names of the indexes on n, which finish must give back.
op_remember() {
    echo "SELECT pg_catalog.string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_catalog.pg_index i
            JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid
            JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
                 AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::pg_catalog.int2[])
           WHERE i.indrelid OPERATOR(pg_catalog.=) $T_LIT::pg_catalog.regclass
             AND a.attname OPERATOR(pg_catalog.=) $(ql "$OP_OLD")::pg_catalog.name"
}

# The data as one md5; an int and a bigint print the same text.
_checksum_of() {
    echo "SELECT pg_catalog.md5(COALESCE(pg_catalog.string_agg(t.id::text OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) pg_catalog.quote_nullable(t.$1::text), ',' ORDER BY t.id), '')) FROM $T t"
}
op_checksum_before() { _checksum_of "$O"; }
op_checksum_finished() { _checksum_of "$O"; }
op_checksum_aborted() { _checksum_of "$O"; }

# (id, n::bigint) and (id, n_new), EXCEPT both ways.
op_divergence() {
    echo "SELECT (SELECT pg_catalog.count(*) FROM (SELECT id, $O::bigint FROM $T EXCEPT SELECT id, $N FROM $T) a)
         OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM (SELECT id, $N FROM $T EXCEPT SELECT id, $O::bigint FROM $T) b)"
}

op_converted() {
    echo "SELECT pg_catalog.count(*) FROM $T t WHERE t.$N IS NOT DISTINCT FROM t.$O::bigint"
}

op_committed_prefix() {
    echo "SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE t.$N IS DISTINCT FROM t.$O::bigint) FROM $T t
          WHERE t.id OPERATOR(pg_catalog.<=) (SELECT (o.backfill_position[1])::bigint FROM zdm.operations o
                                              WHERE o.migration OPERATOR(pg_catalog.=) $(ql "$1"))"
}

# The window: n still integer NOT NULL, n_new bigint bound by NOT VALID checks
# (NOT NULL and the copied CHECK), the trigger.
op_window_check() {
    cat <<SQL
SELECT CASE
  WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_OLD") AND NOT attisdropped AND atttypid = 'int4'::regtype AND attnotnull) THEN 'old column missing, or no longer integer NOT NULL'
  WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_NEW") AND NOT attisdropped AND atttypid = 'int8'::regtype) THEN 'bigint shadow column missing'
  WHEN (SELECT count(*) FROM pg_constraint WHERE conrelid = $T_LIT::regclass AND contype = 'c' AND NOT convalidated) <> 2 THEN 'not the two NOT VALID checks on the shadow column'
  WHEN NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $T_LIT::regclass AND tgname = 'zzz_zdm_dual_write') THEN 'dual-write trigger missing'
  ELSE 'ok' END
SQL
}

# op_finished_check FACT: n is bigint NOT NULL DEFAULT 0; the shadow column is
# gone; the indexes on n are those named in FACT (valid, on n); its CHECK is
# back under its name and validated; no trigger.
op_finished_check() {
    cat <<SQL
WITH col AS (SELECT a.* FROM pg_attribute a WHERE a.attrelid = $T_LIT::regclass AND a.attname = $(ql "$OP_OLD") AND NOT a.attisdropped),
     idx AS (SELECT string_agg(c.relname, ',' ORDER BY c.relname) AS names, bool_and(i.indisvalid) AS valid
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid, col
              WHERE i.indrelid = $T_LIT::regclass AND col.attnum = ANY (i.indkey::int2[]))
SELECT CASE
  WHEN NOT EXISTS (SELECT 1 FROM col) THEN 'column missing'
  WHEN (SELECT atttypid FROM col) <> 'int8'::regtype THEN 'column is ' || (SELECT format_type(atttypid, atttypmod) FROM col) || ', not bigint'
  WHEN NOT (SELECT attnotnull FROM col) THEN 'column not NOT NULL'
  WHEN (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d, col WHERE d.adrelid = col.attrelid AND d.adnum = col.attnum) IS DISTINCT FROM '0' THEN 'default lost'
  WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $T_LIT::regclass AND attname = $(ql "$OP_NEW") AND NOT attisdropped) THEN 'shadow column still there'
  WHEN (SELECT names FROM idx) IS DISTINCT FROM $(ql "$1") THEN 'indexes on the column: ' || coalesce((SELECT names FROM idx), 'none') || ', want ' || $(ql "$1")
  WHEN NOT (SELECT valid FROM idx) THEN 'an index on the column is not valid'
  WHEN NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $T_LIT::regclass AND conname = $(ql "$OP_CHECK") AND convalidated) THEN 'CHECK not back under its name'
  WHEN (SELECT count(*) FROM pg_constraint WHERE conrelid = $T_LIT::regclass AND contype = 'c') <> 1 THEN 'extra check constraints left'
  WHEN EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $T_LIT::regclass AND tgname = 'zzz_zdm_dual_write') THEN 'dual-write trigger still there'
  ELSE 'ok' END
SQL
}

# Writes from each side (the old app writes n, the new app n_new), and a read
# of both sides ("old|new").
op_write_old() { echo "INSERT INTO $T (id, first_name, $O) VALUES ($1, 'old app', $(_int "$2"))"; }
op_write_new() { echo "INSERT INTO $T (id, first_name, $N) VALUES ($1, 'new app', $(_int "$2"))"; }
op_update_old() { echo "UPDATE $T SET $O = $(_int "$2") WHERE id OPERATOR(pg_catalog.=) $1::bigint"; }
op_update_new() { echo "UPDATE $T SET $N = $(_int "$2") WHERE id OPERATOR(pg_catalog.=) $1::bigint"; }
op_read() { echo "SELECT $O, $N FROM $T WHERE id OPERATOR(pg_catalog.=) $1::bigint"; }
op_read_want() { local v; v=$(_int "$1"); echo "$v|$v"; }

# op_pgbench ROWS: never names n; its INSERTs take n's default (0).
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
        old_name|column_name|from_column) ql "$OP_OLD" ;;
        new_name|to_column|new_column) ql "$OP_NEW" ;;
        type|new_type) echo "'bigint'" ;;
        up) ql "$O::bigint" ;;
        down) ql "$N::integer" ;;
        constraint_name) ql "$OP_CHECK" ;;
        new_constraint_name) ql "copied_check" ;;
        *) return 1 ;;
    esac
}

# The views read another table: one on the migrated column would (rightly)
# keep finish from dropping it.
op_bad_fixtures() {
    cat <<SQL
CREATE TABLE bad_base (id bigint PRIMARY KEY, first_name text, $O integer);
CREATE VIEW bad_view AS SELECT * FROM bad_base;
CREATE MATERIALIZED VIEW bad_matview AS SELECT * FROM bad_base;
CREATE SEQUENCE bad_seq;
CREATE TABLE bad_part (id int, n int) PARTITION BY RANGE (id);
CREATE TABLE bad_parent (id int PRIMARY KEY, ref int UNIQUE);
CREATE TABLE bad_child (id int PRIMARY KEY, ref int REFERENCES bad_parent (ref),
                        s serial, ident int GENERATED ALWAYS AS IDENTITY,
                        g bigint GENERATED ALWAYS AS (id * 2) STORED,
                        e int, p int, t text);
CREATE INDEX bad_child_e_idx ON bad_child ((e + 1));
CREATE INDEX bad_child_p_idx ON bad_child (p) WHERE p > 0;
SQL
}
op_bad_inputs() {
    local o n
    o=$(ql "$OP_OLD"); n=$(ql "$OP_NEW")
    cat <<EOF
unknown table	SELECT zdm.begin_alter_type('no_such_table', $o, 'bigint')
table OID 0	SELECT zdm.begin_alter_type(0::regclass, $o, 'bigint')
unknown column	SELECT zdm.begin_alter_type($T_LIT, 'no_such_column', 'bigint')
empty column name	SELECT zdm.begin_alter_type($T_LIT, '', 'bigint')
system column	SELECT zdm.begin_alter_type($T_LIT, 'xmin', 'bigint')
same type	SELECT zdm.begin_alter_type($T_LIT, $o, 'integer')
same type, another spelling	SELECT zdm.begin_alter_type($T_LIT, $o, 'int4')
unknown type	SELECT zdm.begin_alter_type($T_LIT, $o, 'no_such_type')
empty type	SELECT zdm.begin_alter_type($T_LIT, $o, '')
SQL after the type	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint; DROP TABLE victim')
no cast to the new type, no up	SELECT zdm.begin_alter_type($T_LIT, $o, 'point')
up names an unknown column	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', up => 'no_such_column')
up with a subquery	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', up => '(SELECT 1::bigint)')
up is volatile	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', up => '(random() * 10)::bigint')
up with a second statement	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', up => '1; DROP TABLE victim')
up divides by zero	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', up => '1 / 0')
up of the wrong type	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', up => 'first_name')
down names an unknown column	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', down => 'no_such_column')
down of a type with no assignment cast	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', down => 'now()')
down of the wrong type	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', down => 'first_name')
primary key column	SELECT zdm.begin_alter_type($T_LIT, 'id', 'numeric')
foreign key column	SELECT zdm.begin_alter_type('bad_child', 'ref', 'bigint')
referenced column	SELECT zdm.begin_alter_type('bad_parent', 'ref', 'bigint')
serial column	SELECT zdm.begin_alter_type('bad_child', 's', 'bigint')
identity column	SELECT zdm.begin_alter_type('bad_child', 'ident', 'bigint')
generated column	SELECT zdm.begin_alter_type('bad_child', 'g', 'numeric')
column in an expression index	SELECT zdm.begin_alter_type('bad_child', 'e', 'bigint')
column in a partial index	SELECT zdm.begin_alter_type('bad_child', 'p', 'bigint')
view	SELECT zdm.begin_alter_type('bad_view', $o, 'bigint')
materialized view	SELECT zdm.begin_alter_type('bad_matview', $o, 'bigint')
sequence	SELECT zdm.begin_alter_type('bad_seq', 'last_value', 'numeric')
partitioned table	SELECT zdm.begin_alter_type('bad_part', 'n', 'bigint')
system catalog	SELECT zdm.begin_alter_type('pg_catalog.pg_description', 'objsubid', 'bigint')
zdm's own catalog	SELECT zdm.begin_alter_type('zdm.operations', 'rows_done', 'numeric')
empty migration name	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', migration => '')
64-byte migration name	SELECT zdm.begin_alter_type($T_LIT, $o, 'bigint', migration => repeat('m', 64))
batch_size 0	CALL zdm.backfill(NULL, 0)
negative pause	CALL zdm.backfill(NULL, 10, '-1 second')
backfill, no migration	CALL zdm.backfill()
finish, no migration	SELECT zdm.finish()
abort, no migration	SELECT zdm.abort()
finish, unknown migration	SELECT zdm.finish('no such migration')
pending statements, no migration	SELECT * FROM zdm.pending_statements()
pending statements, unknown migration	SELECT * FROM zdm.pending_statements('no such migration')
EOF
}

# op_bad_inputs_open MIGRATION: with the migration open (backfill and index
# builds not run).
op_bad_inputs_open() {
    local o n m
    o=$(ql "$OP_OLD"); n=$(ql "$OP_NEW"); m=$(ql "$1")
    cat <<EOF
second alter_type of the same column	SELECT zdm.begin_alter_type($T_LIT, $o, 'numeric')
alter_type of the shadow column	SELECT zdm.begin_alter_type($T_LIT, $n, 'numeric')
rename of the column	SELECT zdm.begin_rename($T_LIT, $o, 'other_name')
rename of the shadow column	SELECT zdm.begin_rename($T_LIT, $n, 'other_name')
drop of the column	SELECT zdm.begin_drop_column($T_LIT, $o, down => $(ql "$N::integer"))
add a column named like the shadow column	SELECT zdm.begin_add_column($T_LIT, $n, 'bigint')
finish before backfill	SELECT zdm.finish($m)
EOF
}
