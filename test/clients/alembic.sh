#!/usr/bin/env bash
# test/clients/alembic.sh — zdm driven from Alembic revisions, no other tool.
#   revision 0001: CREATE EXTENSION zdm, table person (20000 rows)
#   revision 0002: SELECT zdm.begin_rename(...), zdm.begin_create_index(...) in the same
#                  migration                     downgrade: SELECT zdm.abort()
#   revision 0003: CREATE INDEX CONCURRENTLY and CALL zdm.backfill() in autocommit blocks,
#                  SELECT zdm.finish(), SELECT zdm.run_ddl(...)
# Checks: the open window, the downgrade (abort restores person exactly), upgrade to
# head (batch-by-batch commits seen from another session, final schema, data), the
# irreversible downgrade of 0003, the in-transaction backfill variant, and the
# offline script (--sql) run with psql.
# Usage: pg_virtualenv -v 15 bash test/clients/alembic.sh   (or without pg_virtualenv)
# Needs: apt-get install python3-alembic python3-psycopg2
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
client_init "$@"

PY=""
for candidate in ${ALEMBIC_PYTHON:-} python3 /usr/bin/python3; do
    if "$candidate" -c 'import alembic, psycopg2' 2>/dev/null; then PY="$candidate"; break; fi
done
if [[ -z "$PY" ]]; then
    echo "alembic: SKIP — no python3 with alembic and psycopg2 (apt-get install python3-alembic python3-psycopg2)"
    exit "$SKIP_EXIT"
fi
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in the source tree
alembic() { "$PY" -m alembic -c "$CLIENTS_DIR/alembic/alembic.ini" "$@"; }
current() { alembic current 2>/dev/null | awk '{print $1}' | tail -1; }
echo "alembic $("$PY" -c 'import alembic; print(alembic.__version__)') ($PY), psycopg2 $("$PY" -c 'import psycopg2; print(psycopg2.__version__.split()[0])')"

fresh_db zdm_client_alembic
BEFORE=id:bigint:true,first_name:text:false,last_name:text:true
WINDOW=id:bigint:true,first_name:text:false,last_name:text:true,surname:text:false
AFTER=id:bigint:true,first_name:text:false,surname:text:true

section "upgrade 0001: person"
run "alembic upgrade 0001" alembic upgrade 0001
expect_eq "person before the rename" "$BEFORE" "$(columns person)"
fp_before="$(fingerprint person)"

section "upgrade 0002: zdm.begin_rename"
run "alembic upgrade 0002" alembic upgrade 0002
expect_eq "alembic current" 0002 "$(current)"
expect_eq "window: both columns" "$WINDOW" "$(columns person)"
expect_eq "window: zdm trigger on person" 1 "$(user_triggers person)"
expect_eq "window: one open migration" active "$(migration_states)"
expect_eq "window: the migration holds the rename and the index" create_index,rename \
    "$(q -c "SELECT string_agg(kind, ',' ORDER BY kind) FROM zdm.operations o JOIN zdm.migrations m ON m.name = o.migration WHERE m.state = 'active'")"
# Both apps, in the window: the old one writes last_name, the new one surname.
q -c "UPDATE person SET last_name = 'old-write' WHERE id = 1" \
  -c "INSERT INTO person (id, first_name, surname) VALUES (20001, 'new', 'new-write')"
expect_eq "window: old-app write visible as surname" old-write "$(q -c 'SELECT surname FROM person WHERE id = 1')"
expect_eq "window: new-app insert filled last_name" new-write "$(q -c 'SELECT last_name FROM person WHERE id = 20001')"
q -c "DELETE FROM person WHERE id = 20001" -c "UPDATE person SET last_name = 'last_1' WHERE id = 1"

section "downgrade 0001: zdm.abort"
run "alembic downgrade 0001" alembic downgrade 0001
expect_eq "alembic current" 0001 "$(current)"
expect_eq "abort: person exactly as before (columns, constraints, indexes, triggers)" \
    "$fp_before" "$(fingerprint person)"
expect_eq "abort: migration recorded as aborted" aborted "$(migration_states)"
expect_eq "abort: data intact" 20000 \
    "$(q -c "SELECT count(*) FROM person WHERE last_name = 'last_' || id")"

