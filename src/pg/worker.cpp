// zdm.backfill_start / zdm.backfill_stop (#10 item 3). The worker runs
// CALL zdm.backfill(...) through SPI in a nonatomic context, so the background
// backfill is the same walk, committing batch by batch, as the foreground one.
// Its outcome goes to zdm.migrations (backfill_pid, backfill_worker), which
// zdm.status() shows; a worker that vanished (terminated, server restart) is
// shown as interrupted, and backfill_start again resumes from the committed
// position.
#include "pg/worker.hpp"

#include <csignal>
#include <cstring>

#include "core/error.hpp"
#include "core/quote.hpp"
#include "core/state.hpp"
#include "pg/boundary.hpp"
#include "pg/registry.hpp"
#include "pg/spi.hpp"
#include "pg/throttle.hpp"

extern "C" {
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/portal.h"
}

volatile sig_atomic_t zdm_backfill_stop_requested = 0;

using zdm::core::Error;
using zdm::core::ErrorCode;
using zdm::pg::Value;

using zdm::pg::pg_guard;

namespace {

// What backfill_start hands to the worker in bgw_extra (128 bytes): the
// migration travels as the id of its first operation.
struct WorkerArgs {
  Oid database;
  Oid role;
  int32 batch_size;
  int32 max_rate;  // 0: NULL
  int64 pause_ms;
  int64 max_lag_ms;  // -1: NULL
  int64 op_id;
};
static_assert(sizeof(WorkerArgs) <= BGW_EXTRALEN, "bgw_extra holds the worker's arguments");

WorkerArgs worker_args;
char* call_sql = nullptr;  // in TopMemoryContext
char worker_outcome[1024];

// How long stop_backfill_worker waits for a batch boundary, then for the
// terminated worker to go.
constexpr int kStopWaitMs = 10000;

void request_stop(SIGNAL_ARGS) {
  int saved = errno;
  zdm_backfill_stop_requested = 1;
  SetLatch(MyLatch);
  errno = saved;
}

// Claims the migration's row for this worker and builds the CALL. Waits on
// the row lock backfill_start holds until its transaction ends (so its
// migration lock is gone before the walk takes it).
Datum worker_claim(FunctionCallInfo) {
  zdm::pg::open_session();
  Value migration = zdm::pg::migration_of_operation(worker_args.op_id);
  if (!migration)
    throw Error(ErrorCode::UndefinedObject, "the migration of this background backfill is gone");
  // backfill_start recorded this worker's pid in its transaction: a start
  // that rolled back (or a later start) left another one, and this worker
  // has no walk.
  if (!zdm::pg::claim_worker(*migration, MyProcPid)) {
    zdm::pg::close_session();
    return 0;
  }
  std::string sql =
      "CALL zdm.backfill(" + zdm::core::quote_literal(*migration) + ", " +
      std::to_string(worker_args.batch_size) + ", '" + std::to_string(worker_args.pause_ms) +
      " milliseconds', " +
      (worker_args.max_lag_ms < 0
           ? std::string("NULL")
           : "'" + std::to_string(worker_args.max_lag_ms) + " milliseconds'") +
      ", " + (worker_args.max_rate > 0 ? std::to_string(worker_args.max_rate) : "NULL") + ")";
  zdm::pg::pg_guard([&] { call_sql = MemoryContextStrdup(TopMemoryContext, sql.c_str()); });
  zdm::pg::close_session();
  return 0;
}

// Records how the worker ended ('done', 'stopped' or 'failed: ...').
Datum worker_record(FunctionCallInfo) {
  zdm::pg::open_session();
  zdm::pg::record_worker_outcome(worker_args.op_id, worker_outcome, MyProcPid);
  zdm::pg::close_session();
  return 0;
}

// Runs the CALL as a top-level statement in a portal of its own, as
// exec_simple_query does: the procedure is nonatomic (its SPI_commit after
// each batch works) and its statements find the portal's snapshot.
void run_call(void) {
  PushActiveSnapshot(GetTransactionSnapshot());
  List* parsed = pg_parse_query(call_sql);
  RawStmt* stmt = linitial_node(RawStmt, parsed);
#if PG_VERSION_NUM >= 150000
  List* queries = pg_analyze_and_rewrite_fixedparams(stmt, call_sql, NULL, 0, NULL);
#else
  List* queries = pg_analyze_and_rewrite(stmt, call_sql, NULL, 0, NULL);
#endif
  List* stmts = pg_plan_queries(queries, call_sql, CURSOR_OPT_PARALLEL_OK, NULL);
  PopActiveSnapshot();
  Portal portal = CreatePortal("", true, true);
  portal->visible = false;
  PortalDefineQuery(portal, NULL, call_sql, CMDTAG_CALL, stmts, NULL);
  PortalStart(portal, NULL, 0, InvalidSnapshot);
  int16 format = 0;
  PortalSetResultFormat(portal, 1, &format);
  DestReceiver* receiver = CreateDestReceiver(DestNone);
  (void)PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, NULL);
  receiver->rDestroy(receiver);
  PortalDrop(portal, false);
}

