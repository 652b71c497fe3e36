# test/reliability/checks/hostile.sh — hostile input. Sourced by run.sh.
#
#  1. A schema `evil` first on search_path (SET search_path = evil, public,
#     pg_catalog) shadows built-in functions, aggregates and operators that zdm
#     might call, each raising 'shadow called'. Controls prove the trap is armed;
#     then the whole lifecycle (begin, writes, backfill by key and by ctid, in
#     and outside a transaction block, status, the error paths that build
#     messages with SQL, finish, and abort) runs with that path. None of it may
#     reach a shadow.
#  2. Identifiers and migration names made of quotes, semicolons and unicode:
#     the lifecycle works and no other object is touched. Error hints that
#     quote a migration name as SQL must quote it safely.
#  3. NULL for each argument of every function and procedure in schema zdm
#     (found in pg_proc), and a list of other bad inputs: each gets an ERROR
#     (NULL is allowed only where the argument's default is NULL, and for a
#     migration name, which the contract defines for NULL), zdm's
#     catalog and the table stay as they were, and the backend survives.

EVIL_PATH="-c search_path=evil,public,pg_catalog"
SHADOW_HITS=0

_evil_schema_sql() {
    local f
    echo "CREATE SCHEMA evil;"
    # name(args) returns: each raises 'shadow called: name'.
    while IFS='|' read -r sig ret; do
        [[ -z "$sig" ]] && continue
        echo "CREATE FUNCTION evil.$sig RETURNS $ret LANGUAGE plpgsql AS \$f\$BEGIN RAISE EXCEPTION 'shadow called: %', '${sig//\'/}'; END\$f\$;"
    done <<'EOF'
now()|timestamptz
clock_timestamp()|timestamptz
statement_timestamp()|timestamptz
hashtext(text)|integer
nextval(regclass)|bigint
setval(regclass, bigint)|bigint
currval(regclass)|bigint
quote_ident(text)|text
quote_literal(text)|text
quote_nullable(text)|text
lower(text)|text
upper(text)|text
length(text)|integer
"left"(text, integer)|text
format(text)|text
format(text, VARIADIC text[])|text
string_to_array(text, text)|text[]
array_to_string(anyarray, text)|text
current_setting(text)|text
set_config(text, text, boolean)|text
pg_relation_size(regclass)|bigint
date_trunc(text, interval)|interval
date_trunc(text, timestamptz)|timestamptz
format_type(oid, integer)|text
pg_has_role(oid, text)|boolean
pg_has_role(name, text)|boolean
has_table_privilege(oid, text)|boolean
pg_try_advisory_xact_lock(integer, integer)|boolean
pg_try_advisory_lock(integer, integer)|boolean
pg_advisory_unlock(integer, integer)|boolean
pg_advisory_xact_lock(bigint)|void
pg_backend_pid()|integer
pg_get_expr(pg_node_tree, oid)|text
pg_get_constraintdef(oid)|text
unnest(anyarray)|SETOF anyelement
generate_series(integer, integer)|SETOF integer
"text"(regclass)|text
EOF
    # Aggregates: the final function raises, so even an empty input reaches it.
    cat <<'SQL'
CREATE FUNCTION evil.agg_state(bigint) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';
CREATE FUNCTION evil.agg_state_any(bigint, anyelement) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';
CREATE FUNCTION evil.agg_state_text(text, text, text) RETURNS text LANGUAGE sql AS 'SELECT NULL::text';
CREATE FUNCTION evil.agg_boom(bigint) RETURNS bigint LANGUAGE plpgsql AS $f$BEGIN RAISE EXCEPTION 'shadow called: aggregate'; END$f$;
CREATE FUNCTION evil.agg_boom_text(text) RETURNS text LANGUAGE plpgsql AS $f$BEGIN RAISE EXCEPTION 'shadow called: string_agg'; END$f$;
CREATE AGGREGATE evil.count(*) (sfunc = evil.agg_state, stype = bigint, finalfunc = evil.agg_boom, initcond = '0');
CREATE AGGREGATE evil.count(anyelement) (sfunc = evil.agg_state_any, stype = bigint, finalfunc = evil.agg_boom, initcond = '0');
CREATE AGGREGATE evil.max(bigint) (sfunc = evil.agg_state_any, stype = bigint, finalfunc = evil.agg_boom, initcond = '0');
CREATE AGGREGATE evil.min(bigint) (sfunc = evil.agg_state_any, stype = bigint, finalfunc = evil.agg_boom, initcond = '0');
CREATE AGGREGATE evil.sum(bigint) (sfunc = evil.agg_state_any, stype = bigint, finalfunc = evil.agg_boom, initcond = '0');
CREATE AGGREGATE evil.string_agg(text, text) (sfunc = evil.agg_state_text, stype = text, finalfunc = evil.agg_boom_text);
SQL
    # Operators.
    local op types l r n=0
    for op in '=' '<>' '<' '>' '<=' '>='; do
        for types in 'text text' 'bigint bigint' 'integer integer' 'bigint integer' 'oid oid' 'name name' 'name text' 'text name' 'tid tid' 'boolean boolean' 'smallint smallint' 'regclass regclass'; do
            read -r l r <<<"$types"
            n=$((n + 1))
            echo "CREATE FUNCTION evil.op_$n($l, $r) RETURNS boolean LANGUAGE plpgsql AS \$f\$BEGIN RAISE EXCEPTION 'shadow called: operator $op ($l, $r)'; END\$f\$;"
            echo "CREATE OPERATOR evil.$op (LEFTARG = $l, RIGHTARG = $r, FUNCTION = evil.op_$n);"
        done
    done
    for types in 'text text|text' 'bigint bigint|bigint' 'integer integer|integer'; do
        for op in '||' '&' '+' '-'; do
            [[ "$op" == '||' && "$types" != text* ]] && continue
            [[ "$op" != '||' && "$types" == text* ]] && continue
            read -r l r <<<"${types%%|*}"
            n=$((n + 1))
            echo "CREATE FUNCTION evil.op_$n($l, $r) RETURNS ${types##*|} LANGUAGE plpgsql AS \$f\$BEGIN RAISE EXCEPTION 'shadow called: operator $op ($l, $r)'; END\$f\$;"
            echo "CREATE OPERATOR evil.$op (LEFTARG = $l, RIGHTARG = $r, FUNCTION = evil.op_$n);"
        done
    done
}