section "upgrade head: begin again, backfill in an autocommit block, finish"
start_watch
run "alembic upgrade head" alembic upgrade head
stop_watch
expect_eq "alembic current" 0003 "$(current)"
seen="$(intermediate_progress)"
if (( seen > 0 )); then
    ok "backfill committed batch by batch ($seen intermediate progress values seen from another session)"
else
    not_ok "backfill progress never visible from another session (no per-batch commits?)"
fi
if grep -q 'inside a transaction block' "$CLIENT_TMP/out"; then
    not_ok "backfill said it ran inside a transaction block"
else
    ok "backfill ran outside a transaction block (no NOTICE saying otherwise)"
fi
expect_eq "final shape" "$AFTER" "$(columns person)"
expect_eq "final: no trigger left" 0 "$(user_triggers person)"
expect_eq "final: no check constraint left" 0 \
    "$(q -c "SELECT count(*) FROM pg_constraint WHERE conrelid = 'person'::regclass AND contype = 'c'")"
expect_eq "final: surname is the original last_name column (attnum 3)" 3 \
    "$(q -c "SELECT attnum FROM pg_attribute WHERE attrelid = 'person'::regclass AND attname = 'surname'")"
expect_eq "final: migrations" aborted,finished "$(migration_states)"
expect_eq "final: every row kept its value" 20000 \
    "$(q -c "SELECT count(*) FROM person WHERE surname = 'last_' || id")"
expect_eq "final: the index on first_name is built and valid" t \
    "$(q -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'person_first_name_idx'::regclass")"
expect_eq "final: zdm.run_ddl ran (statistics target)" 500 \
    "$(q -c "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'person'::regclass AND attname = 'surname'")"
expect_eq "final: zdm.run_ddl logged it" 1 \
    "$(q -c "SELECT count(*) FROM zdm.ddl_log WHERE statement LIKE '%SET STATISTICS 500%'")"

section "downgrade 0002 from head: zdm.finish cannot be undone"
run_fails "alembic downgrade 0002" 'cannot be undone' alembic downgrade 0002
expect_eq "still at head" 0003 "$(current)"
expect_eq "shape unchanged" "$AFTER" "$(columns person)"

section "variant: CALL zdm.backfill() inside the revision's transaction"
fresh_db zdm_client_alembic_tx
start_watch
ZDM_ALEMBIC_BACKFILL=in-transaction run "alembic upgrade head (backfill in the transaction)" alembic upgrade head
stop_watch
if grep -q 'inside a transaction block' "$CLIENT_TMP/out"; then
    ok "zdm's NOTICE says the backfill ran in one transaction"
else
    not_ok "no NOTICE about the backfill running in one transaction"
fi
expect_eq "no progress visible before the commit" 0 "$(intermediate_progress)"
expect_eq "final shape" "$AFTER" "$(columns person)"
expect_eq "final: every row kept its value" 20000 \
    "$(q -c "SELECT count(*) FROM person WHERE surname = 'last_' || id")"

section "offline mode: alembic upgrade --sql"
run "alembic upgrade 0001:head --sql" alembic upgrade 0001:head --sql
if awk '/^COMMIT;/ { c = NR } /^CALL zdm.backfill/ { if (c && NR > c) found = 1 } END { exit !found }' "$CLIENT_TMP/out"; then
    ok "--sql emits CALL zdm.backfill after a COMMIT (outside a transaction block)"
else
    not_ok "--sql output has no CALL zdm.backfill after a COMMIT"
fi
# A DBA runs the generated script with psql.
fresh_db zdm_client_alembic_sql
run "alembic upgrade 0001" alembic upgrade 0001
alembic upgrade 0001:head --sql 2>/dev/null >"$CLIENT_TMP/upgrade.sql"
start_watch
run "psql -f (alembic upgrade 0001:head --sql)" psql -X -v ON_ERROR_STOP=1 -q -f "$CLIENT_TMP/upgrade.sql"
stop_watch
expect_eq "alembic current" 0003 "$(current)"
expect_eq "final shape" "$AFTER" "$(columns person)"
seen="$(intermediate_progress)"
if (( seen > 0 )); then
    ok "backfill committed batch by batch ($seen intermediate progress values seen from another session)"
else
    not_ok "backfill progress never visible from another session (no per-batch commits?)"
fi

finish_client alembic
