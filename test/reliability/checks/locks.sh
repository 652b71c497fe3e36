# test/reliability/checks/locks.sh — lock behaviour under a write load. Sourced by run.sh.
#
# pgbench runs a short write workload (4 clients, per-transaction log) while a
# long reader holds ACCESS SHARE on the table and begin/finish wait for their
# ACCESS EXCLUSIVE lock with the default zdm.lock_timeout:
#   A. the reader ends in time: begin and finish succeed after retries
#      (zdm.ddl_log shows attempts > 1);
#   B. it does not: with zdm.lock_retries = 5 begin and finish fail with an error
#      naming the reader's pid and query, and change nothing.
# In both, the worst pgbench latency must stay under 20 x lock_timeout + 1 s.
# (Were zdm to queue for the lock without a timeout, the writers would wait
# behind it for the reader's whole duration; a baseline run of a plain ALTER
# TABLE without lock_timeout shows that figure.) That bound is the one timing
# this harness asserts.

_lock_reader() {   # _lock_reader NAME DB SECONDS: a reader holding ACCESS SHARE on $T
    bg_sql "$1" "$2" "rel_$1" <<SQL
BEGIN;
SELECT count(*) FROM $T;
SELECT pg_sleep($3) /* zdm-long-reader */;
COMMIT;
SQL
    wait_until 30 holds_lock "$2" "rel_$1" "$T_LIT"
}

_pgbench_start() {   # _pgbench_start NAME DB SECONDS
    op_pgbench "$LOCK_ROWS" >"$W/$1.pgbench"
    rm -f "$W/$1.log".*
    pgbench -n -c 4 -j 2 -T "$3" -l --log-prefix="$W/$1.log" -f "$W/$1.pgbench" "$2" \
        >"$W/$1.pgbench.out" 2>&1 &
    BG[$1]=$!
}

# _pgbench_end NAME LABEL: waits for pgbench, checks that it had no errors, and
# sets PGB_STATS to "transactions max_ms p99_ms".
_pgbench_end() {
    local rc=0
    bg_wait "$1" || rc=$?
    if ((rc != 0)); then
        fail "pgbench ($2) exited with status $rc: $(grep -iE 'error|abort|fail' "$W/$1.pgbench.out" | head -3 | tr '\n' ' ')"
    else
        pass "pgbench ($2): no failed transaction or client error"
    fi
    PGB_STATS=$(pgbench_stats "$W/$1.log")
}

_lock_setting_ms() {   # the setting of a zdm GUC, in ms (or as is)
    printf "LOAD 'zdm';\nSELECT setting FROM pg_settings WHERE name = '%s';\n" "$2" | qin "$1"
}

