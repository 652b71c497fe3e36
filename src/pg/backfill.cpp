// CALL zdm.backfill(migration, batch_size, pause): converts the rows that
// existed before begin, batch by batch. Outside a transaction block each batch
// commits together with its progress in zdm.operations, so a crash loses at
// most one batch of work and a second CALL resumes after the last committed key.
#include <algorithm>
#include <functional>
#include <optional>

#include "common/backfill_scope.hpp"
#include "core/backfill.hpp"
#include "core/error.hpp"
#include "core/ops/join.hpp"
#include "core/plan.hpp"
#include "core/progress.hpp"
#include "core/quote.hpp"
#include "core/state.hpp"
#include "pg/boundary.hpp"
#include "pg/registry.hpp"
#include "pg/table_desc.hpp"
#include "pg/spi.hpp"
#include "pg/throttle.hpp"
#include "pg/worker.hpp"

namespace {

using zdm::core::Error;
using zdm::core::ErrorCode;
using zdm::pg::Row;
using zdm::pg::Value;

using zdm::pg::BackfillArgs;
using zdm::pg::wait_ms;

// Runs one of the backfill's writes with a scope of the triggers set
// (common/backfill_scope.hpp), and clears it however the statement ends.
// `set(true)` scopes it to the statement's own table and to its migration
// (zdm_force_old_side_set: the dual-write trigger treats the write as
// old-side) or operation (zdm_join_sync_quiet_set: that operation's join-sync
// triggers on the written table do not echo the copy back to the other shape).
template <typename Set>
Row run_flagged(Set set, const std::string& sql, const std::vector<Value>& params) {
  set(true);
  try {
    std::vector<Row> rows = zdm::pg::query_as_caller(sql.c_str(), params);
    set(false);
    return rows.at(0);
  } catch (...) {
    set(false);
    throw;
  }
}

// The primary key, else the narrowest unique, valid, non-partial index on
// plain NOT NULL columns; but `preferred` (key column names joined by 0x1f:
// the key a walk started with) first while such an index still has exactly
// those key columns, so that a walk keeps reading its position as that key.
std::vector<zdm::core::KeyColumn> find_key(unsigned int relid, const Value& preferred = {}) {
  Value names = zdm::pg::query_value(
      "SELECT pg_catalog.string_agg(a.attname || E'\\x1e' || "
      "pg_catalog.format_type(a.atttypid, a.atttypmod), E'\\x1f' ORDER BY k.ord) "
      "FROM (SELECT i.indkey, i.indnkeyatts FROM pg_catalog.pg_index i "
      "      WHERE i.indrelid = $1::pg_catalog.oid AND i.indisunique AND i.indisvalid "
      "      AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indimmediate "
      "      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute na "
      "                      WHERE na.attrelid = i.indrelid "
      "                      AND na.attnum = ANY (i.indkey::pg_catalog.int2[]) "
      "                      AND NOT na.attnotnull) "
      "      ORDER BY (SELECT pg_catalog.array_agg(pa.attname ORDER BY pk.ord) "
      "                FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) "
      "                  WITH ORDINALITY pk(attnum, ord) "
      "                JOIN pg_catalog.pg_attribute pa ON pa.attrelid = i.indrelid "
      "                  AND pa.attnum = pk.attnum WHERE pk.ord <= i.indnkeyatts) "
      "               IS NOT DISTINCT FROM "
      "               pg_catalog.string_to_array($2, E'\\x1f')::pg_catalog.name[] DESC, "
      "               i.indisprimary DESC, i.indnkeyatts, i.indexrelid LIMIT 1) idx "
      "CROSS JOIN LATERAL pg_catalog.unnest(idx.indkey::pg_catalog.int2[]) "
      "  WITH ORDINALITY k(attnum, ord) "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = $1::pg_catalog.oid AND a.attnum = k.attnum "
      "WHERE k.ord <= idx.indnkeyatts",
      {std::to_string(relid), preferred});
  std::vector<zdm::core::KeyColumn> key;
  if (!names) return key;
  std::string item;
  auto flush = [&] {
    std::size_t sep = item.find('\x1e');
    key.push_back({item.substr(0, sep), item.substr(sep + 1)});
    item.clear();
  };
  for (char c : *names) {
    if (c == '\x1f')
      flush();
    else
      item.push_back(c);
  }
  if (!item.empty()) flush();
  return key;
}

// A batch that waits for rows the applications hold, or is picked as a
// deadlock or serialization victim, is retried; under REPEATABLE READ or
// SERIALIZABLE every retry reads the same snapshot and fails the same way, and
// rows written after it were never seen. So the backfill refuses to start in
// such a transaction, and checks again in each transaction a commit starts
// (they take default_transaction_isolation).
void refuse_transaction_snapshot() {
  if (!IsolationUsesXactSnapshot()) return;
  const bool from_default = XactIsoLevel == DefaultXactIsoLevel;
  throw Error(ErrorCode::InvalidState,
              std::string("zdm.backfill cannot run in a ") +
                  (IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ") + " transaction",
              "Its batches are retried when they lose a deadlock or a serialization conflict to "
              "the applications' writes; with one snapshot for the whole transaction, every "
              "retry would fail the same way.",
              from_default ? "Run it with default_transaction_isolation = 'read committed' "
                             "(SET it in this session), then CALL zdm.backfill() again."
                           : "CALL zdm.backfill() outside a transaction block, or in a READ "
                             "COMMITTED one.");
}

void commit_batch(bool atomic) {
  if (atomic) return;
  zdm::pg::pg_guard([] { SPI_commit(); });
  zdm::pg::pin_settings();
  refuse_transaction_snapshot();
}

void notice_progress(const std::string& migration, const zdm::core::Operation& op,
                     const zdm::pg::BackfillProgress& p, bool done,
                     std::optional<double> per_second) {
  // The estimate as zdm.status() shows it: the planner's at the start, never
  // below the rows visited less the rows inserted since begin, which the walk
  // meets too (rows_done may include them: the message says how many).
  const long since = zdm::pg::rows_inserted_since_begin(op.id);
  std::string message = "zdm: backfill of \"" + migration + "\" (" + op.describe() +
                        "): " + std::to_string(p.rows_done) + " rows visited";
  long estimate = -1, extra = 0;
  if (p.estimate) {
    const long estimated = std::stol(*p.estimate);
    estimate = std::max(estimated, p.rows_done - since);
    if (p.rows_done > estimated) extra = std::min(p.rows_done - estimated, since);
  }
  if (estimate > 0) {
    long pct = done ? 100 : std::min(100L, p.rows_done * 100 / estimate);
    message += " of ~" + std::to_string(estimate) + " (" + std::to_string(pct) + "%)";
  }
  if (extra > 0) message += ", including " + std::to_string(extra) + " rows inserted since begin";
  message += ", " + std::to_string(p.rows_updated) + " converted";
  if (per_second) message += ", " + zdm::core::format_rate(*per_second) + " over the last minute";
  if (done) {
    message += ", done";
  } else if (per_second && *per_second > 0 && estimate > 0) {
    if (auto eta = zdm::core::eta_seconds(estimate - p.rows_done, *per_second))
      message += ", ETA " + zdm::core::format_eta(*eta);
  }
  zdm::pg::pg_guard([&] { ereport(NOTICE, (errmsg("%s", message.c_str()))); });
}

// A TimestampTz as Unix epoch seconds (to_timestamp's argument), to the microsecond.
std::string unix_seconds(TimestampTz t) {
  const int64 unix_us = t + static_cast<int64>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
                                SECS_PER_DAY * USECS_PER_SEC;
  char buf[64];
  snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(unix_us / USECS_PER_SEC),
           static_cast<long long>(unix_us % USECS_PER_SEC));
  return buf;
}

// The planner's row estimate of a table when the walk starts: its density
// (reltuples / relpages) times the table's current size, as the planner scales
// a stale reltuples (a table grown since its last ANALYZE), taken before the
// walk's own row versions grow it; an exact count when it has no statistics.
// The denominator of the progress shown; rows inserted later are counted
// apart (zdm.operations.rows_inserted_base).
Value estimate_rows(const zdm::core::TableDesc& table) {
  Value estimate = zdm::pg::query_value(
      "SELECT CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN (c.reltuples / c.relpages * "
      "(pg_catalog.pg_relation_size(c.oid) / "
      "pg_catalog.current_setting('block_size')::pg_catalog.int8))::pg_catalog.int8 "
      "WHEN c.reltuples = 0 AND c.relpages = 0 AND pg_catalog.pg_relation_size(c.oid) = 0 "
      "THEN 0 END FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid",
      {std::to_string(table.oid)});
  if (!estimate)
    estimate =
        zdm::pg::query_value(("SELECT pg_catalog.count(*) FROM " + table.qualified()).c_str());
  return estimate;
}

// Prepares an operation's first run: chooses the key, the last key to visit
// and the row estimate. Rows added after begin are written through the
// trigger, so the walk can stop at what exists now.
std::string key_names_of(const std::vector<zdm::core::KeyColumn>& key) {
  std::string names;
  for (const auto& k : key) names += (names.empty() ? "" : "\x1f") + k.name;
  return names;
}

void start_operation(const zdm::pg::StoredOperation& s, const zdm::core::TableDesc& table,
                     const std::vector<zdm::core::KeyColumn>& key) {
  Value upper;
  const std::string key_names = key_names_of(key);
  if (!key.empty()) {
    upper = zdm::pg::query_value(zdm::core::keyset_last_key_sql(table, key).c_str());
  } else {
    upper = zdm::pg::query_value(
        ("SELECT ARRAY[(pg_catalog.pg_relation_size(" +
         zdm::core::quote_literal(table.qualified()) +
         "::pg_catalog.regclass) / pg_catalog.current_setting('block_size')::pg_catalog.int8)::"
         "pg_catalog.text]")
            .c_str());
  }
  zdm::pg::record_backfill_start(s.op.id, key.empty() ? Value() : Value(key_names), upper,
                                 estimate_rows(table));
}

// The backfill runs with row_security = off (see open_session), so a policy
// that would hide rows from it makes its statement fail instead of skipping
// them. This names the table and the ways out: before the walk for a policy
// already in force, and after a batch fails for one that arrived meanwhile.
void refuse_if_rls_hides_rows(const std::string& migration, const std::vector<Oid>& relids) {
  for (Oid relid : relids) {
    bool hidden =
        zdm::pg::pg_guard([&] { return check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED; });
    if (!hidden) continue;
    Value table = zdm::pg::query_value(
        "SELECT $1::pg_catalog.oid::pg_catalog.regclass::pg_catalog.text", {std::to_string(relid)});
    Value role = zdm::pg::query_value("SELECT CURRENT_USER::pg_catalog.text");
    throw Error(
        ErrorCode::InsufficientPrivilege,
        "zdm cannot backfill migration \"" + migration +
            "\": row-level security hides rows of table " + table.value_or("?") + " from role " +
            role.value_or("?"),
        "The backfill must see every row; it runs with row_security = off, so the table's "
        "policies make it fail rather than skip rows. Nothing was skipped.",
        "Run the backfill as a role with BYPASSRLS or as a superuser, or, if the owner runs it, "
        "ALTER TABLE " +
            table.value_or("?") + " NO FORCE ROW LEVEL SECURITY for the window.");
  }
}

// What one batch did.
struct BatchResult {
  long visited = 0;
  long converted = 0;
  long conflicts = 0;
  Value position;  // the batch's last key (or block), or unchanged when NULL
  bool done = false;
};
// A batch sets `range` to what it is working on (keys or blocks), so that an
// error raised by its statements names it.
using Batch = std::function<BatchResult(const zdm::pg::BackfillProgress&, std::string& range)>;

// Adds to an error raised by a batch's statements which migration, table and
// batch it was working on, as a CONTEXT line after PostgreSQL's own (the
// error's DETAIL stays PostgreSQL's, e.g. the key a unique violation names).
void add_batch_context(ErrorData* edata, const std::string& migration, Oid relid,
                       const std::string& range) {
  Value table = zdm::pg::query_value(
      "SELECT $1::pg_catalog.oid::pg_catalog.regclass::pg_catalog.text", {std::to_string(relid)});
  const std::string line = "zdm: backfill of migration \"" + migration + "\", table " +
                           table.value_or("?") + ", batch of " +
                           (range.empty() ? std::string("(not started)") : range);
  zdm::pg::pg_guard([&] {
    edata->context =
        edata->context ? psprintf("%s\n%s", edata->context, line.c_str()) : pstrdup(line.c_str());
  });
}

// Runs one batch in a subtransaction. When PostgreSQL picks the batch as the
// victim of a deadlock (the apps' transactions locking the same rows in
// opposite orders can draw a waiting batch into their cycle) or of a
// serialization failure, the batch is rolled back and run again after a
// short, growing pause, up to kBatchAttempts times; nothing else is undone.
constexpr int kBatchAttempts = 10;

BatchResult run_retrying(const std::string& migration, const std::vector<Oid>& relids,
                         const Batch& batch, const zdm::pg::BackfillProgress& p) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  auto end_subtransaction = [&](bool commit) {
    zdm::pg::pg_guard([&] {
      if (commit)
        ReleaseCurrentSubTransaction();
      else
        RollbackAndReleaseCurrentSubTransaction();
      MemoryContextSwitchTo(context);
      CurrentResourceOwner = owner;
    });
  };
  for (int attempt = 1;; attempt++) {
    zdm::pg::pg_guard([&] {
      BeginInternalSubTransaction(NULL);
      MemoryContextSwitchTo(context);
    });
    int sqlstate = 0;
    std::string range;
    try {
      BatchResult r = batch(p, range);
      end_subtransaction(true);
      return r;
    } catch (const zdm::pg::PgError& e) {
      sqlstate = e.edata()->sqlerrcode;
      end_subtransaction(false);
      if (sqlstate == ERRCODE_INSUFFICIENT_PRIVILEGE) refuse_if_rls_hides_rows(migration, relids);
      add_batch_context(e.edata(), migration, relids.at(0), range);
      if ((sqlstate != ERRCODE_T_R_DEADLOCK_DETECTED &&
           sqlstate != ERRCODE_T_R_SERIALIZATION_FAILURE) ||
          attempt >= kBatchAttempts)
        throw;
    } catch (...) {
      end_subtransaction(false);
      throw;
    }
    zdm::pg::pg_guard([&] {
      ereport(NOTICE,
              (errmsg("zdm: a backfill batch of \"%s\" was rolled back (%s); running it again "
                      "(attempt %d of %d)",
                      migration.c_str(), unpack_sql_state(sqlstate), attempt + 1, kBatchAttempts)));
    });
    wait_ms(20L * attempt + static_cast<long>(random() % 50));
  }
}