# hq SQL [EXTRA_PGOPTIONS]: runs SQL with the evil search_path; sets HQ_OUT, HQ_RC.
hq() {
    HQ_OUT=$(PGOPTIONS="${PGOPTIONS:-} $EVIL_PATH ${2:-}" psql -X -q -At -v VERBOSITY=verbose -d "$HDB" -c "$1" 2>&1)
    HQ_RC=$?
    if [[ "$HQ_OUT" == *"shadow called"* ]]; then
        SHADOW_HITS=$((SHADOW_HITS + 1))
    fi
}
_first_error() { grep -m1 -E '^(psql:[^ ]* )?ERROR:' <<<"$1" | sed -E 's/^psql:[^ ]* //; s/ERROR: +//'; }

# hok LABEL SQL [EXTRA]: must succeed without reaching a shadow.
hok() {
    hq "$2" "${3:-}"
    if [[ "$HQ_OUT" == *"shadow called"* ]]; then fail "$1 reached a shadow: $(_first_error "$HQ_OUT")"
    elif ((HQ_RC != 0)) || [[ "$HQ_OUT" == *ERROR:* ]]; then fail "$1 failed: $(_first_error "$HQ_OUT")"
    else pass "$1"; fi
}
# herr LABEL SQL REGEX [EXTRA]: must fail with an error matching REGEX, without a shadow.
herr() {
    hq "$2" "${4:-}"
    if [[ "$HQ_OUT" == *"shadow called"* ]]; then fail "$1 reached a shadow: $(_first_error "$HQ_OUT")"
    elif [[ "$HQ_OUT" != *ERROR:* ]]; then fail "$1 did not fail: $HQ_OUT"
    elif ! grep -qiE "$3" <<<"$HQ_OUT"; then fail "$1 failed with an unexpected error: $(_first_error "$HQ_OUT")"
    else pass "$1 ($(_first_error "$HQ_OUT" | cut -c1-110))"; fi
}

