#!/usr/bin/env bash
# A logical-replication subscriber through a whole migration (#12 item 1). Two
# throwaway clusters in a temporary directory, on free ports, as the same OS
# user: a publisher (wal_level = logical) and a subscriber of its publication.
# zdm is installed on both, and both run the same begin_* (the surname case on
# `person`, a rename on `member`, a lossy alter_type numeric -> integer on
# `price`). Old-app and new-app writes go to the publisher
# in every phase (before begin, subscriber begun and publisher not, the window,
# during the backfill, after the publisher's finish, after the subscriber's
# finish), including the issue's repro after the publisher's finish,
# `UPDATE person SET surname = 'x' WHERE id = 7`. After each phase the
# subscriber has caught up (the slot's confirmed_flush_lsn) and both tables
# compare EXCEPT both ways: 0 differing rows.
#
# The procedure it checks (README, Operations):
#  1. begin on the subscriber, then on the publisher (the other order stops the
#     apply worker with "missing replicated column" until the subscriber
#     begins: checked here too, on `member`);
#  2. backfill on both;
#  3. finish on the publisher, wait until the subscription has confirmed the
#     publisher's WAL position taken after that finish, then finish on the
#     subscriber.
# zdm's triggers fire ALWAYS: in the apply worker they fill the side that the
# publisher does not send, and keep a row that carries both sides as it came
# (price: the publisher's old app writes 2.5, its trigger 3 beside it; the
# subscriber must not recompute 2.5 from 3). Two violations are shown:
#  - the subscriber's trigger firing only on origin (tgenabled 'O', as the issue
#    found it): the applied row is stale, and the subscriber's finish refuses,
#    naming the key, instead of losing the value;
#  - the subscriber finishing first: the apply worker stops with "missing
#    replicated column" (even after the publisher's finish, for changes made in
#    between), and the documented repair (add the column back on the
#    subscriber, let it catch up, drop it) ends with 0 differing rows.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
BIN=$("$PG_CONFIG" --bindir)
unset PGDATABASE PGOPTIONS PGSERVICE
work=$(mktemp -d /tmp/zdm_sub.XXXXXX)
owner=$(id -un)
# initdb/pg_ctl refuse root: the clusters then run as postgres.
if [ "$(id -u)" = 0 ]; then owner=postgres; chown "$owner" "$work"; fi
# Run from the temporary directory: the repository may be closed to postgres.
as_owner() { if [ "$(id -un)" = "$owner" ]; then "$@"; else (cd "$work" && su "$owner" -c "$(printf '%q ' "$@")"); fi; }
free_port() {
  local port=$((30000 + RANDOM % 20000))
  while ss -ltn 2>/dev/null | grep -q ":$port " || [ -e "$work/.s.PGSQL.$port" ] || [ "$port" = "${1:-}" ]; do
    port=$((port + 1))
  done
  echo "$port"
}
pub_port=$(free_port)
sub_port=$(free_port "$pub_port")
# NOTICEs only where a check reads them (messages=notice).
pub() { PGOPTIONS="-c client_min_messages=${messages:-warning}" psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$pub_port" -U postgres -d postgres -At "$@"; }
sub() { PGOPTIONS="-c client_min_messages=${messages:-warning}" psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$sub_port" -U postgres -d postgres -At "$@"; }

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
summary() {
  echo "subscriber: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
# Setup failures end the run.
die() {
  not_ok "$*"
  summary
  exit 1
}
cleanup() {
  [ -n "${bg:-}" ] && kill "$bg" 2>/dev/null
  for c in sub pub; do as_owner "$BIN/pg_ctl" -D "$work/$c" -m immediate stop >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT

start_cluster() { # name port settings...
  local name=$1 port=$2
  shift 2
  as_owner "$BIN/initdb" -D "$work/$name" -U postgres -A trust >"$work/$name.initdb" 2>&1 ||
    { cat "$work/$name.initdb"; die "initdb of the $name cluster"; }
  {
    echo "port = $port"
    echo "unix_socket_directories = '$work'"
    echo "listen_addresses = ''"
    echo "fsync = off"
    printf '%s\n' "$@"
  } | as_owner tee -a "$work/$name/postgresql.auto.conf" >/dev/null
  as_owner "$BIN/pg_ctl" -D "$work/$name" -l "$work/$name.log" -w start >/dev/null ||
    { cat "$work/$name.log"; die "the $name cluster did not start"; }
}
start_cluster pub "$pub_port" "wal_level = logical" "max_wal_senders = 4" "max_replication_slots = 4"
# The apply worker restarts 200 ms after an error instead of 5 s.
start_cluster sub "$sub_port" "wal_retrieve_retry_interval = '200ms'"

schema="
SET client_min_messages = warning;
CREATE EXTENSION zdm;
CREATE TABLE person (id int PRIMARY KEY, last_name text NOT NULL, email text);
CREATE TABLE member (id int PRIMARY KEY, last_name text, email text);
CREATE TABLE price (id int PRIMARY KEY, amount numeric);
CREATE TABLE voucher (id int PRIMARY KEY, code text);
CREATE TABLE used_voucher (user_id int NOT NULL, voucher_id int PRIMARY KEY REFERENCES voucher);
CREATE TABLE legacy (id int PRIMARY KEY, last_name text);
CREATE TABLE early (id int PRIMARY KEY, v text);"
pub -c "$schema" >/dev/null || die "schema on the publisher"
sub -c "$schema" >/dev/null || die "schema on the subscriber"
pub >/dev/null <<'SQL' || die "rows and publication on the publisher"
INSERT INTO person SELECT i, 'last' || i, 'p' || i || '@example.org' FROM generate_series(1, 1000) i;
INSERT INTO member SELECT i, 'last' || i, 'm' || i || '@example.org' FROM generate_series(1, 1000) i;
INSERT INTO price SELECT i, i + 0.5 FROM generate_series(1, 100) i;
INSERT INTO voucher SELECT i, 'code' || i FROM generate_series(1, 50) i;
INSERT INTO used_voucher SELECT 100 + i, i FROM generate_series(1, 30) i;
INSERT INTO legacy SELECT i, 'last' || i FROM generate_series(1, 20) i;
INSERT INTO early SELECT i, 'v' || i FROM generate_series(1, 20) i;
CREATE PUBLICATION zdm_pub FOR TABLE person, member, price, voucher, used_voucher, legacy, early;
SQL
sub -c "CREATE SUBSCRIPTION zdm_sub CONNECTION 'host=$work port=$pub_port user=postgres dbname=postgres' PUBLICATION zdm_pub" 2>/dev/null ||
  die "subscription"

# The subscriber has applied and flushed everything the publisher wrote so far:
# the procedure's check before the subscriber's finish.
caught_up() { # [timeout in tenths of a second]
  local lsn
  lsn=$(pub -c "SELECT pg_current_wal_lsn()")
  for _ in $(seq 1 "${1:-300}"); do
    [ "$(pub -c "SELECT confirmed_flush_lsn >= '$lsn' FROM pg_replication_slots WHERE slot_name = 'zdm_sub'")" = t ] && return 0
    sleep 0.1
  done
  return 1
}
for _ in $(seq 1 300); do
  [ "$(sub -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate = 'r'")" = 7 ] && break
  sleep 0.1
done
[ "$(sub -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate = 'r'")" = 7 ] || die "initial sync"
caught_up || die "the subscriber did not catch up after the initial sync"
ok "publisher on port $pub_port, subscriber on port $sub_port, initial sync done"

# Rows of `t` that are on one side only, EXCEPT both ways (with duplicates), over
# `cols` (default: the publisher's columns; the subscriber has those, and during
# part of the migration more). With `filter`, only the publisher's rows that
# pass it, against the subscriber's rows with their ids. `sub_cols`: what the
# subscriber calls them, when that differs.
differing() { # table [cols] [filter] [sub_cols]
  local t=$1 cols=${2:-} filter=${3:-true} sub_cols=${4:-} ids=true
  [ -n "$cols" ] || cols=$(pub -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped")
  [ -n "$sub_cols" ] || sub_cols=$cols
  [ "$filter" = true ] || ids="id IN (SELECT id FROM pub_rows)"
  pub -c "COPY (SELECT $cols FROM $t WHERE $filter) TO STDOUT" >"$work/$t.copy" || return 1
  sub <<SQL
CREATE TEMP TABLE pub_rows AS SELECT $sub_cols FROM $t WHERE false;
\copy pub_rows FROM '$work/$t.copy'
SELECT count(*) FROM ((TABLE pub_rows EXCEPT ALL SELECT $sub_cols FROM $t WHERE $ids)
                      UNION ALL (SELECT $sub_cols FROM $t WHERE $ids EXCEPT ALL TABLE pub_rows)) d;
SQL
}
same() { # what table [cols] [filter] [sub_cols]
  local n
  n=$(differing "$2" "${3:-}" "${4:-true}" "${5:-}" 2>&1)
  if [ "$n" = 0 ]; then ok "$1: 0 differing rows"; else not_ok "$1: $n differing rows"; fi
}
caught_up_or_fail() { # phase
  caught_up && return 0
  not_ok "$1: the subscriber did not catch up (see $work/sub.log)"
  tail -5 "$work/sub.log"
  return 1
}
# After a phase: the subscriber caught up, and each table agrees.
compare() { # phase tables...
  local phase=$1 t
  shift
  caught_up_or_fail "$phase" || return
  for t in "$@"; do same "$phase: $t" "$t"; done
}
# Before the publisher's backfill, a row it has not converted yet holds NULL
# in its surname, where the subscriber's trigger may have computed one (it
# began first, or the apply worker wrote the row): compare what the old app
# reads on every row, and every row the publisher has converted.
compare_before_backfill() { # phase tables...
  local phase=$1 t
  shift
  caught_up_or_fail "$phase" || return
  for t in "$@"; do
    if [ "$t" = price ]; then
      same "$phase: $t, the old app's columns" "$t" "id, amount"
      same "$phase: $t, the publisher's converted rows" "$t" "" "amount_new IS NOT NULL"
    else
      same "$phase: $t, the old app's columns" "$t" "id, last_name, email"
      same "$phase: $t, the publisher's converted rows" "$t" "" "surname IS NOT NULL"
    fi
  done
}
# The subscriber's own shapes agree on the rows of `filter` (its trigger filled
# what was not sent).
consistent() { # phase table old new [filter]
  local n
  n=$(sub -c "SELECT count(*) FROM $2 WHERE (${5:-true}) AND $3 IS DISTINCT FROM $4" 2>&1)
  if [ "$n" = 0 ]; then ok "$1: on the subscriber, $2.$4 = $2.$3 on every row${5:+ of $5}"; else not_ok "$1: $2: $n rows with $4 <> $3 on the subscriber"; fi
}

# Writes of the old app (last_name) and of the new app (surname) to the
# publisher; phase n uses ids n*10000 + ... for its rows and n, n + 20, ... of
# the existing ones.
old_writes() { # table n
  local t=$1 n=$2 k=$(($2 * 10000))
  pub >/dev/null <<SQL
INSERT INTO $t (id, last_name, email) VALUES ($k + 1, 'old-ins-$n', 'o$n@example.org'), ($k + 2, 'old-gone-$n', NULL);
UPDATE $t SET last_name = 'old-upd-$n' WHERE id IN ($n, $k + 1);
UPDATE $t SET email = 'old-mail-$n' WHERE id = $n + 20;
DELETE FROM $t WHERE id = $k + 2;
SQL
}
new_writes() { # table n
  local t=$1 n=$2 k=$(($2 * 10000))
  pub >/dev/null <<SQL
INSERT INTO $t (id, surname, email) VALUES ($k + 51, 'new-ins-$n', 'n$n@example.org'), ($k + 52, 'new-gone-$n', NULL);
UPDATE $t SET surname = 'new-upd-$n' WHERE id IN ($n + 40, $k + 51);
UPDATE $t SET email = 'new-mail-$n' WHERE id = $n + 60;
DELETE FROM $t WHERE id = $k + 52;
SQL
}
both_writes() { old_writes "$1" "$2" && new_writes "$1" "$2"; }
# price: the old app writes numeric amounts (x.5 rounds in the new integer
# column), the new app amount_new; after the publisher's finish its integer
# column is called amount.
old_prices() { # n
  local n=$1 k=$(($1 * 10000))
  pub >/dev/null <<SQL
INSERT INTO price (id, amount) VALUES ($k + 1, $n.5), ($k + 2, 0.5);
UPDATE price SET amount = $n.25 WHERE id IN ($n, $k + 1);
DELETE FROM price WHERE id = $k + 2;
SQL
}
new_prices() { # n [column]
  local n=$1 k=$(($1 * 10000)) c=${2:-amount_new}
  pub >/dev/null <<SQL
INSERT INTO price (id, $c) VALUES ($k + 51, $n), ($k + 52, 1);
UPDATE price SET $c = $n * 10 WHERE id IN ($n + 40, $k + 51);
DELETE FROM price WHERE id = $k + 52;
SQL
}
surname_begin="SELECT zdm.begin_add_column('person', 'surname', 'text', up => 'last_name', not_null => true, migration => 'surname');
SELECT zdm.begin_drop_column('person', 'last_name', down => 'surname', migration => 'surname');"
price_begin="SELECT zdm.begin_alter_type('price', 'amount', 'integer', down => 'amount_new::numeric', migration => 'price');"
rename_begin="SELECT zdm.begin_rename('member', 'last_name', 'surname', migration => 'rename');"

# 1. Before begin.
old_writes person 1 && old_writes member 1 && old_prices 1 || not_ok "phase 1 writes"
compare "before begin" person member price

# 2. The subscriber begins first: until the publisher begins too, the old
# app's rows arrive without the new column and the subscriber's trigger fills it.
sub -c "$surname_begin" -c "$price_begin" >/dev/null 2>&1 || not_ok "begin on the subscriber"
old_writes person 2 && old_prices 2 || not_ok "phase 2 writes"
compare "subscriber begun, publisher not" person price
consistent "subscriber begun, publisher not" person last_name surname "id IN (2, 22, 20001)"
consistent "subscriber begun, publisher not" price "amount::integer" amount_new "id IN (2, 20001)"
pub -c "$surname_begin" -c "$price_begin" >/dev/null 2>&1 || not_ok "begin on the publisher"

# The other order: the publisher begins first. Its rows carry `surname`, which
# the subscriber lacks: the apply worker stops (nothing is lost: the slot keeps
# the changes) and goes on once the subscriber has begun too.
pub -c "$rename_begin" >/dev/null || not_ok "begin_rename on the publisher"
old_writes member 2 && new_writes member 2 || not_ok "phase 2 writes on member"
stopped=
for _ in $(seq 1 100); do
  grep -q 'relation "public.member" is missing replicated column: "surname"' "$work/sub.log" && { stopped=1; break; }
  sleep 0.1
done
[ -n "$stopped" ] && ok "publisher begun first: the apply worker stops with 'missing replicated column'" ||
  not_ok "publisher begun first: the apply worker did not report the missing column"
sub -c "$rename_begin" >/dev/null || not_ok "begin_rename on the subscriber"
compare_before_backfill "publisher begun first, then the subscriber" person member price

# 3. The window: both apps write to the publisher.
both_writes person 3 && both_writes member 3 && old_prices 3 && new_prices 3 || not_ok "phase 3 writes"
compare_before_backfill "window" person member price

# 4. During the backfill (on both servers, small batches with pauses, so that
# the writes land while it runs).
pub -c "CALL zdm.backfill('surname', batch_size => 20, pause => '20ms')" >"$work/pub_backfill.out" 2>&1 &
bg=$!
for _ in $(seq 1 100); do
  [ "$(pub -c "SELECT rows_done > 0 FROM zdm.status() WHERE migration = 'surname' AND operation LIKE 'add_column%'")" = t ] && break
  sleep 0.05
done
both_writes person 4 && both_writes member 4 && old_prices 4 && new_prices 4 || not_ok "phase 4 writes"
for m in rename price; do
  pub -c "CALL zdm.backfill('$m', batch_size => 50)" >/dev/null 2>&1 || not_ok "backfill of $m on the publisher"
done
wait "$bg" || { cat "$work/pub_backfill.out"; not_ok "backfill of surname on the publisher"; }
bg=
for m in surname rename price; do
  sub -c "CALL zdm.backfill('$m', batch_size => 50)" >/dev/null 2>&1 || not_ok "backfill of $m on the subscriber"
done
both_writes person 5 && both_writes member 5 && old_prices 5 && new_prices 5 || not_ok "phase 5 writes"
compare "during and after the backfill" person member price

# 5. The publisher finishes. From now on it sends only `surname`: the
# subscriber's trigger (ALWAYS) computes last_name from it in the apply worker.
pub -c "SELECT zdm.finish('surname')" -c "SELECT zdm.finish('rename')" -c "SELECT zdm.finish('price')" >/dev/null 2>&1 ||
  not_ok "finish on the publisher"
new_writes person 6 && new_writes member 6 && new_prices 6 amount || not_ok "phase 6 writes"
# The issue's repro.
pub -c "UPDATE person SET surname = 'x' WHERE id = 7" -c "UPDATE member SET surname = 'x' WHERE id = 7" || not_ok "the repro's UPDATE"
compare "after the publisher's finish" person member
# The publisher's integer column is called amount now; the subscriber's is
# still amount_new.
same "after the publisher's finish: price" price "id, amount" true "id, amount_new"
consistent "after the publisher's finish" person last_name surname
consistent "after the publisher's finish" member last_name surname
consistent "after the publisher's finish" price "amount::integer" amount_new "id > 60000"
[ "$(sub -c "SELECT last_name FROM person WHERE id = 7") $(sub -c "SELECT last_name FROM member WHERE id = 7")" = "x x" ] &&
  ok "the repro: the subscriber's last_name of row 7 follows the applied surname" ||
  not_ok "the repro: the subscriber's row 7 is $(sub -c "SELECT row(p.*) FROM person p WHERE id = 7")"

# 6. The subscriber has caught up (compare waited for it): it finishes.
if out=$(messages=notice sub -c "SELECT zdm.finish('surname')" -c "SELECT zdm.finish('rename')" -c "SELECT zdm.finish('price')" 2>&1); then
  ok "finish on the subscriber after the publisher's"
else
  not_ok "finish on the subscriber: $out"
fi
# zdm cannot see the publisher: finish on a subscription's target says what
# the order must be.
case "$out" in
  *'NOTICE:  zdm: table "public"."person" is replicated here by subscription zdm_sub'*'only after the publisher has finished it'*)
    ok "finish on the subscriber names the subscription and the order" ;;
  *) not_ok "finish on the subscriber said no word of the subscription: $out" ;;
esac
for t in person member price; do
  cols="SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY attname) FROM pg_attribute WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped"
  [ "$(pub -c "$cols")" = "$(sub -c "$cols")" ] && ok "$t: the same columns on both" ||
    not_ok "$t: columns differ: $(pub -c "$cols") / $(sub -c "$cols")"
done
compare "both finished" person member price
new_writes person 7 && new_writes member 7 && new_prices 7 amount || not_ok "phase 7 writes"
compare "after the subscriber's finish" person member price

# Join operations: the publisher's trigger writes both tables and both
# arrive, so the subscriber does not run them (begin refuses there: a second
# sync would write each join row twice and stop the apply worker on a
# duplicate key). It adds the column as a plain one before the publisher's
# begin, and drops the join table after the publisher's finish.
err=$(sub -c "SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id')" 2>&1)
case "$err" in
  *'tables "public"."used_voucher" and "public"."voucher" are replicated here by subscription zdm_sub'*)
    ok "join_to_column: begin on the subscriber refuses" ;;
  *) not_ok "join_to_column: begin on the subscriber said: $err" ;;
esac
err=$(sub -c "SELECT zdm.begin_column_to_join('voucher', 'id', 'code', 'voucher_code')" 2>&1)
case "$err" in
  *'table "public"."voucher" is replicated here by subscription zdm_sub'*) ok "column_to_join: begin on the subscriber refuses" ;;
  *) not_ok "column_to_join: begin on the subscriber said: $err" ;;