// zdm.backfill_stop (or finish, abort) asked the background worker to stop:
// it does at this batch boundary, everything before it committed.
void stop_if_requested() {
  if (!zdm_backfill_stop_requested) return;
  zdm::pg::pg_guard([] {
    ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED),
                    errmsg("zdm: background backfill stopped at a batch boundary")));
  });
}

// The walk every backfill shares: a batch, then its progress committed with
// it, a progress NOTICE at most once a second, the migration checked again
// after each commit, and the pause.
void walk(const std::string& migration, const zdm::pg::StoredOperation& s, const BackfillArgs& args,
          const Batch& batch) {
  // Every batch runs the same statements: each is parsed and planned once.
  zdm::pg::PreparedStatements prepared;
  const std::string id = std::to_string(s.op.id);
  std::vector<Oid> relids{s.relid};
  if (zdm::core::is_join_kind(s.op.kind)) relids.push_back(s.op.join_relid);
  TimestampTz last_notice = 0;
  // rows/s over the last minute, from this walk's samples; its anchor is
  // committed with each batch for zdm.status().
  const TimestampTz walk_start = GetCurrentTimestamp();
  zdm::core::RateWindow rate(walk_start, zdm::pg::read_backfill_progress(s.op.id).rows_done);
  zdm::pg::Throttle throttle(
      args, s.op.id,
      args.atomic ? std::function<void()>() : [&args] { commit_batch(args.atomic); });
  for (;;) {
    zdm::pg::BackfillProgress p = zdm::pg::read_backfill_progress(s.op.id);
    if (p.state == "done") break;
    BatchResult r = run_retrying(migration, relids, batch, p);
    const TimestampTz batch_end = GetCurrentTimestamp();
    rate.add(batch_end, p.rows_done + r.visited);
    zdm::pg::record_batch(s.op.id, r.visited, r.converted, r.conflicts, r.position, r.done,
                          unix_seconds(rate.anchor().at_us), rate.anchor().rows);
    p.rows_done += r.visited;
    p.rows_updated += r.converted;
    if (r.done || batch_end - last_notice >= USECS_PER_SEC) {
      // A rate over less than kRateShownAfterUs of walking is noise.
      std::optional<double> per_second;
      if (batch_end - walk_start >= zdm::core::kRateShownAfterUs)
        per_second = rate.per_second(batch_end, p.rows_done);
      notice_progress(migration, s.op, p, r.done, per_second);
      last_notice = batch_end;
    }
    commit_batch(args.atomic);
    if (r.done) break;
    stop_if_requested();
    // pause, max_rate, max_lag: with the migration's lock released (after the
    // commit), so finish or abort are not held back by the wait.
    throttle.between_batches(r.visited);
    stop_if_requested();
    // Each batch after a commit re-checks that the migration is still open
    // and that nobody else is finishing or aborting it.
    if (!args.atomic) {
      zdm::pg::lock_migration(migration);
      zdm::core::check_transition(migration, zdm::pg::migration_state(migration),
                                  zdm::core::Action::Backfill);
    }
  }
}