_hostile_evil() {
    CUR="$OP/hostile-search-path"
    local out
    _evil_schema_sql | quiet_qin "$HDB" >/dev/null || { fail "could not create the evil schema"; return; }
    local nfun nop
    nfun=$(q "$HDB" "SELECT count(*) FROM pg_proc WHERE pronamespace = 'evil'::regnamespace AND proname NOT LIKE 'op\_%' AND proname NOT LIKE 'agg\_%'")
    nop=$(q "$HDB" "SELECT count(*) FROM pg_operator WHERE oprnamespace = 'evil'::regnamespace")
    op_names plain t
    op_setup 3000 | quiet_qin "$HDB" >/dev/null || { fail "setup failed"; return; }
    q "$HDB" "CREATE TABLE victim (id int PRIMARY KEY, note text); INSERT INTO victim SELECT g, 'v' || g FROM generate_series(1, 3) g" >/dev/null

    # Controls: the trap is armed.
    local armed=0 c
    for c in "SELECT count(*) FROM t" "SELECT now()" "SELECT 'a'::text = 'b'::text" "SELECT 1::bigint <= 2::bigint" "SELECT quote_ident('x')" "SELECT string_agg(first_name, ',') FROM t"; do
        hq "$c"
        [[ "$HQ_OUT" == *"shadow called"* ]] && armed=$((armed + 1))
    done
    SHADOW_HITS=0
    check_eq "control: naive queries under the evil search_path reach the shadows" "$armed" 6

    local sum_before fact m1
    sum_before=$(q "$HDB" "$(op_checksum_before)")
    fact=$(q "$HDB" "$(op_remember)")
    m1="x'); DROP TABLE t; --"
    # (NOTICEs, e.g. of index builds to run, are not part of the name.)
    hok "begin under the evil search_path (migration name $m1)" "$(op_begin "$m1")" "-c client_min_messages=warning"
    check_eq "begin returned the migration name verbatim" "$HQ_OUT" "$m1"
    hok "old-side insert" "$(op_write_old 100001 "o'ld; --")"
    hok "new-side insert" "$(op_write_new 100002 'né"w')"
    hok "old-side update" "$(op_update_old 1 "upd'old")"
    hok "new-side update" "$(op_update_new 2 'upd"new')"
    check_eq "old-side write reached the new side" "$(q "$HDB" "$(op_read 100001)")" "$(op_read_want "o'ld; --")"
    check_eq "new-side write reached the old side" "$(q "$HDB" "$(op_read 100002)")" "$(op_read_want 'né"w')"
    hok "zdm.status()" "SELECT * FROM zdm.status()"
    # What a migration tool runs top level before finish (CREATE INDEX CONCURRENTLY).
    local npending
    npending=$(q "$HDB" "SELECT count(*) FROM zdm.pending_statements($(ql "$m1"))")
    out=$(run_pending "$HDB" "$m1" "$EVIL_PATH" 2>&1)
    if [[ "$out" == *"shadow called"* ]]; then
        SHADOW_HITS=$((SHADOW_HITS + 1)); fail "zdm.pending_statements() or a statement it lists reached a shadow: $(_first_error "$out")"
    elif [[ "$out" == *ERROR:* ]]; then fail "the statements zdm.pending_statements() lists failed: $(_first_error "$out")"
    else pass "zdm.pending_statements() and the $npending statement(s) it lists, run top level"; fi
    herr "finish before the backfill (error path)" "SELECT zdm.finish($(ql "$m1"))" "backfill is not complete"
    herr "finish of an unknown migration (lists the active ones)" "SELECT zdm.finish('no such migration')" "does not exist"

    # The "busy" path: another session is backfilling this migration.
    bg_sql hbackfill "$HDB" rel_hbackfill <<SQL
SET client_min_messages = warning;
CALL zdm.backfill($(ql "$m1"), batch_size => 20, pause => '100 ms');
SQL
    _hb_started() { [[ "$(q "$HDB" "$(mig_status rows_done "$m1")")" -gt 0 ]]; }
    if wait_until 30 _hb_started; then
        # Refused either way: busy while a batch holds the migration, else not complete.
        herr "finish while another session backfills (busy path)" "SELECT zdm.finish($(ql "$m1"))" "busy|backfill is not complete"
    else
        fail "the background backfill did not start: $(cat "$W/hbackfill.out")"
    fi
    q "$HDB" "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'rel_hbackfill'" >/dev/null
    bg_wait hbackfill

    # The lock-failure path: a reader holds the table, one retry only.
    bg_sql hblocker "$HDB" rel_hblocker <<SQL
BEGIN;
LOCK TABLE $T IN ACCESS SHARE MODE;
SELECT pg_sleep(60);
SQL
    if wait_until 30 holds_lock "$HDB" rel_hblocker "$T_LIT"; then
        hok "backfill resumes under the evil search_path" "CALL zdm.backfill($(ql "$m1"), batch_size => 300)"
        herr "finish that cannot get its lock (error path naming the blockers)" "SELECT zdm.finish($(ql "$m1"))" "could not lock" "-c zdm.lock_retries=1"
    else
        fail "the blocker did not get its lock"
    fi
    q "$HDB" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rel_hblocker'" >/dev/null
    bg_wait hblocker
    check_eq "no divergent rows before finish" "$(q "$HDB" "$(op_divergence)")" 0
    hok "finish under the evil search_path" "SELECT zdm.finish($(ql "$m1"))"
    check_eq "final shape after finish" "$(q "$HDB" "$(op_finished_check "$fact")")" ok
    check_eq "table t survived its migration named '$m1'" "$(q "$HDB" "SELECT count(*) FROM t WHERE id <= 3000")" 3000

    # Abort, on a table without a key (ctid walk), backfill in a transaction block.
    op_names plain t_nokey
    op_setup 3000 nokey | quiet_qin "$HDB" >/dev/null || { fail "setup of t_nokey failed"; return; }
    local shape_nokey sum_window m2="évasion 🚀 \"; --"
    shape_nokey=$(q "$HDB" "$(shape_sql "$T_LIT")")
    hok "begin on a table without a key (migration name $m2)" "$(op_begin "$m2")"
    hok "writes on t_nokey" "$(op_write_old 90001 x); $(op_update_new 5 y)"
    hok "backfill by ctid ranges inside a transaction block" "BEGIN; CALL zdm.backfill($(ql "$m2"), batch_size => 500); COMMIT;"
    check_eq "t_nokey: no divergent rows" "$(q "$HDB" "$(op_divergence)")" 0
    sum_window=$(q "$HDB" "$(op_checksum_aborted)")
    hok "abort under the evil search_path" "SELECT zdm.abort($(ql "$m2"))"
    [[ -n "$shape_nokey" && "$(q "$HDB" "$(shape_sql "$T_LIT")")" == "$shape_nokey" ]] \
        && pass "abort left t_nokey's shape exactly as before" || fail "abort changed t_nokey's shape"
    check_eq "t_nokey: abort kept the data of the window" "$(q "$HDB" "$(op_checksum_aborted)")" "$sum_window"
    check_eq "victim table untouched" "$(q "$HDB" "SELECT count(*) FROM victim")" 3
    check_eq "no zdm call reached a shadow (statements that did)" "$SHADOW_HITS" 0
    figure "zdm calls reaching a shadowing function or operator" "$SHADOW_HITS (search_path evil, public, pg_catalog; $nfun functions, $nop operators)"
    md hostile "- **Shadowing search_path** \`evil, public, pg_catalog\`: $nfun functions and aggregates and $nop operators in schema \`evil\` shadow built-ins (now, clock_timestamp, hashtext, nextval, quote_ident, format, left, string_to_array, format_type, pg_has_role, advisory locks, unnest, count(*), string_agg, max, =, <>, <, <=, >, >=, ||, &, +, - on text, bigint, integer, oid, name, tid, ...). Controls: $armed of 6 naive queries hit a shadow. zdm calls that hit one: **$SHADOW_HITS** (begin, old/new writes, status, backfill by key and by ctid inside a transaction block, the error paths for 'backfill not complete', unknown migration, busy migration and lock failure, finish, abort)."
}