esac
[ "$(sub -c "SELECT count(*) FROM zdm.status() WHERE state = 'active'") $(sub -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'voucher'::regclass AND attnum > 0 AND NOT attisdropped")" = "0 2" ] &&
  ok "join operations: the refused begins changed nothing" || not_ok "join operations: the refused begins changed something"
voucher_writes() { # n
  local n=$1
  pub >/dev/null <<SQL
INSERT INTO used_voucher VALUES (200 + $n, 30 + $n);
DELETE FROM used_voucher WHERE voucher_id = $n;
SQL
  [ "$2" = new ] || return 0
  pub >/dev/null <<SQL
UPDATE voucher SET user_id = 300 + $n WHERE id = 40 + $n;
UPDATE voucher SET user_id = NULL WHERE id = 10 + $n;
SQL
}
sub -c "ALTER TABLE voucher ADD COLUMN user_id integer" || not_ok "join_to_column: the plain column on the subscriber"
pub -c "SELECT zdm.begin_join_to_column('used_voucher', 'voucher_id', 'voucher', 'id', 'user_id', migration => 'voucher')" >/dev/null ||
  not_ok "join_to_column: begin on the publisher"
voucher_writes 1 new || not_ok "join_to_column: writes in the window"
compare "join_to_column, window" voucher used_voucher
pub -c "CALL zdm.backfill('voucher')" >/dev/null 2>&1 || not_ok "join_to_column: backfill on the publisher"
voucher_writes 2 new || not_ok "join_to_column: writes after the backfill"
compare "join_to_column, after the backfill" voucher used_voucher
pub -c "SELECT zdm.finish('voucher')" >/dev/null || not_ok "join_to_column: finish on the publisher"
pub -c "UPDATE voucher SET user_id = 399 WHERE id = 49" || not_ok "join_to_column: a write after the publisher's finish"
caught_up_or_fail "join_to_column, after the publisher's finish" &&
  sub -c "DROP TABLE used_voucher" || not_ok "join_to_column: DROP TABLE used_voucher on the subscriber"
