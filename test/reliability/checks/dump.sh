# test/reliability/checks/dump.sh — pg_dump / pg_restore of a database with an
# open migration (after begin, a partial backfill and writes from both sides).
# The dump is restored into a fresh database (the dump recreates the
# extension); there zdm.status() must show the same migration and progress, the
# trigger must still write both ways, the backfill must resume where it was
# and complete, and finish must work. Sourced by run.sh.

check_dump() {
    CUR="$OP/dump"
    local src=rel_dump_src dst=rel_dump_dst rows=$DUMP_ROWS out
    md dump "### pg_dump / pg_restore with an open migration"
    md dump ""
    op_names plain t
    new_db "$src" || { fail "could not create $src"; return; }
    op_setup "$rows" | quiet_qin "$src" >/dev/null || { fail "setup failed"; return; }
    local sum_before fact mig
    sum_before=$(q "$src" "$(op_checksum_before)")
    fact=$(q "$src" "$(op_remember)")
    mig=$(q "$src" "$(op_begin)") || { fail "begin failed"; return; }

    # A partial backfill: cancelled once a quarter of the rows are done.
    bg_sql dumpfill "$src" rel_dumpfill <<SQL
SET client_min_messages = warning;
CALL zdm.backfill(batch_size => 500, pause => '20 ms');
SQL
    _dump_progress() { [[ "$(q "$src" "$(mig_status rows_done "$mig")")" -ge $((rows / 4)) ]]; }
    wait_until 60 _dump_progress || fail "the backfill made no progress"
    q "$src" "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'rel_dumpfill'" >/dev/null
    bg_wait dumpfill
    out=$(q "$src" "$(op_write_old $((rows + 1)) "src old'side"); $(op_write_new $((rows + 2)) 'src new"side')" 2>&1) || fail "writes in the source failed: $out"
    local status_src ddl_src
    status_src=$(q "$src" "SELECT migration, state, operation, table_name, backfill, rows_done, rows_estimate, rows_converted FROM zdm.status()")
    ddl_src=$(q "$src" "SELECT count(*) FROM zdm.ddl_log")
    note "source: $status_src"

    local t0 dump_ms restore_ms size
    t0=$EPOCHREALTIME
    if pg_dump -Fc -f "$W/open_migration.dump" "$src" 2>"$W/pg_dump.err"; then
        pass "pg_dump -Fc of a database with an open migration"
    else
        fail "pg_dump failed: $(head -3 "$W/pg_dump.err")"; return
    fi
    dump_ms=$(ms_since "$t0")
    size=$(stat -c %s "$W/open_migration.dump")
    dropdb --if-exists "$dst" 2>/dev/null
    createdb "$dst" || { fail "could not create $dst"; return; }
    t0=$EPOCHREALTIME
    if pg_restore -d "$dst" "$W/open_migration.dump" 2>"$W/pg_restore.err"; then
        pass "pg_restore into a fresh database, no errors"
    else
        fail "pg_restore reported errors: $(grep -m3 -E 'error|ERROR' "$W/pg_restore.err" | tr '\n' ' ')"
    fi
    restore_ms=$(ms_since "$t0")

    check_eq "the dump recreated the extension" "$(q "$dst" "SELECT count(*) FROM pg_extension WHERE extname = 'zdm'")" 1
    local status_dst
    status_dst=$(q "$dst" "SELECT migration, state, operation, table_name, backfill, rows_done, rows_estimate, rows_converted FROM zdm.status()")
    check_eq "zdm.status() in the restored database equals the source's" "$status_dst" "$status_src"
    check_eq "zdm.ddl_log restored" "$(q "$dst" "SELECT count(*) FROM zdm.ddl_log")" "$ddl_src"
    check_eq "the table is in its window shape (both columns, the trigger)" "$(q "$dst" "$(op_window_check)")" ok
    local rows_done_restored
    rows_done_restored=$(q "$dst" "$(mig_status rows_done "$mig")")
    local prefix prefix_rows prefix_bad
    prefix=$(q "$dst" "$(op_committed_prefix "$mig")")
    IFS='|' read -r prefix_rows prefix_bad <<<"$prefix"
    check_eq "restored progress matches the restored rows (rows up to the backfill position)" "$prefix_rows" "$rows_done_restored"
    check_eq "every row up to the backfill position is converted" "$prefix_bad" 0

    # The trigger still writes both ways.
    out=$(q "$dst" "$(op_write_old $((rows + 3)) "dst old'side")" 2>&1) || fail "old-side write failed: $out"
    check_eq "old-side insert reaches the new side" "$(q "$dst" "$(op_read $((rows + 3)))")" "$(op_read_want "dst old'side")"
    out=$(q "$dst" "$(op_write_new $((rows + 4)) 'dst new"side')" 2>&1) || fail "new-side write failed: $out"
    check_eq "new-side insert reaches the old side" "$(q "$dst" "$(op_read $((rows + 4)))")" "$(op_read_want 'dst new"side')"
    out=$(q "$dst" "$(op_update_old 1 upd-old)" 2>&1) || fail "old-side update failed: $out"
    check_eq "old-side update of a not-yet-backfilled row reaches the new side" "$(q "$dst" "$(op_read 1)")" "$(op_read_want upd-old)"
    out=$(q "$dst" "$(op_update_new "$rows" upd-new)" 2>&1) || fail "new-side update failed: $out"
    check_eq "new-side update reaches the old side" "$(q "$dst" "$(op_read "$rows")")" "$(op_read_want upd-new)"

    # The backfill resumes.
    out=$(quiet_q "$dst" "CALL zdm.backfill(batch_size => 500)" 2>&1) || fail "backfill in the restored database failed: $out"
    local bstate rows_done
    IFS='|' read -r bstate rows_done <<<"$(q "$dst" "$(mig_status "backfill, rows_done" "$mig")")"
    check_eq "the backfill completes in the restored database" "$bstate" done
    check_eq "it resumed from the restored position (rows_done = seed rows, not $((rows_done_restored + rows)))" "$rows_done" "$rows"
    local div
    div=$(q "$dst" "$(op_divergence)")
    check_eq "no divergent rows" "$div" 0
    check_eq "row count (seed + 4 writes)" "$(q "$dst" "SELECT count(*) FROM $T")" $((rows + 4))
    local sum_window
    sum_window=$(q "$dst" "$(op_checksum_aborted)")
    out=$(zdm_finish "$dst" "$mig" 2>&1) && pass "finish in the restored database" || fail "finish in the restored database failed: $out"
    check_eq "final shape" "$(q "$dst" "$(op_finished_check "$fact")")" ok
    check_eq "data after finish = data in the window" "$(q "$dst" "$(op_checksum_finished)")" "$sum_window"

    # zdm's sequences came along: a new migration gets fresh ids.
    op_names plain t_after_restore
    op_setup 100 | quiet_qin "$dst" >/dev/null
    out=$(q "$dst" "$(op_begin)" 2>&1) && out=$(q "$dst" "SELECT zdm.abort()" 2>&1) \
        && pass "a new migration after the restore gets fresh catalog ids (begin + abort)" \
        || fail "a new migration after the restore failed: $out"
    op_names plain t

    figure "pg_dump/pg_restore of an open migration" "status identical: $([[ "$status_dst" == "$status_src" ]] && echo yes || echo NO); backfill resumed at $rows_done_restored and ended at $rows_done of $rows; finish: $(q "$dst" "SELECT state FROM zdm.migrations WHERE name = $(ql "$mig")" 2>/dev/null)"
    md dump "Source: $rows rows, begin, backfill cancelled at rows_done $rows_done_restored, one write from each side. \`pg_dump -Fc\` took ${dump_ms} ms ($((size / 1024)) KiB), \`pg_restore\` into a fresh database ${restore_ms} ms."
    md dump "In the restored database: zdm.status() $([[ "$status_dst" == "$status_src" ]] && echo "identical to the source's" || echo "**different from the source's**"); the trigger wrote both ways (insert and update from each side); the backfill resumed at rows_done $rows_done_restored and ended at $rows_done; finish $(q "$dst" "SELECT state FROM zdm.migrations WHERE name = $(ql "$mig")" 2>/dev/null | sed 's/finished/succeeded/'); divergent rows before finish: $div."
    dropdb --if-exists "$src"
    dropdb --if-exists "$dst"
}