_hostile_weird() {
    CUR="$OP/hostile-identifiers"
    local tables_before out
    tables_before=$(q "$HDB" "SELECT array_agg(oid ORDER BY oid) FROM pg_class WHERE relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace)")
    op_names weird
    op_setup 2000 | quiet_qin "$HDB" >/dev/null || { fail "setup of the weird table failed"; return; }
    local sum_before fact m3="x'); DROP TABLE victim; --\"é"
    sum_before=$(q "$HDB" "$(op_checksum_before)")
    fact=$(q "$HDB" "$(op_remember)")
    out=$(quiet_q "$HDB" "$(op_begin "$m3")" 2>&1)
    check_eq "begin on $T, columns $O -> $N, returns the migration name" "$out" "$m3"
    out=$(try "$HDB" "SELECT zdm.finish($(ql "$m3"))")
    local hint
    hint=$(grep -m1 '^HINT:' <<<"$out")
    if [[ "$hint" == *"zdm.backfill('$m3')"* ]]; then
        fail "the HINT of 'finish before backfill' pastes the migration name into SQL unquoted; run as printed it executes the injected statement: $hint"
    else
        pass "error hints quote the migration name safely ($hint)"
    fi
    out=$(q "$HDB" "$(op_write_old 5001 "w'1"); $(op_write_new 5002 'w"2')" 2>&1) || fail "writes failed: $out"
    check_eq "writes from both sides" "$(q "$HDB" "$(op_read 5001)");$(q "$HDB" "$(op_read 5002)")" "$(op_read_want "w'1");$(op_read_want 'w"2')"
    out=$(quiet_q "$HDB" "CALL zdm.backfill($(ql "$m3"), batch_size => 300)" 2>&1) && pass "backfill" || fail "backfill failed: $out"
    check_eq "status shows the migration by its name" "$(q "$HDB" "$(mig_status backfill "$m3")")" done
    check_eq "no divergent rows" "$(q "$HDB" "$(op_divergence)")" 0
    out=$(zdm_finish "$HDB" "$m3" 2>&1) && pass "finish" || fail "finish failed: $out"
    check_eq "final shape" "$(q "$HDB" "$(op_finished_check "$fact")")" ok
    q "$HDB" "DELETE FROM $T WHERE id IN (5001, 5002)" >/dev/null
    check_eq "data as before" "$(q "$HDB" "$(op_checksum_finished)")" "$sum_before"

    # Abort, under the evil search_path, on a second weird table.
    op_names weird " 2"
    op_setup 2000 | quiet_qin "$HDB" >/dev/null || { fail "setup of the second weird table failed"; return; }
    local shape_before m4="ünï'cødé \"🚀\" ; SELECT 1; --"
    shape_before=$(q "$HDB" "$(shape_sql "$T_LIT")")
    sum_before=$(q "$HDB" "$(op_checksum_before)")
    hok "begin on $T (evil search_path)" "$(op_begin "$m4")" "-c client_min_messages=warning"
    check_eq "begin returned the migration name verbatim" "$HQ_OUT" "$m4"
    hok "backfill (evil search_path)" "CALL zdm.backfill($(ql "$m4"), batch_size => 700)"
    hok "abort (evil search_path)" "SELECT zdm.abort($(ql "$m4"))"
    [[ -n "$shape_before" && "$(q "$HDB" "$(shape_sql "$T_LIT")")" == "$shape_before" ]] \
        && pass "abort left the table exactly as before" || fail "abort changed the table's shape"
    check_eq "data as before" "$(q "$HDB" "$(op_checksum_aborted)")" "$sum_before"

    local tables_gone
    tables_gone=$(q "$HDB" "SELECT count(*) FROM unnest($(ql "$tables_before")::oid[]) r WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = r)")
    check_eq "victim table untouched" "$(q "$HDB" "SELECT count(*) FROM victim")" 3
    check_eq "no relation that existed before disappeared" "$tables_gone" 0
    check_eq "migration names stored verbatim" "$(q "$HDB" "SELECT count(*) FROM zdm.migrations WHERE name IN ($(ql "$m3"), $(ql "$m4"))")" 2
    md hostile "- **Identifiers**: schema \`$OP_SCHEMA\`, tables \`${OP_TABLE% 2}\` (finish) and \`$OP_TABLE\` (abort), columns \`$OP_OLD\` → \`$OP_NEW\`; migration names \`$m3\` (finish), \`$m4\` (abort, evil search_path), \`x'); DROP TABLE t; --\` and \`évasion 🚀 \"; --\` (above). Lifecycles completed; no other relation touched."
}