compare "join_to_column, after the publisher's finish and the drop" voucher

# Violation 1: the subscriber's trigger fires only on origin (`tgenabled`
# 'O'): after the publisher's finish the applied surname is not copied to
# last_name. finish's verification refuses (a rename's finish keeps
# last_name's data: the value would be lost) and changes nothing; re-enabling
# ALWAYS and re-writing the right side repairs it.
sub -c "SELECT zdm.begin_rename('legacy', 'last_name', 'surname', migration => 'legacy')" \
  -c "ALTER TABLE legacy ENABLE TRIGGER zzz_zdm_dual_write" >/dev/null || not_ok "legacy: begin on the subscriber"
pub -c "SELECT zdm.begin_rename('legacy', 'last_name', 'surname', migration => 'legacy')" \
  -c "CALL zdm.backfill('legacy')" -c "SELECT zdm.finish('legacy')" >/dev/null 2>&1 || not_ok "legacy on the publisher"
sub -c "CALL zdm.backfill('legacy')" >/dev/null 2>&1 || not_ok "legacy: backfill on the subscriber"
pub -c "UPDATE legacy SET surname = 'x' WHERE id = 7" || not_ok "legacy: the repro's UPDATE"
caught_up || not_ok "legacy: caught up"
[ "$(sub -c "SELECT last_name || ' ' || surname FROM legacy WHERE id = 7")" = "last7 x" ] &&
  ok "trigger on origin only: the applied row 7 is stale on the subscriber" ||
  not_ok "trigger on origin only: row 7 is $(sub -c "SELECT row(l.*) FROM legacy l WHERE id = 7")"
