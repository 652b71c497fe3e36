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
    if [[ -z "${RUN_DDL_DONE:-}" ]]; then
        _check_run_ddl "$db"
        RUN_DDL_DONE=1
    fi
    dropdb --if-exists "$db"
}

# ---------------------------------------------- run_ddl never stalls readers (#11)
# A long reader holds ACCESS SHARE on a table; zdm.run_ddl('ALTER TABLE ...
# ADD COLUMN ...') waits for ACCESS EXCLUSIVE at most zdm.lock_timeout per try.
# Readers that start after it began must keep completing (each within
# RUN_DDL_READER_BOUND_MS: a bound, not a benchmark); run_ddl errors naming
# the reader when it never ends, and succeeds once it ends. The contrast: a
# plain ALTER TABLE without lock_timeout queues, and the next reader queues
# behind it for the long reader's whole duration. Not operation-specific:
# run once.
RUN_DDL_READER_BOUND_MS=2000

_rddl_read_ms() {   # _rddl_read_ms DB: one fresh session reads the table; prints its ms
    local t0=$EPOCHREALTIME
    PGAPPNAME=rel_rddl_probe PGOPTIONS="-c statement_timeout=60s" q "$1" "SELECT count(*) FROM rddl" >/dev/null 2>&1 || { echo 999999; return; }
    ms_since "$t0"
}

# _rddl_probe_while DB NAME: reads the table again and again while the
# background session NAME runs; sets RDDL_READS and RDDL_WORST_MS.
_rddl_probe_while() {
    local ms
    RDDL_READS=0 RDDL_WORST_MS=0
    while kill -0 "${BG[$2]}" 2>/dev/null; do
        ms=$(_rddl_read_ms "$1")
        RDDL_READS=$((RDDL_READS + 1))
        ((ms > RDDL_WORST_MS)) && RDDL_WORST_MS=$ms
        sleep 0.05
    done
}

_rddl_reader() {   # _rddl_reader NAME DB SECONDS
    bg_sql "$1" "$2" "rel_$1" <<SQL
BEGIN;
SELECT count(*) FROM rddl;
SELECT pg_sleep($3) /* zdm-long-reader */;
COMMIT;
SQL
    wait_until 30 holds_lock "$2" "rel_$1" "'rddl'"
}

