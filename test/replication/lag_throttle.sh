#!/usr/bin/env bash
# The backfill's lag throttle against a real standby (#10): a streaming standby
# made with pg_basebackup -R from the cluster in PG* (inside a temporary
# directory, on a free port). Its replay is paused, WAL is written, and
# CALL zdm.backfill(max_lag => ...) must wait between batches with zdm.status()
# showing why (read from another session); once replay resumes it completes,
# before its wait cap (no "goes on" WARNING). zdm.status() also runs on the
# standby. With max_lag NULL and the standby connected, the 1 s default (16 MB of
# WAL) throttles the same way. begin and abort, which take ACCESS EXCLUSIVE,
# warn (never wait) about the paused standby over zdm.standby_lag_warning.
# Needs max_wal_senders > 0 and a replication entry in pg_hba.conf.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
BIN=$("$PG_CONFIG" --bindir)
DB=zdm_lag_throttle
work=$(mktemp -d /tmp/zdm_lag.XXXXXX)
owner=$(id -un)
# initdb/pg_ctl refuse root: the standby then runs as postgres.
if [ "$(id -u)" = 0 ]; then owner=postgres; chown "$owner" "$work"; fi
as_owner() { if [ "$(id -un)" = "$owner" ]; then "$@"; else su "$owner" -c "$(printf '%q ' "$@")"; fi; }
port=$((30000 + RANDOM % 20000))
while ss -ltn 2>/dev/null | grep -q ":$port "; do port=$((port + 1)); done
standby() { psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -d "$DB" -At "$@"; }
primary() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -At "$@"; }
fail() { echo "not ok - $*"; exit 1; }
cleanup() {
  [ -n "${bg:-}" ] && kill "$bg" 2>/dev/null || true
  as_owner "$BIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
primary >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION zdm;
CREATE TABLE lagged (id int PRIMARY KEY, v text);
INSERT INTO lagged SELECT i, 'v' || i FROM generate_series(1, 3000) i;
CREATE TABLE wal_filler (pad text);
CREATE TABLE lag_warned (id int PRIMARY KEY);
SELECT zdm.begin_rename('lagged', 'v', 'w', migration => 'lag');
SQL

as_owner "$BIN/pg_basebackup" -h "${PGHOST:-/tmp}" -p "${PGPORT:-5432}" -U "${PGUSER:-postgres}" \
  -D "$work/data" -R -X stream -c fast
for f in postgresql.conf pg_ident.conf; do [ -f "$work/data/$f" ] || as_owner touch "$work/data/$f"; done
# A Debian cluster (pg_virtualenv) keeps its configuration in /etc: the copy has none.
[ -f "$work/data/pg_hba.conf" ] || echo "local all all trust" | as_owner tee "$work/data/pg_hba.conf" >/dev/null
# A hot standby needs these at least as high as on the primary (the CI cluster
# raises max_prepared_transactions): take the primary's values.
settings=$(psql -X -q -d postgres -At -c "SELECT string_agg(name || ' = ' || setting, E'\n') FROM pg_settings WHERE name IN ('max_connections', 'max_prepared_transactions', 'max_worker_processes', 'max_wal_senders', 'max_locks_per_transaction')")
cat <<CONF | as_owner tee -a "$work/data/postgresql.auto.conf" >/dev/null
$settings
port = $port
unix_socket_directories = '$work'
listen_addresses = ''
cluster_name = 'zdm_standby'
hot_standby = on
CONF
as_owner "$BIN/pg_ctl" -D "$work/data" -l "$work/standby.log" -w start >/dev/null || { cat "$work/standby.log"; fail "the standby did not start"; }

for _ in $(seq 1 100); do
  [ "$(primary -c "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'zdm_standby' AND state = 'streaming'")" = 1 ] && break
  sleep 0.1
done
[ "$(primary -c "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'zdm_standby'")" = 1 ] ||
  fail "the standby did not connect (see $work/standby.log)"
echo "ok - standby streaming on port $port"

[ "$(standby -c "SELECT count(*) FROM zdm.status() WHERE migration = 'lag'")" = 1 ] ||
  fail "zdm.status() on the standby"
echo "ok - zdm.status() runs on the standby"

# Every step that writes says plainly that this is a read-only standby.
for call in "SELECT zdm.finish('lag')" "SELECT zdm.abort('lag')" "CALL zdm.backfill('lag')" \
  "SELECT zdm.begin_add_column('lagged', 'x', 'int')" \
  "SELECT zdm.begin_add_check('lagged', 'lagged_id_check', 'id > 0')" \
  "SELECT zdm.begin_create_index('lagged', ARRAY['id'])"; do
  err=$(standby -c "$call" 2>&1 || true)
  case "$err" in
    *"cannot run on a hot standby: the server is read-only (in recovery)"*) ;;
    *) fail "on the standby, $call said: $err" ;;
  esac
done
echo "ok - begin, backfill, finish and abort on the standby say it is read-only"

standby -c "SELECT pg_wal_replay_pause()" >/dev/null
# About 8 MB of WAL the paused standby does not replay: far over 50 ms x 16 MB/s.
primary -c "INSERT INTO wal_filler SELECT repeat('x', 1000) FROM generate_series(1, 8000)"