// Waits until `pid` is gone, up to `ms`; whether it is.
bool wait_gone(int pid, int ms) {
  for (int waited = 0; BackendPidGetProc(pid) != NULL; waited += 50) {
    if (waited >= ms) return false;
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 50,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  }
  return true;
}

// The migration's live worker, if any (a pid recorded before a restart may
// belong to another process now: it must be a zdm backfill worker).
Value running_worker(const std::string& migration) {
  pg_guard([] { pgstat_clear_snapshot(); });
  return zdm::pg::live_worker_pid(migration);
}

}  // namespace

void zdm_backfill_worker_main(Datum) {
  memcpy(&worker_args, MyBgworkerEntry->bgw_extra, sizeof worker_args);
  pqsignal(SIGUSR2, request_stop);
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnectionByOid(worker_args.database, worker_args.role, 0);
  pgstat_report_appname("zdm backfill");

  volatile bool claimed = false;
  strlcpy(worker_outcome, "done", sizeof worker_outcome);
  PG_TRY();
  {
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    zdm::pg::invoke_cpp(worker_claim, NULL);
    PopActiveSnapshot();
    CommitTransactionCommand();
    if (call_sql == nullptr) proc_exit(0);  // its start rolled back: nothing to do
    claimed = true;
    pgstat_report_activity(STATE_RUNNING, call_sql);
    StartTransactionCommand();
    run_call();
    CommitTransactionCommand();
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(TopMemoryContext);
    ErrorData* edata = CopyErrorData();
    FlushErrorState();
    if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && zdm_backfill_stop_requested) {
      strlcpy(worker_outcome, "stopped", sizeof worker_outcome);
    } else {
      snprintf(worker_outcome, sizeof worker_outcome, "failed: %s", edata->message);
      edata->elevel = LOG;
      ThrowErrorData(edata);  // into the server log, with its detail and context
    }
    AbortCurrentTransaction();
  }
  PG_END_TRY();
  pgstat_report_activity(STATE_IDLE, NULL);
  if (!claimed) proc_exit(1);
  StartTransactionCommand();
  PushActiveSnapshot(GetTransactionSnapshot());
  zdm::pg::invoke_cpp(worker_record, NULL);
  PopActiveSnapshot();
  CommitTransactionCommand();
  proc_exit(0);
}

namespace zdm::pg {

bool stop_backfill_worker(const std::string& migration) {
  Value pid = running_worker(migration);
  if (!pid) return false;
  const int p = std::stoi(*pid);
  bool gone = pg_guard([&] {
    if (kill(p, SIGUSR2) != 0) return true;
    if (wait_gone(p, kStopWaitMs)) return true;
    // Not at a batch boundary in time (a long batch, or waiting on a lock):
    // its batch rolls back, nothing committed is lost.
    if (kill(p, SIGTERM) != 0) return true;
    return wait_gone(p, kStopWaitMs);
  });
  if (!gone)
    throw Error(ErrorCode::ObjectInUse,
                "the background backfill of migration \"" + migration + "\" (pid " + *pid +
                    ") did not stop",
                {}, "Try again, or SELECT pg_terminate_backend(" + *pid + ").");
  return true;
}

}  // namespace zdm::pg

