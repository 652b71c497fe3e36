#include "pg/runner.hpp"

#include <algorithm>
#include <cstdlib>

#include "core/error.hpp"
#include "pg/boundary.hpp"
#include "common/guc.hpp"
#include "pg/registry.hpp"
#include "pg/spi.hpp"
#include "pg/throttle.hpp"

namespace zdm::pg {

namespace {

double elapsed_ms(instr_time start) {
  instr_time now;
  INSTR_TIME_SET_CURRENT(now);
  INSTR_TIME_SUBTRACT(now, start);
  return INSTR_TIME_GET_MILLISEC(now);
}

// One attempt: a subtransaction that takes every lock under lock_timeout and
// runs the statements. Returns NULL on success, or the error that rolled it back.
// C-style: it runs inside pg_guard and owns no C++ object.
ErrorData* attempt_step(const Oid* relids, int nrelids, LOCKMODE mode, const char* const* sql,
                        int nsql, double* lock_wait_ms) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  ErrorData* volatile failure = NULL;
  instr_time start;
  INSTR_TIME_SET_CURRENT(start);
  volatile bool locked = false;

  BeginInternalSubTransaction(NULL);
  MemoryContextSwitchTo(context);
  PG_TRY();
  {
    char timeout[32];
    int level = NewGUCNestLevel();
    snprintf(timeout, sizeof timeout, "%d", zdm_lock_timeout_ms);
    (void)set_config_option("lock_timeout", timeout, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                            true, 0, false);
    for (int i = 0; i < nrelids; i++) LockRelationOid(relids[i], mode);
    *lock_wait_ms += elapsed_ms(start);
    locked = true;
    for (int i = 0; i < nsql; i++) {
      int rc = SPI_execute(sql[i], false, 0);
      if (rc < 0)
        elog(ERROR, "zdm: SPI failed (%s) running: %s", SPI_result_code_string(rc), sql[i]);
    }
    AtEOXact_GUC(true, level);
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
  }
  PG_CATCH();
  {
    if (!locked) *lock_wait_ms += elapsed_ms(start);
    MemoryContextSwitchTo(context);
    failure = CopyErrorData();
    FlushErrorState();
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
  }
  PG_END_TRY();
  return failure;
}

// Jittered exponential backoff: 10 ms, 20 ms, 40 ms ... capped, each drawn
// uniformly from [d/2, 3d/2) so that competing sessions spread out.
void pause_before_retry(int attempt) {
  double delay = 10.0;
  for (int i = 1; i < attempt && delay < zdm_lock_retry_max_delay_ms; i++) delay *= 2;
  delay = std::min(delay, static_cast<double>(zdm_lock_retry_max_delay_ms));
  delay = delay / 2 + delay * (static_cast<double>(random()) / ((double)PG_INT32_MAX + 1));
  pg_guard([&] {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, (long)delay,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  });
}

std::string oid_array(const std::vector<unsigned int>& relids) {
  std::string out = "{";
  for (unsigned int relid : relids) {
    if (out.size() > 1) out += ",";
    out += std::to_string(relid);
  }
  return out + "}";
}

[[noreturn]] void fail_with_blockers(const std::string& migration, const std::string& phase,
                                     const std::vector<unsigned int>& relids, int attempts,
                                     double lock_wait_ms) {
  Value blockers = query_value(
      "SELECT pg_catalog.string_agg(pg_catalog.format('pid %s (%s, %s for %s): %s', a.pid, "
      "a.usename, a.state, pg_catalog.date_trunc('second', pg_catalog.now() - a.xact_start), "
      "pg_catalog.left(a.query, 200)), '; ' ORDER BY a.pid) "
      "FROM pg_catalog.pg_stat_activity a WHERE a.pid IN (SELECT l.pid FROM pg_catalog.pg_locks l "
      "WHERE l.relation = ANY ($1::pg_catalog.oid[]) AND l.pid <> pg_catalog.pg_backend_pid())",
      {oid_array(relids)});
  // A prepared transaction keeps its locks with no session behind it: pg_locks
  // shows them with no pid, under the virtual transaction that also holds the
  // prepared transaction's own transactionid lock.
  Value prepared = query_value(
      "SELECT pg_catalog.string_agg(pg_catalog.format('%L (owner %s, prepared at %s, %s ago)', "
      "p.gid, p.owner, p.prepared, pg_catalog.date_trunc('second', pg_catalog.now() - "
      "p.prepared)), '; ' ORDER BY p.prepared, p.gid) "
      "FROM pg_catalog.pg_prepared_xacts p WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_locks l "
      "JOIN pg_catalog.pg_locks x ON x.virtualtransaction = l.virtualtransaction "
      "AND x.locktype = 'transactionid' AND x.pid IS NULL "
      "WHERE l.relation = ANY ($1::pg_catalog.oid[]) AND l.pid IS NULL "
      "AND x.transactionid = p.transaction)",
      {oid_array(relids)});
  Value tables = query_value(
      "SELECT pg_catalog.string_agg(r::pg_catalog.regclass::pg_catalog.text, ', ') "
      "FROM pg_catalog.unnest($1::pg_catalog.oid[]) r",
      {oid_array(relids)});
  char waited[64];
  snprintf(waited, sizeof waited, "%.0f ms", lock_wait_ms);
  throw core::Error(
      core::ErrorCode::LockNotAvailable,
      "zdm could not lock " + tables.value_or("?") + " for the " + phase +
          (migration.empty() ? std::string() : " of migration \"" + migration + "\""),
      "Gave up after " + std::to_string(attempts) + " attempts of zdm.lock_timeout = " +
          std::to_string(zdm_lock_timeout_ms) + " ms (" + waited +
          " spent waiting). Sessions holding locks on it: " + blockers.value_or("none seen") + "." +
          (prepared ? " Prepared transactions holding locks on it: " + *prepared + "." : ""),
      std::string(prepared ? "End each prepared transaction with COMMIT PREPARED 'gid' or "
                             "ROLLBACK PREPARED 'gid'. "
                           : "") +
          "Let those sessions finish or end them with pg_terminate_backend(pid), or raise "
          "zdm.lock_retries, then call again. Nothing was changed.");
}

}  // namespace

