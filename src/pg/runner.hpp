// The lock-safe runner: every DDL step zdm takes goes through it, in two calls.
//
// lock_tables takes all locks of a step at once, in OID order, under
// zdm.lock_timeout, and keeps them to the end of the transaction. Only then does
// the caller read the catalog and plan, so that a plan never rests on a table
// description or a list of open operations that another session changed while
// this one queued; run_statements then runs the plan.
//
// A lock timeout rolls the step's subtransaction back and retries it after a
// jittered, exponentially growing pause, so sessions queued behind zdm wait at
// most one lock_timeout. When zdm.lock_retries is spent, the error names the
// sessions holding the locks and their queries. Every statement run is logged
// in zdm.ddl_log with the attempts and the lock wait it took.
#pragma once

#include <string>
#include <vector>

namespace zdm::pg {

struct StepOutcome {
  int attempts = 0;
  double lock_wait_ms = 0;
  std::vector<unsigned int> relids;  // what was locked, for blocker reports
};

enum class LockStrength {
  Exclusive,  // ACCESS EXCLUSIVE: for DDL that changes the table's shape
  Validate,   // SHARE UPDATE EXCLUSIVE: for scans (VALIDATE) that traffic may pass
  // SHARE ROW EXCLUSIVE: what ADD FOREIGN KEY takes on both tables; reads go on,
  // writes wait.
  ShareRowExclusive,
};

StepOutcome lock_tables(const std::string& migration, const std::string& phase,
                        std::vector<unsigned int> relids,
                        LockStrength strength = LockStrength::Exclusive);

// Refuses, at once and naming them, while a CREATE INDEX CONCURRENTLY or
// REINDEX CONCURRENTLY runs on one of the tables in another session: it would
// wait for this transaction while this step waits for its lock (lock_tables
// calls it first).
void refuse_running_index_builds(const std::string& migration, const std::string& phase,
                                 const std::vector<unsigned int>& relids);

// Runs the statements with the locks already held. A lock timeout inside them
// (a dependent object) is retried the same way; `locking` is added to the
// attempts and wait logged for each statement.
void run_statements(const std::string& migration, const std::string& phase,
                    const StepOutcome& locking, const std::vector<std::string>& statements);

}  // namespace zdm::pg