err=$(sub -c "SELECT zdm.finish('legacy')" 2>&1)
case "$err" in
  *"disagree"*"Keys (id), first ones: 7."*) ok "trigger on origin only: the subscriber's finish refuses, naming the key 7" ;;
  *) not_ok "trigger on origin only: the subscriber's finish said: $err" ;;
esac
[ "$(sub -c "SELECT state FROM zdm.status() WHERE migration = 'legacy'") $(sub -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'legacy'::regclass AND attname IN ('last_name', 'surname')")" = "active 2" ] &&
  ok "trigger on origin only: the refused finish changed nothing" || not_ok "trigger on origin only: the refused finish changed the table"
sub -c "ALTER TABLE legacy ENABLE ALWAYS TRIGGER zzz_zdm_dual_write" -c "UPDATE legacy SET surname = surname WHERE id = 7" \
  -c "SELECT zdm.finish('legacy')" >/dev/null && ok "trigger on origin only: repaired (ENABLE ALWAYS, re-write), finish" ||
  not_ok "trigger on origin only: the repair"
compare "trigger on origin only, repaired" legacy

# Violation 2: the subscriber finishes first. Changes the publisher makes in
# the old shape (before its own finish) cannot be applied any more: the apply
# worker stops, and stays stopped after the publisher's finish.
sub -c "SELECT zdm.begin_rename('early', 'v', 'w', migration => 'early')" >/dev/null || not_ok "early: begin on the subscriber"
pub -c "SELECT zdm.begin_rename('early', 'v', 'w', migration => 'early')" -c "CALL zdm.backfill('early')" >/dev/null 2>&1 ||
  not_ok "early: begin and backfill on the publisher"
