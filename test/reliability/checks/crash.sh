# test/reliability/checks/crash.sh — crash recovery. Sourced by run.sh.
#
#   crash_during_backfill kill|immediate finish|abort
#       SIGKILL the backend running CALL zdm.backfill (or stop the cluster with
#       -m immediate) once a share of the batches has committed; after the
#       restart zdm.status() must match the committed batches, a second backfill
#       must resume where the first stopped, and finish/abort must leave exactly
#       the data there was before.
#   crash_during_begin kill|immediate
#       begin waits for its lock behind a reader (zdm.lock_retries = 1000); crash.
#       After the restart no migration exists and the table is as before.
#   crash_during_finish kill|immediate
#       finish waits the same way; crash. finish happened entirely or not at all.

CRASH_SURVIVED=0
CRASH_TRIED=0
CRASH_DIVERGENT=0

_crash() {   # _crash kill|immediate PID -> recovery seconds on stdout
    if [[ "$1" == kill ]]; then crash_backend "$2"; else crash_cluster; fi
}

_crash_label() { [[ "$1" == kill ]] && echo "kill -9 of the backend" || echo "pg_ctlcluster stop -m immediate"; }

crash_during_backfill() {
    local mode=$1 end=$2 rows=$CRASH_ROWS batch=500
    CUR="$OP/crash-backfill-$mode-$end"
    local db=rel_crash_bf_$mode
    if ((!CAN_CRASH)); then skip "cannot crash the cluster here: $CRASH_WHY"; return; fi
    op_names plain t
    new_db "$db" || { fail "could not create $db"; return; }
    op_setup "$rows" | quiet_qin "$db" >/dev/null || { fail "setup failed"; return; }
    local sum_before shape_before mig
    sum_before=$(q "$db" "$(op_checksum_before)")
    shape_before=$(q "$db" "$(shape_sql "$T_LIT")")
    mig=$(q "$db" "$(op_begin)") || { fail "begin failed"; return; }

    bg_sql backfill "$db" rel_backfill <<SQL
SET client_min_messages = warning;
CALL zdm.backfill(batch_size => $batch, pause => '50 ms');
SQL
    # Let a quarter to a half of the batches commit, then crash. The pause keeps
    # the walk from ending between that check and the crash on a loaded machine
    # (a CI run once saw it 'done' after the crash).
    local seen=0
    _progress() {
        seen=$(q "$db" "$(mig_status rows_done "$mig")" 2>/dev/null)
        [[ "${seen:-0}" -ge $((rows / 4)) ]]
    }
    if ! wait_until 120 _progress; then
        fail "the backfill made no progress"; bg_wait backfill; return
    fi
    local pid state_now
    pid=$(backend_pid "$db" rel_backfill)
    state_now=$(q "$db" "$(mig_status backfill "$mig")")
    if [[ -z "$pid" || "$state_now" == done ]]; then
        fail "the backfill ended before the crash (rows_done $seen of $rows): raise the row count"
        bg_wait backfill; return
    fi
    seen=$(q "$db" "$(mig_status rows_done "$mig")")
    CRASH_TRIED=$((CRASH_TRIED + 1))
    local recovery
    recovery=$(_crash "$mode" "$pid") || { fail "the server did not come back after the crash"; return; }
    bg_wait backfill
    note "crashed at rows_done >= $seen of $rows; back in ${recovery}s"

    # zdm.status() after the restart.
    local status rows_done state bstate
    status=$(q "$db" "$(mig_status "state, backfill, rows_done" "$mig")")
    IFS='|' read -r state bstate rows_done <<<"$status"
    check_eq "migration still active after the crash" "$state" active
    # Its backend is gone: status says so (it said "running" forever before 0.2.0).
    check_eq "backfill state after the crash" "$bstate" interrupted
    check_cmp "rows_done kept every batch seen committed before the crash" "${rows_done:-x}" -ge "$seen"
    check_cmp "rows_done after the crash is below the row count" "${rows_done:-x}" -lt "$rows"
    local prefix prefix_rows prefix_bad converted
    prefix=$(q "$db" "$(op_committed_prefix "$mig")")
    IFS='|' read -r prefix_rows prefix_bad <<<"$prefix"
    check_eq "rows_done equals the rows up to the committed position" "$rows_done" "$prefix_rows"
    check_eq "every row up to the committed position is converted" "$prefix_bad" 0
    converted=$(q "$db" "$(op_converted)")
    check_cmp "rows_done <= rows counted as converted" "${rows_done:-x}" -le "$converted"

    # Resume.
    local resumed_from=$rows_done t0 out
    t0=$EPOCHREALTIME
    out=$(q "$db" "CALL zdm.backfill(batch_size => $batch)" 2>&1) || { fail "resumed backfill failed: $out"; return; }
    local resume_ms
    resume_ms=$(ms_since "$t0")
    status=$(q "$db" "$(mig_status "backfill, rows_done, rows_converted" "$mig")")
    local rc_total
    IFS='|' read -r bstate rows_done rc_total <<<"$status"
    check_eq "resumed backfill completes" "$bstate" done
    # A restart from 0 would visit every row again: rows_done = before + rows.
    check_eq "the backfill resumed where it stopped (rows_done = seed rows, not $((resumed_from + rows)))" "$rows_done" "$rows"
    check_eq "rows converted exactly once" "$rc_total" "$rows"

    local count divergent
    count=$(q "$db" "SELECT count(*) FROM $T")
    check_eq "row count equals the seed count" "$count" "$rows"
    divergent=$(q "$db" "$(op_divergence)")
    check_eq "no divergent rows before $end (EXCEPT both ways)" "$divergent" 0
    CRASH_DIVERGENT=$((CRASH_DIVERGENT + ${divergent:-0}))

    local sum_after ok=1
    if [[ "$end" == finish ]]; then
        out=$(zdm_finish "$db" "$mig" 2>&1) || { fail "finish failed: $out"; ok=0; }
        sum_after=$(q "$db" "$(op_checksum_finished)")
        check_eq "checksum of the data before the crash = after finish" "$sum_after" "$sum_before"
    else
        out=$(q "$db" "SELECT zdm.abort($(ql "$mig"))" 2>&1) || { fail "abort failed: $out"; ok=0; }
        sum_after=$(q "$db" "$(op_checksum_aborted)")
        check_eq "checksum of the data before the crash = after abort" "$sum_after" "$sum_before"
        local shape_after
        shape_after=$(q "$db" "$(shape_sql "$T_LIT")")
        if [[ -n "$shape_before" && "$shape_after" == "$shape_before" ]]; then pass "abort left the table's shape exactly as before begin"
        else fail "abort left a different shape: $(diff <(echo "$shape_before") <(echo "$shape_after") | tr '\n' ' ')"; fi
    fi
    [[ "$ok" == 1 && "$sum_after" == "$sum_before" && "${divergent:-1}" == 0 ]] && CRASH_SURVIVED=$((CRASH_SURVIVED + 1))
    md crash "| backfill, $(_crash_label "$mode") | $rows rows, batch $batch | rows_done $seen before, $resumed_from after restart ($prefix_rows up to the committed key) | resumed to $rows_done in $resume_ms ms | ${divergent:-?} | $end | $([[ "$sum_after" == "$sum_before" ]] && echo equal || echo DIFFERENT) | ${recovery}s |"
    dropdb --if-exists "$db"
}