void backfill_operation(const std::string& migration, const zdm::pg::StoredOperation& s,
                        const BackfillArgs& args) {
  zdm::core::TableDesc table = zdm::pg::load_table(s.relid);
  zdm::core::BackfillSpec spec = zdm::core::backfill_spec(table, s.op);
  refuse_if_rls_hides_rows(migration, {s.relid});
  const zdm::pg::BackfillProgress progress = zdm::pg::read_backfill_progress(s.op.id);
  // A resumed walk keeps its key while the table has it. When the key is gone
  // or no longer a unique key (a primary key or unique index dropped, by
  // zdm.begin_drop_constraint or drop_index or by hand), the position means
  // nothing in the table's key now: read as one, it would skip rows (found by
  // the hostile-field audit). The walk starts again from the first key of the
  // key there is now (or block): rows converted already are not rewritten.
  std::vector<zdm::core::KeyColumn> key = find_key(s.relid, progress.key_names);
  if (progress.state == "pending") {
    start_operation(s, table, key);
  } else if (progress.state == "running" && progress.keyset &&
             key_names_of(key) != progress.key_names.value_or("")) {
    auto listed = [](std::string names) {
      for (char& c : names)
        if (c == '\x1f') c = ',';
      return names.empty() ? std::string("ctid blocks") : "key (" + names + ")";
    };
    const std::string was = listed(progress.key_names.value_or("")),
                      now = listed(key_names_of(key));
    zdm::pg::pg_guard([&] {
      ereport(NOTICE,
              (errmsg("zdm: the backfill of migration \"%s\" walked %s, which is no longer a "
                      "unique key of the table; it walks again from the start, by %s",
                      migration.c_str(), was.c_str(), now.c_str()),
               errdetail("Its position was a value of that key. Rows converted already are "
                         "not written again.")));
    });
    zdm::pg::restart_backfill_walk(s.op.id);
    start_operation(s, table, key);
  }

  const std::string end_from_start = zdm::core::keyset_batch_end_sql(table, key, true);
  const std::string end_resume = zdm::core::keyset_batch_end_sql(table, key, false);
  const std::string update_from_start = zdm::core::keyset_update_sql(table, key, spec, true);
  const std::string update_resume = zdm::core::keyset_update_sql(table, key, spec, false);
  const std::string by_blocks = zdm::core::ctid_batch_sql(table, spec);
  double rows_per_block = 1;
  {
    Value density = zdm::pg::query_value(
        "SELECT CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages END "
        "FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid",
        {std::to_string(s.relid)});
    if (density) rows_per_block = std::max(1.0, std::stod(*density));
  }
  // The batch is an old-side write for this migration on this table only: a
  // user trigger's write to another table, or another migration open on this
  // one, follows the ordinary rules.
  auto old_side = [&](bool on) {
    if (on)
      zdm_force_old_side_set(s.relid, migration.c_str());
    else
      zdm_force_old_side_clear();
  };
  std::string key_names;
  for (const auto& k : key) key_names += (key_names.empty() ? "" : ", ") + k.name;
  // A walk, at its end, looks for rows it missed: an UPDATE that converts
  // nothing (README: the old app's write of a column no conversion reads)
  // moves a row the walk has not reached to wherever there is room, behind the
  // walk's position or past the blocks it counted at its start; one that
  // changes the walk's key (a natural key, a primary key) to a value the walk
  // has passed moves it behind a walk by key. Then it walks the table again;
  // each walk converts what it meets, so the rows left shrink. A lone
  // add_column has no row check at finish: a missed row would keep its NULL
  // for good (found by the hostile-field audit).
  const std::string missed_sql =
      spec.unconverted.empty()
          ? std::string()
          : "SELECT pg_catalog.count(*) FROM " + table.qualified() + " t WHERE " + spec.unconverted;
  constexpr int kWalks = 10;
  int walks = 1;
  auto step = [&](const zdm::pg::BackfillProgress& p, std::string& range) {
    BatchResult r;
    if (p.keyset && !key.empty()) {
      if (!p.upper) {
        r.done = true;  // the table was empty when the backfill started
        return r;
      }
      const std::string from =
          "keys (" + key_names + ") " + (p.position ? "after " + *p.position : "from the first");
      range = from;
      Row end = zdm::pg::query(p.position ? end_resume.c_str() : end_from_start.c_str(),
                               {p.position, p.upper, std::to_string(args.batch_size)})
                    .at(0);
      r.visited = std::stol(*end[0]);
      r.done = r.visited < args.batch_size;
      if (r.visited == 0) return r;
      r.position = end[1];
      range = from + " up to " + *end[1];
      Row row = run_flagged(old_side, p.position ? update_resume : update_from_start,
                            {p.position, end[1]});
      r.converted = std::stol(*row[0]);
    } else if (p.keyset) {
      throw Error(
          ErrorCode::InvalidState,
          "the key that the backfill of migration \"" + migration + "\" started with is gone", {},
          "Restore the unique index, or abort the migration.");
    } else {
      long first = p.position ? std::stol(p.position->substr(1, p.position->size() - 2)) : 0;
      long last = std::stol(p.upper->substr(1, p.upper->size() - 2));
      long blocks = std::max(1L, static_cast<long>(args.batch_size / rows_per_block));
      long next = std::min(last, first + blocks);
      if (first >= last) {
        r.done = true;
      } else {
        range = "blocks " + std::to_string(first) + " to " + std::to_string(next - 1);
        Row row =
            run_flagged(old_side, by_blocks,
                        {zdm::core::block_start_tid(first), zdm::core::block_start_tid(next)});
        r.converted = std::stol(*row[0]);
        r.visited = r.converted;
        r.position = "{" + std::to_string(next) + "}";
        r.done = next >= last;
      }
    }
    return r;
  };
  walk(migration, s, args, [&](const zdm::pg::BackfillProgress& p, std::string& range) {
    BatchResult r = step(p, range);
    if (r.done && !missed_sql.empty()) {
      range = "the whole table, looking for rows the walk missed";
      const long missed = std::stol(zdm::pg::query_value(missed_sql.c_str()).value_or("0"));
      if (missed > 0) {
        if (walks >= kWalks)
          throw Error(ErrorCode::InvalidState,
                      "the backfill of migration \"" + migration + "\" walked table " +
                          table.qualified() + " " + std::to_string(walks) + " times, and " +
                          std::to_string(missed) + " rows still need converting",
                      "Updates keep moving unconverted rows where the walk had been (a key "
                      "changed to one it had passed, a block it had passed) or past its end; "
                      "nothing was skipped, the backfill is not done.",
                      "CALL zdm.backfill() again when writes are quieter. A walk by a primary key "
                      "that the application never updates sees no row move.");
        walks++;
        zdm::pg::pg_guard([&] {
          ereport(NOTICE, (errmsg("zdm: %ld rows of table %s still need converting (updates "
                                  "moved them where the walk had been, or past its end): "
                                  "walking the table again",
                                  missed, table.qualified().c_str())));
        });
        zdm::pg::restart_backfill_walk(s.op.id);
        start_operation(s, table, key);
        r.done = false;
        r.position.reset();
      }
    }
    return r;
  });
}

