// The lock-safe runner: every DDL step zdm takes goes through run_locked_step.
//
// All locks of a step are taken at once, in OID order, under zdm.lock_timeout.
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
  int attempts;
  double lock_wait_ms;
};

StepOutcome run_locked_step(const std::string& migration, const std::string& phase,
                            std::vector<unsigned int> relids,
                            const std::vector<std::string>& statements);

}  // namespace zdm::pg
