#!/usr/bin/env bash
# test/clients/sqitch.sh — zdm driven from a Sqitch project, no other tool.
#   person         CREATE EXTENSION zdm, table person (20000 rows)
#   rename_begin   SELECT zdm.begin_rename(...), zdm.begin_set_not_null(first_name) in the
#                  same migration                              revert: SELECT zdm.abort()
#   rename_finish  CALL zdm.backfill(); SELECT zdm.finish(); SELECT zdm.run_ddl(...)
#                                                              revert: refuses
# Checks deploy/verify/revert against the throwaway cluster (target db:pg:, libpq
# takes the rest from the PG* variables).
# Usage: pg_virtualenv -v 15 bash test/clients/sqitch.sh   (or without pg_virtualenv)
# Needs: apt-get install sqitch
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
client_init "$@"

if ! command -v sqitch >/dev/null; then
    echo "sqitch: SKIP — sqitch is not installed (apt-get install sqitch)"
    exit "$SKIP_EXIT"
fi
# Sqitch's own settings: who deploys, and no user or system config of this machine.
export SQITCH_FULLNAME="zdm client test" SQITCH_EMAIL="zdm-tests@example.invalid"
export SQITCH_USER_CONFIG=/dev/null SQITCH_SYSTEM_CONFIG=/dev/null
sqitch() { (cd "$CLIENTS_DIR/sqitch" && command sqitch "$@"); }
last_change() { q -c "SELECT change FROM sqitch.changes ORDER BY committed_at DESC LIMIT 1"; }
echo "$(command sqitch --version)"

fresh_db zdm_client_sqitch
TARGET=db:pg:
BEFORE=id:bigint:true,first_name:text:false,last_name:text:true
WINDOW=id:bigint:true,first_name:text:false,last_name:text:true,surname:text:false
AFTER=id:bigint:true,first_name:text:true,surname:text:true

section "deploy person"
run "sqitch deploy --to person" sqitch deploy --to person "$TARGET"
expect_eq "person before the rename" "$BEFORE" "$(columns person)"
fp_before="$(fingerprint person)"

section "deploy rename_begin: zdm.begin_rename"
run "sqitch deploy --to rename_begin" sqitch deploy --to rename_begin "$TARGET"
run "sqitch verify" sqitch verify "$TARGET"
expect_eq "last deployed change" rename_begin "$(last_change)"
expect_eq "window: both columns" "$WINDOW" "$(columns person)"
expect_eq "window: zdm trigger on person" 1 "$(user_triggers person)"
expect_eq "window: one open migration" active "$(migration_states)"
expect_eq "window: the migration holds the rename and the set_not_null" rename,set_not_null \
    "$(q -c "SELECT string_agg(kind, ',' ORDER BY kind) FROM zdm.operations o JOIN zdm.migrations m ON m.name = o.migration WHERE m.state = 'active'")"
if q -c "INSERT INTO person (id, first_name, last_name) VALUES (30000, NULL, 'x')" >/dev/null 2>&1; then
    not_ok "window: a NULL first_name was accepted"
else
    ok "window: a NULL first_name is refused at once (CHECK ... NOT VALID)"
fi
q -c "UPDATE person SET surname = 'new-write' WHERE id = 2"
expect_eq "window: new-app write visible as last_name" new-write "$(q -c 'SELECT last_name FROM person WHERE id = 2')"
q -c "UPDATE person SET surname = 'last_2' WHERE id = 2"

section "revert to person: zdm.abort"
run "sqitch revert --to person" sqitch revert -y --to person "$TARGET"
expect_eq "last deployed change" person "$(last_change)"
expect_eq "abort: person exactly as before (columns, constraints, indexes, triggers)" \
    "$fp_before" "$(fingerprint person)"
expect_eq "abort: migration recorded as aborted" aborted "$(migration_states)"
expect_eq "abort: data intact" 20000 \
    "$(q -c "SELECT count(*) FROM person WHERE last_name = 'last_' || id")"

section "deploy all: begin again, backfill (batch by batch), finish"
start_watch
run "sqitch deploy" sqitch deploy "$TARGET"
stop_watch
run "sqitch verify" sqitch verify "$TARGET"
expect_eq "last deployed change" rename_finish "$(last_change)"
seen="$(intermediate_progress)"
if (( seen > 0 )); then
    ok "backfill committed batch by batch ($seen intermediate progress values seen from another session)"
else
    not_ok "backfill progress never visible from another session (no per-batch commits?)"
fi
expect_eq "final shape" "$AFTER" "$(columns person)"
expect_eq "final: no trigger left" 0 "$(user_triggers person)"
expect_eq "final: surname is the original last_name column (attnum 3)" 3 \
    "$(q -c "SELECT attnum FROM pg_attribute WHERE attrelid = 'person'::regclass AND attname = 'surname'")"
expect_eq "final: migrations" aborted,finished "$(migration_states)"
expect_eq "final: every row kept its value" 20000 \
    "$(q -c "SELECT count(*) FROM person WHERE surname = 'last_' || id")"
expect_eq "final: no check constraint left" 0 \
    "$(q -c "SELECT count(*) FROM pg_constraint WHERE conrelid = 'person'::regclass AND contype = 'c'")"
expect_eq "final: zdm.run_ddl ran (statistics target)" 500 \
    "$(q -c "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'person'::regclass AND attname = 'surname'")"
expect_eq "final: zdm.run_ddl logged it" 1 \
    "$(q -c "SELECT count(*) FROM zdm.ddl_log WHERE statement LIKE '%SET STATISTICS 500%'")"

section "revert rename_finish: zdm.finish cannot be undone"
run_fails "sqitch revert --to rename_begin" 'cannot be undone' sqitch revert -y --to rename_begin "$TARGET"
expect_eq "still deployed" rename_finish "$(last_change)"
expect_eq "shape unchanged" "$AFTER" "$(columns person)"
run "sqitch verify" sqitch verify "$TARGET"

finish_client sqitch