// A batch's rows that the copy left differing, by what it found on the other
// shape after the copy: no row of the key (`missing`), or a row that holds
// another value (`differing`: a user trigger or rule there changed or skipped
// the copy's write).
void warn_join_conflicts(const std::string& migration, const zdm::core::Operation& op,
                         const zdm::core::TableDesc& join, const zdm::core::TableDesc& target,
                         long missing, long differing, const Value& missing_keys,
                         const Value& differing_keys) {
  const bool to_column = op.kind == zdm::core::OpKind::JoinToColumn;
  const std::string prefix = "zdm: backfill of \"" + migration + "\": ";
  const std::string keys =
      "Keys (" + std::string(to_column ? op.join_key : op.target_key) + "), first ones: ";
  auto warn = [](const std::string& message, const std::string& detail, const std::string& hint) {
    zdm::pg::pg_guard([&] {
      ereport(WARNING, (errmsg("%s", message.c_str()), errdetail("%s", detail.c_str()),
                        errhint("%s", hint.c_str())));
    });
  };
  const std::string n_missing = std::to_string(missing), n_differing = std::to_string(differing);
  const std::string j = join.qualified(), t = target.qualified();
  if (missing > 0)
    warn(prefix +
             (to_column ? n_missing + " join row(s) of " + j + " match no row of " + t
                        : n_missing + " row(s) of " + t + " have no join row in " + j +
                              " after the copy") +
             "; not copied",
         keys + missing_keys.value_or("{}") +
             (to_column
                  ? "."
                  : ". The copy inserted them; a trigger or rule on " + j + " skipped the insert."),
         to_column ? "Add the missing target rows or delete those join rows; finish refuses "
                     "while they differ."
                   : "Settle each of those rows (insert the join row or clear the column); "
                     "finish refuses while they differ.");
  if (differing > 0)
    warn(prefix +
             (to_column ? n_differing + " row(s) of " + t + " hold another value than their " +
                              "join row in " + j
                        : n_differing + " join row(s) of " + j + " hold another value than " +
                              "their row of " + t) +
             " after the copy",
         keys + differing_keys.value_or("{}") +
             (to_column ? ". The target row exists, but after the copy it holds another value: "
                          "a trigger or rule on " +
                              t + " changed or skipped the copy's write."
                        : ". The join row exists, but after the copy it holds another value (a "
                          "trigger or rule on " +
                              j + " that changes what is inserted does this)."),
         "Settle each of those rows (update the column or the join row); finish refuses while "
         "they differ.");
}