check_locks() {
    CUR="$OP/locks"
    local db=rel_locks
    local reader_s dur
    reader_s=$((2 * LOCK_SCALE)).5
    dur=$((10 * LOCK_SCALE))
    new_db "$db" || { fail "could not create $db"; return; }
    local lt retries bound
    lt=$(_lock_setting_ms "$db" zdm.lock_timeout)
    retries=$(_lock_setting_ms "$db" zdm.lock_retries)
    bound=$((20 * ${lt:-100} + 1000))
    md locks "### Lock behaviour"
    md locks ""
    md locks "pgbench: 4 clients, 2 threads, \`-T $dur\`, 70% single-row UPDATEs and 30% INSERTs on the migrated table ($LOCK_ROWS rows), simple protocol; latencies from its per-transaction log (\`-l\`). A reader holds ACCESS SHARE on the table (\`BEGIN; SELECT count(*) ...; SELECT pg_sleep(...)\`) while zdm waits for ACCESS EXCLUSIVE. Defaults: zdm.lock_timeout = ${lt} ms, zdm.lock_retries = ${retries}. Bound on the worst latency: 20 × lock_timeout + 1 s = **${bound} ms** (the only asserted timing)."
    md locks ""
    md locks "| scenario | zdm step | outcome | attempts | step time | pgbench transactions | worst latency | p99 latency |"
    md locks "|---|---|---|---|---|---|---|---|"

    # ---------------------------------------------- A: the reader ends in time
    CUR="$OP/locks-reader-ends"
    op_names plain t
    op_setup "$LOCK_ROWS" | quiet_qin "$db" >/dev/null || { fail "setup failed"; return; }
    _pgbench_start pgb_a "$db" "$dur"
    sleep 1
    local t0 out begin_ms finish_ms mig a_begin a_finish
    _lock_reader reader1 "$db" "$reader_s" || fail "the reader did not get its lock"
    t0=$EPOCHREALTIME
    mig=$(quiet_q "$db" "$(op_begin)" 2>&1) || fail "begin failed behind a ${reader_s}s reader: $mig"
    begin_ms=$(ms_since "$t0")
    a_begin=$(q "$db" "SELECT max(attempts) FROM zdm.ddl_log WHERE phase = 'begin'")
    check_cmp "begin waited for the reader and succeeded after retries (ddl_log attempts)" "${a_begin:-0}" -gt 1
    bg_wait reader1
    out=$(quiet_q "$db" "CALL zdm.backfill()" 2>&1) || fail "backfill failed: $out"
    out=$(run_pending "$db" "$mig" 2>&1) || fail "the pending index builds failed: $out"
    _lock_reader reader2 "$db" "$reader_s" || fail "the second reader did not get its lock"
    t0=$EPOCHREALTIME
    out=$(q "$db" "SELECT zdm.finish($(ql "$mig"))" 2>&1) || fail "finish failed behind a ${reader_s}s reader: $out"
    finish_ms=$(ms_since "$t0")
    a_finish=$(q "$db" "SELECT max(attempts) FROM zdm.ddl_log WHERE phase = 'finish'")
    check_cmp "finish waited for the reader and succeeded after retries (ddl_log attempts)" "${a_finish:-0}" -gt 1
    bg_wait reader2
    local tx max p99
    _pgbench_end pgb_a "reader ends in time"
    read -r tx max p99 <<<"$PGB_STATS"
    check_cmp "worst pgbench latency (ms, rounded up) below 20 x lock_timeout + 1 s" "$(awk -v m="$max" 'BEGIN { printf "%d", m + 0.999 }')" -lt "$bound"
    check_cmp "pgbench ran transactions" "$tx" -gt 0
    md locks "| A: ${reader_s} s reader, ends in time | begin | succeeded | ${a_begin} | ${begin_ms} ms | $tx (whole run) | **${max} ms** | ${p99} ms |"
    md locks "| A: ${reader_s} s reader, ends in time | finish | succeeded | ${a_finish} | ${finish_ms} ms | (same run) | (same run) | |"
    LOCK_WORST=$max

    # ---------------------------------------------- B: the reader outlasts the budget
    CUR="$OP/locks-reader-outlasts"
    op_names plain t2
    op_setup "$LOCK_ROWS" | quiet_qin "$db" >/dev/null || { fail "setup failed"; return; }
    local shape_before rpid give_up_begin give_up_finish
    shape_before=$(q "$db" "$(shape_sql "$T_LIT")")
    _pgbench_start pgb_b "$db" "$dur"
    sleep 1
    _lock_reader reader3 "$db" 120 || fail "the reader did not get its lock"
    rpid=$(backend_pid "$db" rel_reader3)
    t0=$EPOCHREALTIME
    out=$(PGOPTIONS="-c zdm.lock_retries=5" q "$db" "$(op_begin)" 2>&1) && fail "begin succeeded although the reader holds its lock: $out"
    give_up_begin=$(ms_since "$t0")
    if [[ "$out" == *"pid $rpid"* && "$out" == *"zdm-long-reader"* ]]; then
        pass "begin gave up after zdm.lock_retries = 5 with an error naming the reader's pid ($rpid) and query"
    else
        fail "begin's error does not name the reader (pid $rpid, query with zdm-long-reader): $out"
    fi
    note "begin's error: $(echo "$out" | head -3 | tr '\n' ' ')"
    check_eq "nothing changed: no migration" "$(q "$db" "SELECT count(*) FROM zdm.operations WHERE tbl = $T_LIT::regclass")" 0
    [[ -n "$shape_before" && "$(q "$db" "$(shape_sql "$T_LIT")")" == "$shape_before" ]] && pass "nothing changed: table shape as before" || fail "the failed begin changed the table"
    q "$db" "SELECT pg_terminate_backend($rpid)" >/dev/null
    bg_wait reader3
    mig=$(quiet_q "$db" "$(op_begin)" 2>&1) || fail "begin failed once the reader was gone: $mig"
    out=$(quiet_q "$db" "CALL zdm.backfill()" 2>&1) || fail "backfill failed: $out"
    out=$(run_pending "$db" "$mig" 2>&1) || fail "the pending index builds failed: $out"
    _lock_reader reader4 "$db" 120 || fail "the reader did not get its lock"
    rpid=$(backend_pid "$db" rel_reader4)
    t0=$EPOCHREALTIME
    out=$(PGOPTIONS="-c zdm.lock_retries=5" q "$db" "SELECT zdm.finish($(ql "$mig"))" 2>&1) && fail "finish succeeded although the reader holds its lock"
    give_up_finish=$(ms_since "$t0")
    if [[ "$out" == *"pid $rpid"* && "$out" == *"zdm-long-reader"* ]]; then
        pass "finish gave up after zdm.lock_retries = 5 with an error naming the reader's pid ($rpid) and query"
    else
        fail "finish's error does not name the reader (pid $rpid): $out"
    fi
    check_eq "the migration is still active after the failed finish" "$(q "$db" "SELECT state FROM zdm.migrations WHERE name = $(ql "$mig")")" active
    q "$db" "SELECT pg_terminate_backend($rpid)" >/dev/null
    bg_wait reader4
    out=$(q "$db" "SELECT zdm.finish($(ql "$mig"))" 2>&1) && pass "finish succeeds once the reader is gone" || fail "finish failed once the reader was gone: $out"
    _pgbench_end pgb_b "reader outlasts the retries"
    read -r tx max p99 <<<"$PGB_STATS"
    check_cmp "worst pgbench latency (ms, rounded up) below 20 x lock_timeout + 1 s" "$(awk -v m="$max" 'BEGIN { printf "%d", m + 0.999 }')" -lt "$bound"
    md locks "| B: reader never ends, zdm.lock_retries = 5 | begin | ERROR naming the reader's pid and query; nothing changed | 6 | ${give_up_begin} ms to give up | $tx (whole run) | **${max} ms** | ${p99} ms |"
    md locks "| B: reader never ends, zdm.lock_retries = 5 | finish | ERROR naming the reader's pid and query; migration still active | 6 | ${give_up_finish} ms to give up | (same run) | (same run) | |"
    awk -v a="$max" -v b="${LOCK_WORST:-0}" 'BEGIN { exit !(a > b) }' && LOCK_WORST=$max

    # ---------------------------------------------- baseline without zdm (not asserted)
    # It does not depend on the operation: measured with the first one only.
    local base_s=$((4 * LOCK_SCALE))
    if [[ -z "${LOCK_BASELINE:-}" ]]; then
        CUR="$OP/locks-baseline"
        op_names plain t
        _pgbench_start pgb_c "$db" $((base_s + 3))
        sleep 1
        _lock_reader reader5 "$db" "$base_s" || true
        out=$(PGOPTIONS="-c lock_timeout=0" q "$db" "ALTER TABLE $T ADD COLUMN baseline_probe integer" 2>&1) || note "baseline ALTER failed: $out"
        bg_wait reader5
        q "$db" "ALTER TABLE $T DROP COLUMN IF EXISTS baseline_probe" >/dev/null 2>&1
        _pgbench_end pgb_c "baseline"
        read -r tx max p99 <<<"$PGB_STATS"
        note "baseline: plain ALTER TABLE queued behind a ${base_s}s reader: worst pgbench latency ${max} ms"
        LOCK_BASELINE="$tx $max $p99 $OP"
    fi
    local base_op
    read -r tx max p99 base_op <<<"$LOCK_BASELINE"
    md locks "| baseline, no zdm: plain \`ALTER TABLE ... ADD COLUMN\` (lock_timeout = 0) behind a ${base_s} s reader$([[ "$base_op" != "$OP" ]] && echo " (measured once, with $base_op)") | — | queued for the reader's whole duration | 1 | — | $tx | ${max} ms | ${p99} ms |"
    md locks ""
    figure "worst latency of other sessions behind a zdm lock wait" "${LOCK_WORST} ms (bound ${bound} ms; plain ALTER TABLE without lock_timeout: ${max} ms)"
    md locks "Worst latency of other sessions behind a zdm lock wait: **${LOCK_WORST} ms** (bound ${bound} ms). Without zdm's lock_timeout the same writers waited **${max} ms** behind the plain ALTER TABLE."
    dropdb --if-exists "$db"
}