// A CREATE INDEX CONCURRENTLY (or REINDEX CONCURRENTLY) holds SHARE UPDATE
// EXCLUSIVE on its table for its whole run and, between its phases, waits for
// every transaction older than it: this one too, once it is queued for a lock
// on the table. Each would wait for the other, and lock_timeout keeps the
// cycle from the deadlock detector while the retries keep it up: two hung
// sessions for the whole retry budget. So the step refuses at once, before it
// queues. A build of a role whose progress the caller may not read (only
// pg_read_all_stats and the role's members may) shows no table, command or
// phase: it is known by its progress row and its SHARE UPDATE EXCLUSIVE lock on
// the table (a plain CREATE INDEX or REINDEX takes SHARE).
void refuse_running_index_builds(const std::string& migration, const std::string& phase,
                                 const std::vector<unsigned int>& relids) {
  std::vector<Row> builds = query(
      "SELECT pg_catalog.string_agg(DISTINCT b.relid::pg_catalog.regclass::pg_catalog.text, ', '), "
      "pg_catalog.string_agg(pg_catalog.format('pid %s is running %s on %s%s (phase: %s)', b.pid, "
      "b.command, b.relid::pg_catalog.regclass, b.index, b.phase), '; ' ORDER BY b.pid), "
      "pg_catalog.string_agg(pg_catalog.format('SELECT pg_cancel_backend(%s)', b.pid), "
      "', ' ORDER BY b.pid) "
      "FROM (SELECT p.pid, coalesce(p.relid, l.relation) AS relid, "
      "  coalesce(p.command, 'an index build') AS command, "
      "  CASE WHEN p.index_relid OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.format(' for index "
      "%s', p.index_relid::pg_catalog.regclass) ELSE '' END AS index, "
      "  coalesce(p.phase, 'not shown to role ' OPERATOR(pg_catalog.||) "
      "pg_catalog.quote_ident(current_user)) AS phase "
      "  FROM pg_catalog.pg_stat_progress_create_index p "
      "  LEFT JOIN pg_catalog.pg_locks l ON p.relid IS NULL AND l.pid = p.pid "
      "   AND l.locktype = 'relation' AND l.mode = 'ShareUpdateExclusiveLock' AND l.granted "
      "   AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d "
      "                     WHERE d.datname = pg_catalog.current_database()) "
      "   AND l.relation = ANY ($1::pg_catalog.oid[]) "
      "  WHERE p.pid <> pg_catalog.pg_backend_pid() "
      "   AND ((p.relid = ANY ($1::pg_catalog.oid[]) "
      "         AND p.command IN ('CREATE INDEX CONCURRENTLY', 'REINDEX CONCURRENTLY')) "
      "        OR l.relation IS NOT NULL)) b",
      {oid_array(relids)});
  if (builds.empty() || !builds[0][0]) return;
  throw core::Error(
      core::ErrorCode::ObjectInUse,
      "zdm cannot lock " + *builds[0][0] + " for the " + phase +
          (migration.empty() ? std::string() : " of migration \"" + migration + "\"") +
          ": an index is being built on it concurrently",
      builds[0][1].value_or("") +
          ". The build waits for every transaction older than it, this one included, while "
          "this step would wait for the build's lock on the table: the two sessions would wait "
          "for each other. Nothing was changed.",
      "Wait for the build to end, or cancel it with " + builds[0][2].value_or("") +
          " (an index it leaves invalid is dropped by zdm.abort() and rebuilt by the statements "
          "of zdm.pending_statements()); then call again.");
}