_check_run_ddl() {
    local db=$1 out rpid t0 ms attempts
    CUR="$OP/locks-run-ddl"
    quiet_q "$db" "DROP TABLE IF EXISTS rddl; CREATE TABLE rddl (id int PRIMARY KEY, v int);
             INSERT INTO rddl SELECT g, g FROM generate_series(1, 10000) g" >/dev/null ||
        { fail "run_ddl: setup failed"; return; }
    md locks ""
    md locks "#### run_ddl behind a long reader"
    md locks ""
    md locks "A reader holds ACCESS SHARE on \`rddl\` (10000 rows) while \`zdm.run_ddl('ALTER TABLE rddl ADD COLUMN ...')\` waits for ACCESS EXCLUSIVE; fresh sessions read the table (\`SELECT count(*)\`) again and again meanwhile. Asserted: each of those reads completes within ${RUN_DDL_READER_BOUND_MS} ms."
    md locks ""
    md locks "| scenario | outcome | run_ddl attempts | reads during the wait | worst read |"
    md locks "|---|---|---|---|---|"

    # R1: the reader never ends: run_ddl gives up naming it, readers flow.
    _rddl_reader rddl_reader1 "$db" 120 || fail "run_ddl: the long reader did not get its lock"
    rpid=$(backend_pid "$db" rel_rddl_reader1)
    bg_sql rddl_ddl1 "$db" rel_rddl_ddl1 <<SQL
SET zdm.lock_retries = 8;
SELECT zdm.run_ddl('ALTER TABLE rddl ADD COLUMN c1 integer');
SQL
    wait_until 30 waits_for_lock "$db" rel_rddl_ddl1 || note "run_ddl was never seen waiting"
    _rddl_probe_while "$db" rddl_ddl1
    bg_wait rddl_ddl1
    out=$(cat "$W/rddl_ddl1.out")
    check_cmp "run_ddl behind a never-ending reader: reads started while it retried (count)" "$RDDL_READS" -ge 3
    check_cmp "run_ddl behind a never-ending reader: worst read (ms) below ${RUN_DDL_READER_BOUND_MS}" "$RDDL_WORST_MS" -lt "$RUN_DDL_READER_BOUND_MS"
    if [[ "$out" == *"could not lock"* && "$out" == *"pid $rpid"* && "$out" == *"zdm-long-reader"* ]]; then
        pass "run_ddl gave up after zdm.lock_retries = 8 with an error naming the reader's pid ($rpid) and query"
    else
        fail "run_ddl's error does not name the reader (pid $rpid, zdm-long-reader): $(head -3 <<<"$out" | tr '\n' ' ')"
    fi
    check_eq "the failed run_ddl changed nothing (no column c1)" "$(q "$db" "SELECT count(*) FROM pg_attribute WHERE attrelid = 'rddl'::regclass AND attname = 'c1'")" 0
    attempts=$(q "$db" "SELECT max(attempts) FROM zdm.ddl_log WHERE statement LIKE '%ADD COLUMN c1%'")
    md locks "| reader never ends, zdm.lock_retries = 8 | ERROR naming the reader's pid and query; nothing changed | ${attempts:-9} | $RDDL_READS | **${RDDL_WORST_MS} ms** |"
    q "$db" "SELECT pg_terminate_backend($rpid)" >/dev/null
    bg_wait rddl_reader1

    # R2: the reader ends after 3 s: run_ddl succeeds after retries, readers flow.
    _rddl_reader rddl_reader2 "$db" 3 || fail "run_ddl: the long reader did not get its lock"
    bg_sql rddl_ddl2 "$db" rel_rddl_ddl2 <<SQL
SELECT zdm.run_ddl('ALTER TABLE rddl ADD COLUMN c2 integer');
SQL
    wait_until 30 waits_for_lock "$db" rel_rddl_ddl2 || note "run_ddl was never seen waiting"
    _rddl_probe_while "$db" rddl_ddl2
    bg_wait rddl_ddl2 || fail "run_ddl failed although the reader ended: $(head -3 "$W/rddl_ddl2.out" | tr '\n' ' ')"
    bg_wait rddl_reader2
    check_cmp "run_ddl behind a 3 s reader: reads started while it retried (count)" "$RDDL_READS" -ge 3
    check_cmp "run_ddl behind a 3 s reader: worst read (ms) below ${RUN_DDL_READER_BOUND_MS}" "$RDDL_WORST_MS" -lt "$RUN_DDL_READER_BOUND_MS"
    check_eq "run_ddl succeeded once the reader ended (column c2 exists)" "$(q "$db" "SELECT count(*) FROM pg_attribute WHERE attrelid = 'rddl'::regclass AND attname = 'c2'")" 1
    attempts=$(q "$db" "SELECT max(attempts) FROM zdm.ddl_log WHERE statement LIKE '%ADD COLUMN c2%'")
    check_cmp "run_ddl waited for the reader and succeeded after retries (ddl_log attempts)" "${attempts:-0}" -gt 1
    md locks "| 3 s reader, ends in time | succeeded | ${attempts} | $RDDL_READS | **${RDDL_WORST_MS} ms** |"

    # Contrast: a plain ALTER TABLE without lock_timeout queues behind the
    # reader, and a reader started after it queues behind the ALTER.
    _rddl_reader rddl_reader3 "$db" 3 || fail "run_ddl: the long reader did not get its lock"
    bg_sql rddl_plain "$db" rel_rddl_plain <<SQL
SET lock_timeout = 0;
ALTER TABLE rddl ADD COLUMN c3 integer;
SQL
    wait_until 30 waits_for_lock "$db" rel_rddl_plain || fail "the plain ALTER TABLE was never seen waiting"
    t0=$EPOCHREALTIME
    bg_sql rddl_late "$db" rel_rddl_late <<SQL
SELECT count(*) FROM rddl;
SQL
    if wait_until 10 waits_for_lock "$db" rel_rddl_late; then
        pass "contrast: a reader started after a plain ALTER TABLE (lock_timeout = 0) queues behind it"
    else
        fail "contrast: the reader behind a plain ALTER TABLE was never seen waiting"
    fi
    bg_wait rddl_late
    ms=$(ms_since "$t0")
    bg_wait rddl_plain
    bg_wait rddl_reader3
    md locks "| contrast, no zdm: plain \`ALTER TABLE ... ADD COLUMN\` (lock_timeout = 0) behind a 3 s reader | queued for the reader's whole duration | 1 | 1 | ${ms} ms (waited) |"
    figure "worst read behind run_ddl's lock wait" "${RDDL_WORST_MS} ms (bound ${RUN_DDL_READER_BOUND_MS} ms; behind a plain ALTER TABLE: ${ms} ms)"
    q "$db" "DROP TABLE rddl" >/dev/null
}
