# test/reliability/checks/worker.sh — the background backfill
# (zdm.backfill_start) when its surroundings fail. Sourced by run.sh.
#
#   worker_case client|terminate|restart
#       client:    kill -9 the psql that called backfill_start, mid-walk: the
#                  worker goes on alone and completes; finish.
#       terminate: pg_terminate_backend of the worker mid-walk: status shows it
#                  interrupted, rows_done equals the committed position,
#                  backfill_start again resumes from there and completes; finish.
#       restart:   pg_ctlcluster stop -m immediate + start mid-walk: the same,
#                  then abort.
#   Each ends with no divergent rows (EXCEPT both ways), a final rows_done equal
#   to the row count (resumed, not restarted), and the data's md5 equal to the
#   one taken before begin.
#
# The walk is slowed by a pause (batch 500, 20 ms after each) so that it is
# caught mid-way; nothing is timed.

WORKER_SURVIVED=0
WORKER_TRIED=0

# _worker_field DB MIGRATION COLUMN: one column of zdm.migrations (the worker's
# outcome and pid are per migration).
_worker_field() {
    q "$1" "SELECT $3 FROM zdm.migrations WHERE name = $(ql "$2")" 2>/dev/null
}
_worker_running() { [[ "$(_worker_field "$1" "$2" backfill_worker)" == running ]]; }
_worker_ended() { [[ "$(_worker_field "$1" "$2" backfill_worker)" != running ]]; }
_worker_visible() {
    [[ "$(q "$1" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zdm backfill' AND datname = current_database()" 2>/dev/null)" -ge 1 ]]
}

worker_case() {
    local mode=$1 rows=$WORKER_ROWS batch=500 args="batch_size => 500, pause => '20ms'"
    CUR="$OP/worker-$mode"
    local db=rel_worker_$mode
    if [[ "$mode" == restart ]] && ((!CAN_CRASH)); then
        skip "cannot restart the cluster here: $CRASH_WHY"; return
    fi
    op_names plain t
    new_db "$db" || { fail "could not create $db"; return; }
    op_setup "$rows" | quiet_qin "$db" >/dev/null || { fail "setup failed"; return; }
    local sum_before shape_before fact mig
    sum_before=$(q "$db" "$(op_checksum_before)")
    shape_before=$(q "$db" "$(shape_sql "$T_LIT")")
    fact=$(q "$db" "$(op_remember)")
    mig=$(q "$db" "$(op_begin)") || { fail "begin failed"; return; }
    WORKER_TRIED=$((WORKER_TRIED + 1))

    # The client: starts the worker, then stays connected until killed.
    # client_connection_check_interval: its backend notices a dead client
    # within its pg_sleep, as a real client's would at its next statement.
    bg_sql client "$db" rel_worker_client <<SQL
SET client_min_messages = warning;
SET client_connection_check_interval = '100ms';
SELECT zdm.backfill_start($(ql "$mig"), $args);
SELECT pg_sleep(300);
SQL
    local seen=0
    _quarter() {
        seen=$(q "$db" "$(mig_status rows_done "$mig")" 2>/dev/null)
        [[ "${seen:-0}" -ge $((rows / 4)) ]]
    }
    if ! wait_until 60 _worker_visible "$db" || ! wait_until 120 _quarter; then
        fail "the worker made no progress: $(cat "$W/client.out")"
        kill "${BG[client]}" 2>/dev/null; bg_wait client; return
    fi
    local wpid what recovery=""
    wpid=$(_worker_field "$db" "$mig" backfill_pid)
    case "$mode" in
        client)
            what="kill -9 of the client that called backfill_start"
            kill -9 "${BG[client]}"; { bg_wait client; } 2>/dev/null
            if wait_until 30 bash -c "[ -z \"\$(psql -X -At -d '$db' -c \"SELECT 1 FROM pg_stat_activity WHERE application_name = 'rel_worker_client'\")\" ]"; then
                pass "the client's backend is gone"
            else
                fail "the client's backend outlived kill -9 of psql"
            fi
            seen=$(q "$db" "$(mig_status rows_done "$mig")")
            check_cmp "the worker was mid-walk when the client died" "${seen:-x}" -lt "$rows"
            check_eq "the worker still runs after its client died" \
                "$(q "$db" "SELECT worker || ' ' || (worker_pid = $wpid) FROM zdm.status() WHERE migration = $(ql "$mig") LIMIT 1")" "running true"
            ;;
        terminate)
            what="pg_terminate_backend of the worker"
            check_eq "pg_terminate_backend(worker)" "$(q "$db" "SELECT pg_terminate_backend($wpid)")" t
            wait_until 30 bash -c "! kill -0 $wpid 2>/dev/null" || fail "the worker outlived pg_terminate_backend"
            ;;
        restart)
            what="pg_ctlcluster stop -m immediate + start"
            recovery=$(crash_cluster) || { fail "the server did not come back"; bg_wait client; return; }
            recovery=" (back in ${recovery}s)"
            ;;
    esac
    if [[ -n "${BG[client]:-}" ]]; then kill "${BG[client]}" 2>/dev/null; bg_wait client; fi

    local status worker bstate rows_done prefix prefix_rows prefix_bad resumed_from=""
    if [[ "$mode" != client ]]; then
        # The worker is gone: status says so, and its committed batches stay.
        status=$(q "$db" "$(mig_status "worker, coalesce(worker_pid::text, 'none'), backfill, rows_done" "$mig")")
        IFS='|' read -r worker wpid_now bstate rows_done <<<"$status"
        check_eq "status().worker after the worker died" "$worker" interrupted
        check_eq "status().worker_pid after the worker died" "$wpid_now" none
        check_eq "status().backfill after the worker died" "$bstate" interrupted
        check_cmp "rows_done kept every batch seen committed" "${rows_done:-x}" -ge "$seen"
        check_cmp "rows_done is below the row count (caught mid-walk)" "${rows_done:-x}" -lt "$rows"
        prefix=$(q "$db" "$(op_committed_prefix "$mig")")
        IFS='|' read -r prefix_rows prefix_bad <<<"$prefix"
        check_eq "rows_done equals the rows up to the committed position" "$rows_done" "$prefix_rows"
        check_eq "every row up to the committed position is converted" "$prefix_bad" 0
        resumed_from=$rows_done
        local out
        out=$(quiet_q "$db" "SELECT zdm.backfill_start($(ql "$mig"), $args) > 0" 2>&1)
        check_eq "backfill_start again" "$out" t
    fi
    wait_until 120 _worker_ended "$db" "$mig" || fail "the worker did not end"
    status=$(q "$db" "$(mig_status "worker, backfill, rows_done" "$mig")")
    IFS='|' read -r worker bstate rows_done <<<"$status"
    check_eq "the worker completed" "$worker" done
    check_eq "status().backfill" "$bstate" done
    # Resumed, not restarted: every row visited exactly once overall.
    check_eq "final rows_done equals the row count" "$rows_done" "$rows"
    check_eq "row count equals the seed count" "$(q "$db" "SELECT count(*) FROM $T")" "$rows"
    local divergent
    divergent=$(q "$db" "$(op_divergence)")
    check_eq "no divergent rows (EXCEPT both ways)" "$divergent" 0

    local end sum_after out ok=1
    if [[ "$mode" == restart ]]; then
        end=abort
        out=$(q "$db" "SELECT zdm.abort($(ql "$mig"))" 2>&1) || { fail "abort failed: $out"; ok=0; }
        sum_after=$(q "$db" "$(op_checksum_aborted)")
        check_eq "data md5 before begin = after abort" "$sum_after" "$sum_before"
        local shape_after
        shape_after=$(q "$db" "$(shape_sql "$T_LIT")")
        if [[ -n "$shape_before" && "$shape_after" == "$shape_before" ]]; then pass "abort left the table's shape exactly as before begin"
        else fail "abort left a different shape: $(diff <(echo "$shape_before") <(echo "$shape_after") | tr '\n' ' ')"; ok=0; fi
    else
        end=finish
        out=$(zdm_finish "$db" "$mig" 2>&1) || { fail "finish failed: $out"; ok=0; }
        check_eq "table in its final shape" "$(q "$db" "$(op_finished_check "$fact")")" ok
        sum_after=$(q "$db" "$(op_checksum_finished)")
        check_eq "data md5 before begin = after finish" "$sum_after" "$sum_before"
    fi
    [[ "$ok" == 1 && "$sum_after" == "$sum_before" && "${divergent:-1}" == 0 && "$rows_done" == "$rows" ]] \
        && WORKER_SURVIVED=$((WORKER_SURVIVED + 1))
    local state_after="worker went on alone"
    [[ "$mode" != client ]] && state_after="interrupted at rows_done $resumed_from (= committed position); backfill_start resumed"
    md worker "| $what$recovery | $rows rows, batch $batch | $seen | $state_after | ${divergent:-?} | $end | $([[ "$sum_after" == "$sum_before" ]] && echo equal || echo DIFFERENT) |"
    dropdb --if-exists "$db"
}

check_worker() {
    WORKER_SURVIVED=0 WORKER_TRIED=0   # per operation
    WORKER_ROWS=${WORKER_ROWS:-20000}
    md worker "### Background backfill (zdm.backfill_start)"
    md worker ""
    md worker "| event mid-walk | table | rows_done seen before | then | divergent rows | end | data checksum before/after |"
    md worker "|---|---|---|---|---|---|---|"
    worker_case client
    worker_case terminate
    worker_case restart
    CUR="$OP/worker"
    md worker ""
    md worker "Background backfills that lost nothing: **$WORKER_SURVIVED of $WORKER_TRIED** (final rows_done = row count, no divergent rows, data md5 equal)."
    figure "background backfill survived" "$WORKER_SURVIVED of $WORKER_TRIED (client killed, worker terminated, server restarted mid-walk)"
}