# begin and abort take ACCESS EXCLUSIVE, which the standby replays: with its
# replay behind by more than zdm.standby_lag_warning they warn, naming it, and
# go on (never wait for it).
out=$(primary -c "SET zdm.standby_lag_warning = '50ms'" \
  -c "SELECT zdm.begin_add_column('lag_warned', 'probe', 'int', migration => 'lag_warn')" \
  -c "SELECT zdm.abort('lag_warn')" 2>&1) || fail "begin/abort with a lagging standby failed: $out"
for phase in "the begin of migration \"lag_warn\"" "the abort of migration \"lag_warn\""; do
  case "$out" in
    *"WARNING:  zdm: $phase takes an ACCESS EXCLUSIVE lock while a standby lags: replica lag "*" on zdm_standby > "*"(zdm.standby_lag_warning 50 ms at 16 MB/s)"*) ;;
    *) fail "no lag warning for $phase: $out" ;;
  esac
done
case "$out" in
  *"HINT:  "*"max_standby_streaming_delay"*"hot_standby_feedback"*) ;;
  *) fail "the lag warning has no hint on max_standby_streaming_delay / hot_standby_feedback: $out" ;;
esac
[ "$(primary -c "SELECT state FROM zdm.migrations WHERE name = 'lag_warn'")" = aborted ] ||
  fail "begin/abort did not complete with the standby lagging"
echo "ok - begin and abort warn about the lagging standby (replica lag ... on zdm_standby) and go on"
out=$(primary -c "SET zdm.standby_lag_warning = 0" \
  -c "SELECT zdm.begin_add_column('lag_warned', 'probe', 'int', migration => 'lag_warn2')" \
  -c "SELECT zdm.abort('lag_warn2')" 2>&1)
case "$out" in *WARNING*) fail "zdm.standby_lag_warning = 0 still warned: $out" ;; esac
echo "ok - zdm.standby_lag_warning = 0: no warning"

primary -c "CALL zdm.backfill('lag', batch_size => 500, max_lag => '50ms')" >"$work/backfill.out" 2>&1 &
bg=$!
reason=
for _ in $(seq 1 200); do
  reason=$(primary -c "SELECT throttle FROM zdm.status() WHERE migration = 'lag'")
  [ -n "$reason" ] && break
  sleep 0.1
done
case "$reason" in
  "throttled: replica lag "*"on zdm_standby > "*) echo "ok - status shows: $reason" ;;
  *) fail "status did not show the lag throttle (got '$reason')" ;;
esac
kill -0 "$bg" 2>/dev/null || fail "the backfill did not wait for the paused standby"
done_rows=$(primary -c "SELECT rows_done FROM zdm.status() WHERE migration = 'lag'")
[ "$done_rows" -lt 3000 ] || fail "the backfill finished while the standby was paused"
sleep 1
[ "$(primary -c "SELECT rows_done FROM zdm.status() WHERE migration = 'lag'")" = "$done_rows" ] ||
  fail "the backfill kept going while the standby was paused"
echo "ok - the backfill waits at $done_rows of 3000 rows while replay is paused"

standby -c "SELECT pg_wal_replay_resume()" >/dev/null
wait "$bg" || { cat "$work/backfill.out"; fail "the backfill failed after replay resumed"; }
bg=
grep -q "goes on" "$work/backfill.out" && { cat "$work/backfill.out"; fail "the backfill hit its wait cap instead of being released"; }
[ "$(primary -c "SELECT backfill || ' ' || rows_done || ' ' || coalesce(throttle, '-') FROM zdm.status() WHERE migration = 'lag'")" = "done 3000 -" ] ||
  fail "the backfill did not complete: $(primary -c "SELECT * FROM zdm.status()")"
echo "ok - replay resumed: the backfill completed and status shows no throttle"
primary -c "SELECT zdm.finish('lag')" >/dev/null

# max_lag NULL (the default) with a standby connected: 1 s, i.e. 16 MB of WAL.
primary -c "SELECT zdm.begin_rename('lagged', 'w', 'x', migration => 'lag_default')" >/dev/null
standby -c "SELECT pg_wal_replay_pause()" >/dev/null
primary -c "INSERT INTO wal_filler SELECT repeat('x', 1000) FROM generate_series(1, 24000)"
primary -c "CALL zdm.backfill('lag_default', batch_size => 500)" >"$work/backfill_default.out" 2>&1 &
bg=$!
reason=
for _ in $(seq 1 200); do
  reason=$(primary -c "SELECT throttle FROM zdm.status() WHERE migration = 'lag_default'")
  [ -n "$reason" ] && break
  sleep 0.1
done
case "$reason" in
  "throttled: replica lag "*"on zdm_standby > 16.0 MB (max_lag 1 s at 16 MB/s)") echo "ok - default max_lag with a standby: $reason" ;;
  *) fail "the default max_lag did not throttle (got '$reason')" ;;
esac
standby -c "SELECT pg_wal_replay_resume()" >/dev/null
wait "$bg" || { cat "$work/backfill_default.out"; fail "the default backfill failed after replay resumed"; }
bg=
[ "$(primary -c "SELECT backfill || ' ' || coalesce(throttle, '-') FROM zdm.status() WHERE migration = 'lag_default'")" = "done -" ] ||
  fail "the default backfill did not complete"
echo "ok - replay resumed: the default backfill completed"
primary -c "SELECT zdm.finish('lag_default')" >/dev/null
echo "lag throttle: all passed"