# _blocked_step DB STEP_SQL: a reader holds ACCESS SHARE on the table; the step
# runs with zdm.lock_retries = 1000 in the background (application_name
# rel_step) and is left waiting for its lock.
_blocked_step() {
    local db=$1 step=$2
    bg_sql blocker "$db" rel_blocker <<SQL
BEGIN;
LOCK TABLE $T IN ACCESS SHARE MODE;
SELECT pg_sleep(300);
COMMIT;
SQL
    wait_until 30 holds_lock "$db" rel_blocker "$T_LIT" || return 1
    bg_sql step "$db" rel_step <<SQL
SET zdm.lock_retries = 1000;
$step;
SQL
    wait_until 30 waits_for_lock "$db" rel_step || return 1
    sleep 0.7   # a few timed-out attempts and retries
    waits_for_lock "$db" rel_step
}

crash_during_begin() {
    local mode=$1 rows=20000
    CUR="$OP/crash-begin-$mode"
    local db=rel_crash_begin_$mode
    if ((!CAN_CRASH)); then skip "cannot crash the cluster here: $CRASH_WHY"; return; fi
    op_names plain t
    new_db "$db" || { fail "could not create $db"; return; }
    op_setup "$rows" | quiet_qin "$db" >/dev/null || { fail "setup failed"; return; }
    local sum_before shape_before
    sum_before=$(q "$db" "$(op_checksum_before)")
    shape_before=$(q "$db" "$(shape_sql "$T_LIT")")
    if ! _blocked_step "$db" "$(op_begin)"; then
        fail "begin did not wait for its lock behind the reader: $(cat "$W/step.out")"
        q "$db" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ('rel_blocker','rel_step')" >/dev/null
        bg_wait blocker; bg_wait step; return
    fi
    local pid recovery
    pid=$(backend_pid "$db" rel_step)
    CRASH_TRIED=$((CRASH_TRIED + 1))
    recovery=$(_crash "$mode" "$pid") || { fail "the server did not come back after the crash"; return; }
    bg_wait blocker; bg_wait step
    local migrations ops ddl shape_after sum_after
    migrations=$(q "$db" "SELECT count(*) FROM zdm.migrations")
    ops=$(q "$db" "SELECT count(*) FROM zdm.operations")
    ddl=$(q "$db" "SELECT count(*) FROM zdm.ddl_log")
    check_eq "no migration exists after a crash during begin" "$migrations" 0
    check_eq "no operation recorded" "$ops" 0
    check_eq "no DDL logged" "$ddl" 0
    shape_after=$(q "$db" "$(shape_sql "$T_LIT")")
    if [[ -n "$shape_before" && "$shape_after" == "$shape_before" ]]; then pass "the table is exactly as before (no new column, no trigger)"
    else fail "the table changed: $(diff <(echo "$shape_before") <(echo "$shape_after") | tr '\n' ' ')"; fi
    sum_after=$(q "$db" "$(op_checksum_before)")
    check_eq "the data is as before" "$sum_after" "$sum_before"
    # And the table can still be migrated.
    local mig out
    mig=$(q "$db" "$(op_begin)") && out=$(quiet_q "$db" "CALL zdm.backfill()" 2>&1) \
        && out=$(zdm_finish "$db" "" 2>&1) \
        && pass "a new migration of the table runs to its end after the crash" \
        || fail "a new migration after the crash failed: $out"
    [[ "$migrations" == 0 && "$shape_after" == "$shape_before" && "$sum_after" == "$sum_before" ]] && CRASH_SURVIVED=$((CRASH_SURVIVED + 1))
    md crash "| begin waiting for its lock, $(_crash_label "$mode") | $rows rows | no migration, table unchanged: $([[ "$migrations" == 0 && "$shape_after" == "$shape_before" ]] && echo yes || echo NO) | — | 0 | — | $([[ "$sum_after" == "$sum_before" ]] && echo equal || echo DIFFERENT) | ${recovery}s |"
    dropdb --if-exists "$db"
}