# _alive_script SQL: SQL wrapped so that its output tells whether the backend
# survived (same pid before and after) and what changed in zdm's catalog.
_state_expr() {
    echo "(SELECT md5(coalesce((SELECT string_agg(m.name || m.state, ';' ORDER BY m.name) FROM zdm.migrations m), '')
           || coalesce((SELECT string_agg(o.id || o.backfill_state || o.rows_done, ';' ORDER BY o.id) FROM zdm.operations o), '')
           || coalesce(($(shape_sql "$T_LIT")), '')))"
}
# zdm calls leave the caller's session as it was: its settings (search_path,
# lock_timeout, statement_timeout) after every call, including calls that fail,
# backfill with its commits, and errors caught by a PL/pgSQL EXCEPTION block
# (1000 of them: the backend's memory must not grow).
_hostile_session() {
    CUR="$OP/hostile-session"
    op_names plain t_session
    op_setup 1000 | quiet_qin "$HDB" >/dev/null || { fail "setup failed"; return; }
    local show="SELECT 'settings ' OPERATOR(pg_catalog.||) pg_catalog.current_setting('search_path') OPERATOR(pg_catalog.||) ' / ' OPERATOR(pg_catalog.||) pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.||) ' / ' OPERATOR(pg_catalog.||) pg_catalog.current_setting('statement_timeout');"
    local mem="SELECT 'memory ' OPERATOR(pg_catalog.||) pg_catalog.sum(total_bytes)::text FROM pg_catalog.pg_backend_memory_contexts;"
    # Per memory context, to say which one grew when the leak check fails.
    local ctx="SELECT 'contexts ' OPERATOR(pg_catalog.||) pg_catalog.string_agg(pg_catalog.replace(name, ' ', '_') OPERATOR(pg_catalog.||) '=' OPERATOR(pg_catalog.||) b::text, ' ') FROM (SELECT name, pg_catalog.sum(total_bytes) AS b FROM pg_catalog.pg_backend_memory_contexts GROUP BY name) s;"
    local script
    script=$(cat <<SQL
SET lock_timeout = '7s';
SET statement_timeout = '5min';
$show
$(op_begin sess_mig);
$show
SELECT zdm.finish('sess_mig');
$show
CALL zdm.backfill('sess_mig', batch_size => 100);
$show
BEGIN;
CALL zdm.backfill('sess_mig');
$show
SELECT zdm.begin_rename($T_LIT, 'no_such_column', 'x');
ROLLBACK;
$show
-- Warm-up: the first errors load catalog and relation caches that stay for
-- the life of the backend (one new 1 MB CacheMemoryContext block when they
-- cross a block boundary); the leak check measures the 1000 errors after it.
DO \$\$BEGIN FOR i IN 1..50 LOOP BEGIN PERFORM zdm.finish('no such migration'); EXCEPTION WHEN others THEN NULL; END; END LOOP; END\$\$;
DO \$\$BEGIN FOR i IN 1..50 LOOP BEGIN PERFORM zdm.begin_rename($T_LIT, 'no_such_column', 'x'); EXCEPTION WHEN others THEN NULL; END; END LOOP; END\$\$;
$ctx
$mem
DO \$\$BEGIN FOR i IN 1..500 LOOP BEGIN PERFORM zdm.finish('no such migration'); EXCEPTION WHEN others THEN NULL; END; END LOOP; END\$\$;
$mem
DO \$\$BEGIN FOR i IN 1..500 LOOP BEGIN PERFORM zdm.begin_rename($T_LIT, 'no_such_column', 'x'); EXCEPTION WHEN others THEN NULL; END; END LOOP; END\$\$;
$mem
$ctx
$show
SELECT * FROM zdm.pending_statements('sess_mig') \\gexec
SELECT zdm.finish('sess_mig');
$show
SELECT DISTINCT 'status ' OPERATOR(pg_catalog.||) state FROM zdm.status() WHERE migration OPERATOR(pg_catalog.=) 'sess_mig';
SQL
)
    local out
    out=$(PGOPTIONS="${PGOPTIONS:-} $EVIL_PATH -c client_min_messages=warning" psql -X -q -At -d "$HDB" -f <(printf '%s\n' "$script") 2>&1)
    [[ "$out" == *"shadow called"* ]] && { SHADOW_HITS=$((SHADOW_HITS + 1)); fail "a call reached a shadow: $(_first_error "$out")"; }
    local settings distinct
    settings=$(grep '^settings ' <<<"$out")
    distinct=$(sort -u <<<"$settings" | wc -l)
    if [[ $(wc -l <<<"$settings") -eq 8 && "$distinct" -eq 1 ]]; then
        pass "the session's settings are unchanged after every zdm call, failed or not ($(head -1 <<<"$settings"))"
    else
        fail "the session's settings changed across zdm calls: $(tr '\n' ';' <<<"$settings")"
    fi
    check_eq "the session is usable after 1000 errors caught by EXCEPTION blocks (finish succeeds)" "$(grep '^status ' <<<"$out")" "status finished"
    local m0 m1 m2
    read -r m0 m1 m2 <<<"$(grep '^memory ' <<<"$out" | awk '{ printf "%s ", $2 }')"
    if [[ -n "$m2" ]]; then
        check_cmp "backend memory growth over 1000 caught zdm errors, bytes (leak check)" $((m2 - m0)) -lt 262144
        if (( m2 - m0 >= 262144 )); then
            # Which contexts grew, largest first.
            echo "    contexts that grew: $(grep '^contexts ' <<<"$out" | awk '
                NR == 1 { for (i = 2; i <= NF; i++) { split($i, kv, "="); before[kv[1]] = kv[2] } }
                NR == 2 { for (i = 2; i <= NF; i++) { split($i, kv, "="); d = kv[2] - before[kv[1]];
                          if (d > 0) printf "%s +%d; ", kv[1], d } }')"
        fi
        md hostile "- **Session hygiene**: search_path, lock_timeout and statement_timeout unchanged after every call (begin, a refused finish, backfill with its commits, backfill inside a transaction block, a failed begin rolled back). 1000 zdm errors caught by PL/pgSQL EXCEPTION blocks: backend memory $m0 → $m1 → $m2 bytes; the session stayed usable."
    else
        fail "the memory probe did not run: $(_first_error "$out")"
    fi
}