sub -c "CALL zdm.backfill('early')" >/dev/null 2>&1 || not_ok "early: backfill on the subscriber"
caught_up || not_ok "early: caught up before the subscriber's finish"
sub -c "SELECT zdm.finish('early')" >/dev/null || not_ok "early: finish on the subscriber"
pub -c "UPDATE early SET v = 'old app' WHERE id = 3" -c "UPDATE early SET w = 'new app' WHERE id = 4" || not_ok "early: writes"
pub -c "SELECT zdm.finish('early')" >/dev/null || not_ok "early: finish on the publisher"
pub -c "UPDATE early SET w = 'after' WHERE id = 5" || not_ok "early: write after the publisher's finish"
if caught_up 30; then
  not_ok "subscriber finished first: the subscriber caught up"
elif grep -q 'relation "public.early" is missing replicated column: "v"' "$work/sub.log"; then
  ok "subscriber finished first: the apply worker stops with 'missing replicated column', after the publisher's finish too"
else
  not_ok "subscriber finished first: the apply worker stopped for another reason: $(tail -3 "$work/sub.log")"
fi
# The repair: the dropped column back on the subscriber, as a plain column,
# until the subscriber has caught up past the publisher's finish.
sub -c "ALTER TABLE early ADD COLUMN v text" || not_ok "early: ADD COLUMN v"
compare "subscriber finished first, repaired" early
sub -c "ALTER TABLE early DROP COLUMN v" || not_ok "early: DROP COLUMN v"
pub -c "UPDATE early SET w = 'later' WHERE id = 6" || not_ok "early: write after the repair"
compare "subscriber finished first, repaired and written" early

summary