crash_during_finish() {
    local mode=$1 rows=20000
    CUR="$OP/crash-finish-$mode"
    local db=rel_crash_finish_$mode
    if ((!CAN_CRASH)); then skip "cannot crash the cluster here: $CRASH_WHY"; return; fi
    op_names plain t
    new_db "$db" || { fail "could not create $db"; return; }
    op_setup "$rows" | quiet_qin "$db" >/dev/null || { fail "setup failed"; return; }
    local sum_before fact mig out
    sum_before=$(q "$db" "$(op_checksum_before)")
    fact=$(q "$db" "$(op_remember)")
    mig=$(q "$db" "$(op_begin)") || { fail "begin failed"; return; }
    out=$(quiet_q "$db" "CALL zdm.backfill()" 2>&1) || { fail "backfill failed: $out"; return; }
    out=$(run_pending "$db" "$mig" 2>&1) || { fail "the pending index builds failed: $out"; return; }
    local shape_window
    shape_window=$(q "$db" "$(shape_sql "$T_LIT")")
    if ! _blocked_step "$db" "SELECT zdm.finish($(ql "$mig"))"; then
        fail "finish did not wait for its lock behind the reader: $(cat "$W/step.out")"
        q "$db" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ('rel_blocker','rel_step')" >/dev/null
        bg_wait blocker; bg_wait step; return
    fi
    local pid recovery
    pid=$(backend_pid "$db" rel_step)
    CRASH_TRIED=$((CRASH_TRIED + 1))
    recovery=$(_crash "$mode" "$pid") || { fail "the server did not come back after the crash"; return; }
    bg_wait blocker; bg_wait step
    local state outcome ddl_finish
    state=$(q "$db" "SELECT state FROM zdm.migrations WHERE name = $(ql "$mig")")
    ddl_finish=$(q "$db" "SELECT count(*) FROM zdm.ddl_log WHERE phase = 'finish'")
    case "$state" in
        active)
            outcome="not at all"
            local shape_now
            shape_now=$(q "$db" "$(shape_sql "$T_LIT")")
            if [[ -n "$shape_window" && "$shape_now" == "$shape_window" && "$(q "$db" "$(op_window_check)")" == ok && "$ddl_finish" == 0 ]]; then
                pass "finish did not happen at all: migration active, table in its window shape, no finish DDL logged"
            else
                fail "migration active but the table or the log changed: ddl_log finish rows $ddl_finish; $(diff <(echo "$shape_window") <(echo "$shape_now") | tr '\n' ' ')"
            fi
            check_eq "no divergent rows" "$(q "$db" "$(op_divergence)")" 0
            out=$(zdm_finish "$db" "$mig" 2>&1) && pass "finish after the restart completes" || fail "finish after the restart failed: $out"
            ;;
        finished)
            outcome="entirely"
            check_eq "finish happened entirely: final shape" "$(q "$db" "$(op_finished_check "$fact")")" ok
            ;;
        *) outcome="BROKEN ($state)"; fail "migration state after the crash: '$state'" ;;
    esac
    check_eq "table in its final shape" "$(q "$db" "$(op_finished_check "$fact")")" ok
    local sum_after
    sum_after=$(q "$db" "$(op_checksum_finished)")
    check_eq "checksum before = after finish" "$sum_after" "$sum_before"
    check_eq "row count" "$(q "$db" "SELECT count(*) FROM $T")" "$rows"
    [[ "$outcome" != BROKEN* && "$sum_after" == "$sum_before" ]] && CRASH_SURVIVED=$((CRASH_SURVIVED + 1))
    md crash "| finish waiting for its lock, $(_crash_label "$mode") | $rows rows | finish happened $outcome | — | 0 | finish | $([[ "$sum_after" == "$sum_before" ]] && echo equal || echo DIFFERENT) | ${recovery}s |"
    dropdb --if-exists "$db"
}