ZDM_FUNCTION(zdm_backfill_start) {
  zdm::pg::BackfillArgs args = zdm::pg::read_backfill_args(fcinfo);
  zdm::pg::open_session();
  std::string migration = zdm::pg::resolve_migration(args.migration);
  zdm::pg::require_migration_owner(migration);
  zdm::core::check_transition(migration, zdm::pg::migration_state(migration),
                              zdm::core::Action::Backfill);
  if (Value pid = running_worker(migration))
    throw Error(
        ErrorCode::ObjectInUse,
        "a background backfill of migration \"" + migration + "\" is already running (pid " + *pid +
            ")",
        {},
        "Wait for it (zdm.status() shows its progress), or stop it with zdm.backfill_stop(" +
            zdm::core::quote_literal(migration) + ").");
  zdm::pg::lock_migration(migration);
  Value op = zdm::pg::first_operation_id(migration);
  if (!op)
    throw Error(ErrorCode::InvalidState,
                "migration \"" + migration + "\" has no operations to backfill");
  // The row lock taken here holds the worker's claim (and so its walk) until
  // this transaction ends and with it the migration lock above.
  zdm::pg::clear_worker(migration);

  WorkerArgs a;
  memset(&a, 0, sizeof a);
  a.database = MyDatabaseId;
  a.role = GetUserId();
  a.batch_size = args.batch_size;
  a.max_rate = static_cast<int32>(args.max_rate);
  a.pause_ms = args.pause_ms;
  a.max_lag_ms = args.max_lag_ms ? *args.max_lag_ms : -1;
  a.op_id = std::stol(*op);
  int pid = 0;
  bool registered = zdm::pg::pg_guard([&] {
    BackgroundWorker worker;
    BackgroundWorkerHandle* handle;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    strlcpy(worker.bgw_library_name, "zdm", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, "zdm_backfill_worker_main", BGW_MAXLEN);
    strlcpy(worker.bgw_name, "zdm backfill", BGW_MAXLEN);
    strlcpy(worker.bgw_type, "zdm backfill", BGW_MAXLEN);
    worker.bgw_notify_pid = MyProcPid;
    memcpy(worker.bgw_extra, &a, sizeof a);
    if (!RegisterDynamicBackgroundWorker(&worker, &handle)) return false;
    pid_t started = 0;
    if (WaitForBackgroundWorkerStartup(handle, &started) != BGWH_STARTED) return false;
    pid = started;
    return true;
  });
  if (!registered)
    throw Error(
        ErrorCode::InvalidState,
        "could not start a background worker for the backfill of migration \"" + migration + "\"",
        "All max_worker_processes slots are taken, or the worker failed to start.",
        "Raise max_worker_processes, or run CALL zdm.backfill(" +
            zdm::core::quote_literal(migration) + ") in a session.");
  zdm::pg::record_worker_running(migration, pid);
  // Started is not yet connected: wait until pg_stat_activity shows it (or it
  // is gone), so that status(), backfill_stop, finish and abort see it.
  for (int waited = 0; waited < kStopWaitMs && !running_worker(migration); waited += 10) {
    bool alive = pg_guard([&] {
      if (kill(pid, 0) != 0) return false;  // not yet in the ProcArray: no BackendPidGetProc
      (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
                      PG_WAIT_EXTENSION);
      ResetLatch(MyLatch);
      CHECK_FOR_INTERRUPTS();
      return true;
    });
    if (!alive) break;
  }
  zdm::pg::close_session();
  PG_RETURN_INT32(pid);
}

ZDM_FUNCTION(zdm_backfill_stop) {
  std::optional<std::string> requested;
  if (!PG_ARGISNULL(0)) {
    text* t = zdm::pg::pg_guard([&] { return PG_GETARG_TEXT_PP(0); });
    requested = std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  }
  zdm::pg::open_session();
  std::string migration = zdm::pg::resolve_migration(requested);
  zdm::pg::require_migration_owner(migration);
  if (!zdm::pg::stop_backfill_worker(migration))
    throw Error(ErrorCode::InvalidState,
                "no background backfill of migration \"" + migration + "\" is running", {},
                "zdm.backfill_start(" + zdm::core::quote_literal(migration) +
                    ") starts one; zdm.status() shows the backfill's progress.");
  zdm::pg::close_session();
  PG_RETURN_VOID();
}