# Bad inputs run in batches, in one session: per input, the backend's pid and
# zdm's state before and after, and the error (psql's ERROR, SQLSTATE and
# LAST_ERROR_MESSAGE variables). A crash ends the session: the input that
# caused it has no "after" line and the rest of the batch is not run.
BAD_TRIED=0
BAD_CRASHES=0
BAD_Q=()   # queued: kind<US>label<US>sql<US>null_ok
_bad_row() {   # _bad_row KIND LABEL SQL [NULL_OK]: queues one bad input
    BAD_Q+=("$1"$'\x1f'"$2"$'\x1f'"$3"$'\x1f'"${4:-no}")
}
_bad_flush() {
    ((${#BAD_Q[@]})) || return 0
    local script="" i kind label sql null_ok state
    state=$(_state_expr | tr '\n' ' ')
    for ((i = 0; i < ${#BAD_Q[@]}; i++)); do
        IFS=$'\x1f' read -r kind label sql null_ok <<<"${BAD_Q[i]}"
        script+="\\echo ==case $i
SELECT 'pid-before ' || pg_backend_pid(), 'state-before ' || $state;
$sql;
\\echo ==result :ERROR :SQLSTATE :'LAST_ERROR_MESSAGE'
ROLLBACK;
SELECT 'pid-after ' || pg_backend_pid(), 'state-after ' || $state;
"
    done
    local out
    out=$(psql -X -q -At -d "$HDB" -c "SET client_min_messages = warning" -f <(printf '%s\n' "$script") 2>"$W/bad_inputs.err")
    for ((i = 0; i < ${#BAD_Q[@]}; i++)); do
        IFS=$'\x1f' read -r kind label sql null_ok <<<"${BAD_Q[i]}"
        BAD_TRIED=$((BAD_TRIED + 1))
        local block pb pa sb sa res err="" sqlstate="" verdict=ok why=""
        block=$(awk -v a="==case $i" -v b="==case $((i + 1))" '$0 == a { on = 1; next } $0 == b { on = 0 } on' <<<"$out")
        pb=$(grep -m1 -oE 'pid-before [0-9]+' <<<"$block"); pa=$(grep -m1 -oE 'pid-after [0-9]+' <<<"$block")
        sb=$(grep -m1 -oE 'state-before [0-9a-f]+' <<<"$block"); sa=$(grep -m1 -oE 'state-after [0-9a-f]+' <<<"$block")
        res=$(grep -m1 '^==result ' <<<"$block")
        if [[ "$res" == "==result true "* ]]; then
            sqlstate=$(awk '{ print $3 }' <<<"$res")
            local msg=${res#==result true $sqlstate }
            [[ "$msg" == \'*\' ]] && msg=${msg:1:${#msg}-2}
            err="$sqlstate: ${msg//\'\'/\'}"
        fi
        if [[ -z "$pb" ]]; then verdict=bad; why="not run: the session was lost before it"
        elif [[ -z "$pa" || "${pb#pid-before }" != "${pa#pid-after }" ]]; then
            verdict=bad; why="the backend did not survive"; BAD_CRASHES=$((BAD_CRASHES + 1))
        elif [[ -z "$err" && "$null_ok" != yes ]]; then verdict=bad; why="no ERROR"
        elif [[ "$sqlstate" == XX000 ]]; then verdict=bad; why="internal error (XX000)"
        elif [[ -z "$sb" || "${sb#state-before }" != "${sa#state-after }" ]]; then verdict=bad; why="zdm's catalog or the table changed"
        fi
        local shown=${err:-"(no error: NULL is a valid value here)"}
        if [[ "$verdict" == ok ]]; then pass "$kind: $label → ${shown:0:120}"
        else fail "$kind: $label ($sql) → $why: ${err:-${block//$'\n'/ }}"; fi
        md hostile_inputs "| $kind | $label | \`${sql//|/\\|}\` | ${shown//|/\\|} | $([[ "$verdict" == ok ]] && echo ok || echo "**$why**") |"
    done
    BAD_Q=()
}

_hostile_inputs() {
    CUR="$OP/hostile-null-args"
    local crashes_before
    crashes_before=$( ((CAN_CRASH)) && crash_count || echo 0)
    op_names plain nt
    op_setup 200 | quiet_qin "$HDB" >/dev/null || { fail "setup failed"; return; }
    op_bad_fixtures | quiet_qin "$HDB" >/dev/null || { fail "fixtures failed"; return; }
    md hostile_inputs "| kind | input | SQL | ERROR (SQLSTATE: message) | verdict |"
    md hostile_inputs "|---|---|---|---|---|"
    CUR="$OP/hostile-bad-inputs"
    local label sql
    while IFS=$'\t' read -r label sql; do
        [[ -z "$label" ]] && continue
        _bad_row "bad input" "$label" "BEGIN; $sql"
    done < <(op_bad_inputs)
    _bad_flush

    # NULL arguments, with a migration open on the table.
    CUR="$OP/hostile-null-args"
    local mig=null_mig
    q "$HDB" "$(op_begin "$mig")" >/dev/null || { fail "begin failed"; return; }
    # Every function and procedure of schema zdm, from pg_proc.
    local rows
    rows=$(q "$HDB" "SELECT p.proname, p.prokind, coalesce((SELECT string_agg(coalesce(p.proargnames[a.ord], '\$' || a.ord) || ':' || format_type(a.typ, NULL) || ':'
                 || CASE WHEN a.ord > p.pronargs - p.pronargdefaults
                         AND (regexp_split_to_array(pg_get_expr(p.proargdefaults, 0), ', '))[a.ord - (p.pronargs - p.pronargdefaults)] LIKE 'NULL%'
                    THEN 'nullok'
                    -- The contract: a NULL migration means the only open one (begin_*: a generated name).
                    WHEN p.proargnames[a.ord] = 'migration' THEN 'nullok'
                    ELSE 'required' END, ',' ORDER BY a.ord)
              FROM unnest(p.proargtypes) WITH ORDINALITY a(typ, ord)), '')
       FROM pg_proc p WHERE p.pronamespace = 'zdm'::regnamespace ORDER BY 1, 3")
    local nfuncs=0 name kind args
    while IFS='|' read -r name kind args; do
        [[ -z "$name" ]] && continue
        nfuncs=$((nfuncs + 1))
        local verb=SELECT
        [[ "$kind" == p ]] && verb=CALL
        if [[ -z "$args" ]]; then
            [[ "$name" == status || "$name" == trigger_cache_size ]] && continue   # no arguments, nothing to pass NULL to
            _bad_row "no arguments" "zdm.$name()" "BEGIN; $verb zdm.$name()"
            continue
        fi
        local -a specs=()
        IFS=',' read -r -a specs <<<"$args"
        local all_null="" all_ok=yes i j v an at nul
        for ((i = 0; i < ${#specs[@]}; i++)); do
            IFS=':' read -r an at nul <<<"${specs[i]}"
            all_null+="${all_null:+, }NULL::$at"
            [[ "$nul" == nullok ]] || all_ok=no
        done
        ((${#specs[@]} > 1)) && _bad_row "NULL arguments" "zdm.$name: all NULL" "BEGIN; $verb zdm.$name($all_null)" "$all_ok"
        for ((i = 0; i < ${#specs[@]}; i++)); do
            local call=""
            IFS=':' read -r an at nul <<<"${specs[i]}"
            for ((j = 0; j < ${#specs[@]}; j++)); do
                local bn bt _x
                IFS=':' read -r bn bt _x <<<"${specs[j]}"
                if ((i == j)); then v="NULL::$bt"
                elif v=$(op_arg_value "$bn"); then v="$v::$bt"
                else
                    case "$bn:$bt" in
                        migration:*) v="$(ql "$mig")::$bt" ;;
                        batch_size:*) v="10::$bt" ;;
                        pause:*) v="'0'::$bt" ;;
                        # 1 row/s would make backfill walk the table for minutes.
                        max_rate:*) v="100000::$bt" ;;
                        *:text|*:name) v="'x'::$bt" ;;
                        *:regclass) v="$T_LIT::$bt" ;;
                        *:integer|*:bigint) v="1::$bt" ;;
                        *:boolean) v="false" ;;
                        *:interval) v="'0'::$bt" ;;
                        *) v="NULL::$bt" ;;
                    esac
                fi
                call+="${call:+, }$v"
            done
            _bad_row "NULL arguments" "zdm.$name: $an NULL" "BEGIN; $verb zdm.$name($call)" "$([[ "$nul" == nullok ]] && echo yes || echo no)"
        done
    done <<<"$rows"
    _bad_flush

    CUR="$OP/hostile-bad-inputs"
    # With the migration open on the table.
    while IFS=$'\t' read -r label sql; do
        [[ -z "$label" ]] && continue
        _bad_row "bad input, migration open" "$label" "BEGIN; $sql"
    done < <(op_bad_inputs_open "$mig")
    _bad_flush
    # Ended migrations.
    local out
    out=$(q "$HDB" "SELECT zdm.abort($(ql "$mig"))" 2>&1) || fail "abort of $mig failed: $out"
    _bad_row "bad input, migration aborted" "finish after abort" "BEGIN; SELECT zdm.finish($(ql "$mig"))"
    _bad_row "bad input, migration aborted" "backfill after abort" "BEGIN; CALL zdm.backfill($(ql "$mig"))"
    _bad_row "bad input, migration aborted" "abort twice" "BEGIN; SELECT zdm.abort($(ql "$mig"))"
    _bad_row "bad input, migration aborted" "reuse of an aborted migration's name" "BEGIN; $(op_begin "$mig")"
    _bad_flush
    local mig2=done_mig
    out=$(q "$HDB" "$(op_begin "$mig2")" 2>&1) && out=$(quiet_q "$HDB" "CALL zdm.backfill($(ql "$mig2"))" 2>&1) \
        && out=$(zdm_finish "$HDB" "$mig2" 2>&1) || fail "lifecycle of $mig2 failed: $out"
    _bad_row "bad input, migration finished" "abort after finish" "BEGIN; SELECT zdm.abort($(ql "$mig2"))"
    _bad_row "bad input, migration finished" "finish twice" "BEGIN; SELECT zdm.finish($(ql "$mig2"))"
    _bad_row "bad input, migration finished" "backfill after finish" "BEGIN; CALL zdm.backfill($(ql "$mig2"))"
    _bad_flush
    # Two open migrations and a NULL name.
    op_names plain nt_a; op_setup 10 | quiet_qin "$HDB" >/dev/null; q "$HDB" "$(op_begin two_a)" >/dev/null
    op_names plain nt_b; op_setup 10 | quiet_qin "$HDB" >/dev/null; q "$HDB" "$(op_begin two_b)" >/dev/null
    for sql in "SELECT zdm.finish()" "SELECT zdm.abort()" "CALL zdm.backfill()"; do
        _bad_row "bad input, two migrations open" "$sql" "BEGIN; $sql"
        out=$(try "$HDB" "BEGIN; $sql; ROLLBACK")
        [[ "$out" == *two_a* && "$out" == *two_b* ]] && pass "'$sql' with two open migrations names both" \
            || fail "'$sql' with two open migrations does not name both: $(_first_error "$out")"
    done
    _bad_flush
    # Changed by hand during the window.
    op_names plain nt_drop
    op_setup 10 | quiet_qin "$HDB" >/dev/null
    local dm="drop'mig"
    q "$HDB" "$(op_begin "$dm")" >/dev/null
    quiet_q "$HDB" "CALL zdm.backfill($(ql "$dm"))" >/dev/null
    q "$HDB" "DROP TABLE $T" >/dev/null
    op_names plain nt
    _bad_row "changed by hand" "finish after the table was dropped" "BEGIN; SELECT zdm.finish($(ql "$dm"))"
    _bad_flush
    local hint
    hint=$(try "$HDB" "SELECT zdm.finish($(ql "$dm"))" | grep -m1 '^HINT:')
    if [[ "$hint" == *"zdm.abort('$dm')"* ]]; then
        fail "the HINT of 'finish after the table was dropped' pastes the migration name into SQL unquoted: $hint"
    else
        pass "the HINT of 'finish after the table was dropped' quotes the migration name safely ($hint)"
    fi
    out=$(q "$HDB" "SELECT zdm.abort($(ql "$dm"))" 2>&1) && pass "abort after the table was dropped succeeds" || fail "abort after the table was dropped: $out"
    op_names plain nt_col
    op_setup 10 | quiet_qin "$HDB" >/dev/null
    local shape_col
    shape_col=$(q "$HDB" "$(shape_sql "$T_LIT")")
    q "$HDB" "$(op_begin col_mig)" >/dev/null
    q "$HDB" "ALTER TABLE $T DROP COLUMN $N" >/dev/null
    _bad_row "changed by hand" "old-side write after the new column was dropped" "BEGIN; $(op_write_old 99 x)" yes
    _bad_flush
    out=$(q "$HDB" "SELECT zdm.abort('col_mig')" 2>&1) && pass "abort after the new column was dropped by hand succeeds" || fail "abort after the new column was dropped by hand: $out"
    [[ "$(q "$HDB" "$(shape_sql "$T_LIT")")" == "$shape_col" ]] && pass "and leaves the table as before begin" || fail "the table differs from before begin"

    CUR="$OP/hostile-null-args"
    local crashes_after
    crashes_after=$( ((CAN_CRASH)) && crash_count || echo 0)
    check_eq "the server log reports no crashed backend" "$((crashes_after - crashes_before))" 0
    figure "bad inputs tried" "$BAD_TRIED (NULL arguments to every zdm function, other bad input); backends lost: $BAD_CRASHES"
    md hostile "- **NULL arguments and other bad inputs**: $BAD_TRIED inputs tried over the $nfuncs functions and procedures of schema \`zdm\` (from pg_proc). Backends lost: **$BAD_CRASHES**; crashes in the server log: $((crashes_after - crashes_before)). Every one is listed below."
}

check_hostile() {
    CUR="$OP/hostile"
    HDB=rel_hostile
    SHADOW_HITS=0
    BAD_TRIED=0
    BAD_CRASHES=0
    new_db "$HDB" || { fail "could not create $HDB"; return; }
    md hostile "### Hostile input"
    md hostile ""
    _hostile_evil
    _hostile_weird
    _hostile_session
    _hostile_inputs
    md hostile ""
    md hostile "<details><summary>Bad inputs tried ($BAD_TRIED)</summary>"
    md hostile ""
    cat "$W/md/$OP/hostile_inputs.md" >>"$W/md/$OP/hostile.md"
    rm -f "$W/md/$OP/hostile_inputs.md"
    md hostile ""
    md hostile "</details>"
    dropdb --if-exists "$HDB"
}