check_crash() {
    CRASH_SURVIVED=0 CRASH_TRIED=0 CRASH_DIVERGENT=0   # per operation
    md crash "### Crash recovery"
    md crash ""
    if ((!CAN_CRASH)); then
        md crash "Not run: $CRASH_WHY."
        figure "crashes survived" "not run: $CRASH_WHY"
        skip "crash recovery not run: $CRASH_WHY"
        return
    fi
    md crash "| crash | table | state after restart | resume | divergent rows | end | data checksum before/after | recovery |"
    md crash "|---|---|---|---|---|---|---|---|"
    crash_during_backfill kill finish
    crash_during_backfill immediate abort
    crash_during_begin kill
    crash_during_begin immediate
    crash_during_finish kill
    crash_during_finish immediate
    CUR="$OP/crash"
    md crash ""
    md crash "Crashes survived: **$CRASH_SURVIVED of $CRASH_TRIED**. Divergent rows after recovery: **$CRASH_DIVERGENT**."
    figure "crashes survived" "$CRASH_SURVIVED of $CRASH_TRIED (kill -9 and stop -m immediate, during backfill, begin and finish)"
    figure "divergent rows after recovery" "$CRASH_DIVERGENT"
    md crash "\"Survived\": after the restart zdm.status() matched the committed batches, the backfill resumed from the last committed key (its final rows_done equals the seed count, not more), the migration ended, and the md5 of the data equalled the one taken before begin."
}