// join_to_column copies the join table into the column, column_to_join the
// column into the join table, walking the source by its key. Rows that cannot
// be copied are counted and named, never settled by picking one side.
void backfill_join_operation(const std::string& migration, const zdm::pg::StoredOperation& s,
                             const BackfillArgs& args) {
  if (s.op.join_name.empty())
    throw Error(
        ErrorCode::InvalidState,
        "the join table of migration \"" + migration + "\" (" + s.op.describe() + ") was dropped",
        {}, "Abort the migration with zdm.abort().");
  const bool to_column = s.op.kind == zdm::core::OpKind::JoinToColumn;
  zdm::core::TableDesc target = zdm::pg::load_table(s.relid);
  zdm::core::TableDesc join = zdm::pg::load_table(s.op.join_relid);
  const zdm::core::join::BackfillSql sql = zdm::core::join::backfill_sql(join, target, s.op);
  refuse_if_rls_hides_rows(migration, {s.relid, s.op.join_relid});
  if (zdm::pg::read_backfill_progress(s.op.id).state == "pending")
    zdm::pg::record_backfill_start(s.op.id, to_column ? s.op.join_key : s.op.target_key,
                                   zdm::pg::query_value(sql.last_key.c_str()),
                                   estimate_rows(to_column ? join : target));
  const std::string walk_key = to_column ? s.op.join_key : s.op.target_key;
  // The copy writes the target (join_to_column) or the join table: only this
  // operation's triggers there stay quiet, so what a user trigger or a
  // cascade writes to another join operation's tables is still synced.
  ZdmJoinSyncQuiet previous{0, 0};
  auto quiet = [&](bool on) {
    if (on)
      previous = zdm_join_sync_quiet_set(to_column ? s.relid : s.op.join_relid, s.op.id);
    else
      zdm_join_sync_quiet_restore(previous);
  };
  walk(migration, s, args, [&](const zdm::pg::BackfillProgress& p, std::string& range) {
    BatchResult r;
    if (!p.upper) {
      r.done = true;  // nothing to copy when the backfill started
      return r;
    }
    range = "keys (" + walk_key + ") " + (p.position ? "after " + *p.position : "from the first");
    Row batch = zdm::pg::query(p.position ? sql.next_keys.c_str() : sql.first_keys.c_str(),
                               {p.position, p.upper, std::to_string(args.batch_size)})
                    .at(0);
    r.visited = std::stol(*batch[1]);
    r.done = batch[3] == Value("t");
    if (r.visited == 0) return r;
    const std::vector<Value> bounds{batch[0], batch[2]};
    r.position = batch[2];
    range += " up to " + batch[2].value_or("?");
    zdm::pg::query_as_caller(sql.lock.c_str(), bounds);
    Row copied = run_flagged(quiet, sql.copy, bounds);
    r.converted = std::stol(*copied[0]);
    // Each join row matches at most one target row (both keys are unique):
    // when every join row of the range wrote its value and no trigger changed
    // it, no row of the batch can differ.
    const bool all_copied =
        copied[1] && copied[2] && *copied[1] == "0" && std::stol(*copied[2]) == r.converted;
    Row conflicts = all_copied ? Row{Value("0"), Value("0"), Value(), Value()}
                               : zdm::pg::query_as_caller(sql.conflicts.c_str(), bounds).at(0);
    r.conflicts = std::stol(*conflicts[0]);
    warn_join_conflicts(migration, s.op, join, target, std::stol(*conflicts[1]),
                        r.conflicts - std::stol(*conflicts[1]), conflicts[2], conflicts[3]);
    return r;
  });
}

}  // namespace

