#!/usr/bin/env bash
# test/clients/psql.sh — zdm driven from plain psql scripts (test/clients/psql/*.sql,
# each with \set ON_ERROR_STOP on): begin, abort, begin again, backfill + finish, and a
# failing script that must stop at its error.
# Usage: pg_virtualenv -v 15 bash test/clients/psql.sh   (or without pg_virtualenv)
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
client_init "$@"
SQL="$CLIENTS_DIR/psql"
p() { psql -X "$@"; }   # exactly what a user runs: no -v ON_ERROR_STOP here

fresh_db zdm_client_psql
BEFORE=id:bigint:true,first_name:text:false,last_name:text:true
WINDOW=id:bigint:true,first_name:text:false,last_name:text:true,surname:text:false
AFTER=id:bigint:true,first_name:text:false,surname:text:true

section "setup.sql"
run "psql -f setup.sql" p -q -f "$SQL/setup.sql"
expect_eq "person before the rename" "$BEFORE" "$(columns person)"
fp_before="$(fingerprint person)"

section "bad_begin.sql: an error stops the script"
run_fails "psql -f bad_begin.sql" 'column "lastname" of table .*person.* does not exist' p -f "$SQL/bad_begin.sql"
expect_eq "nothing changed" "$fp_before" "$(fingerprint person)"
expect_eq "no migration recorded" "" "$(migration_states)"
expect_eq "the statement after the error did not run" "" "$(q -c "SELECT to_regclass('must_not_exist')")"

section "begin.sql, then abort.sql"
run "psql -f begin.sql" p -f "$SQL/begin.sql"
expect_eq "window: both columns" "$WINDOW" "$(columns person)"
expect_eq "window: one open migration" active "$(migration_states)"
run "psql -f abort.sql" p -f "$SQL/abort.sql"
expect_eq "abort: person exactly as before" "$fp_before" "$(fingerprint person)"
expect_eq "abort: data intact" 20000 "$(q -c "SELECT count(*) FROM person WHERE last_name = 'last_' || id")"
run_fails "psql -f abort.sql with nothing open" 'no rows returned for \\gset' p -f "$SQL/abort.sql"

section "begin.sql, then finish.sql"
run "psql -f begin.sql" p -f "$SQL/begin.sql"
start_watch
run "psql -f finish.sql" p -f "$SQL/finish.sql"
stop_watch
seen="$(intermediate_progress)"
if (( seen > 0 )); then
    ok "backfill committed batch by batch ($seen intermediate progress values seen from another session)"
else
    not_ok "backfill progress never visible from another session (no per-batch commits?)"
fi
expect_eq "final shape" "$AFTER" "$(columns person)"
expect_eq "final: no trigger left" 0 "$(user_triggers person)"
expect_eq "final: migrations" aborted,finished "$(migration_states)"
expect_eq "final: every row kept its value" 20000 "$(q -c "SELECT count(*) FROM person WHERE surname = 'last_' || id")"
run_fails "psql -f finish.sql again" 'no rows returned for \\gset' p -f "$SQL/finish.sql"

finish_client psql