namespace {

// Retries `attempt` (one subtransaction) on lock timeouts with backoff.
template <typename Attempt>
StepOutcome with_retries(const std::string& migration, const std::string& phase,
                         const std::vector<unsigned int>& relids, Attempt attempt) {
  StepOutcome outcome;
  outcome.relids = relids;
  for (;;) {
    outcome.attempts++;
    double wait = 0;
    ErrorData* failure = pg_guard([&] { return attempt(&wait); });
    outcome.lock_wait_ms += wait;
    if (failure == nullptr) return outcome;
    if (failure->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE) throw PgError(failure);
    if (outcome.attempts > zdm_lock_retries)
      fail_with_blockers(migration, phase, relids, outcome.attempts, outcome.lock_wait_ms);
    pause_before_retry(outcome.attempts);
  }
}

}  // namespace

StepOutcome lock_tables(const std::string& migration, const std::string& phase,
                        std::vector<unsigned int> relids, LockStrength strength) {
  const LOCKMODE mode = strength == LockStrength::Exclusive           ? AccessExclusiveLock
                        : strength == LockStrength::ShareRowExclusive ? ShareRowExclusiveLock
                                                                      : ShareUpdateExclusiveLock;
  std::sort(relids.begin(), relids.end());
  relids.erase(std::unique(relids.begin(), relids.end()), relids.end());
  std::vector<Oid> oids(relids.begin(), relids.end());
  refuse_running_index_builds(migration, phase, relids);
  // A standby replays ACCESS EXCLUSIVE: say so when its replay is already late.
  if (strength == LockStrength::Exclusive) warn_lagging_standbys(migration, phase);
  return with_retries(migration, phase, relids, [&](double* wait) {
    return attempt_step(oids.data(), static_cast<int>(oids.size()), mode, nullptr, 0, wait);
  });
}

void run_statements(const std::string& migration, const std::string& phase,
                    const StepOutcome& locking, const std::vector<std::string>& statements) {
  std::vector<const char*> sql;
  for (const std::string& s : statements) sql.push_back(s.c_str());
  StepOutcome running = with_retries(migration, phase, locking.relids, [&](double* wait) {
    return attempt_step(nullptr, 0, NoLock, sql.data(), static_cast<int>(sql.size()), wait);
  });
  const int attempts = locking.attempts + running.attempts - 1;
  log_ddl(migration, phase, statements, attempts, locking.lock_wait_ms + running.lock_wait_ms);
}

}  // namespace zdm::pg