ZDM_FUNCTION(zdm_backfill) {
  BackfillArgs args = zdm::pg::read_backfill_args(fcinfo);
  zdm::pg::require_primary("CALL zdm.backfill()");
  refuse_transaction_snapshot();
  zdm::pg::open_session(!args.atomic);
  std::string migration = zdm::pg::resolve_migration(args.migration);
  zdm::pg::require_migration_owner(migration);
  zdm::core::check_transition(migration, zdm::pg::migration_state(migration),
                              zdm::core::Action::Backfill);
  zdm::pg::lock_migration(migration);
  if (args.atomic)
    zdm::pg::pg_guard([&] {
      ereport(NOTICE,
              (errmsg("zdm.backfill is running inside a transaction block: every batch of "
                      "migration \"%s\" runs in this one transaction",
                      migration.c_str()),
               errdetail("Row locks are held and progress stays invisible to other sessions "
                         "until the transaction ends."),
               errhint("CALL zdm.backfill() outside a transaction block to commit batch by "
                       "batch.")));
    });
  for (const zdm::pg::StoredOperation& s : zdm::pg::operations_of(migration)) {
    if (s.backfill_state == "done") continue;
    if (zdm::core::is_join_kind(s.op.kind))
      backfill_join_operation(migration, s, args);
    else
      backfill_operation(migration, s, args);
    if (!args.atomic) zdm::pg::lock_migration(migration);
  }
  zdm::pg::close_session();
  PG_RETURN_VOID();
}
