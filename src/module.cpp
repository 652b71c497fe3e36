// The module: PG_MODULE_MAGIC, settings, and the triggers' cache callbacks.
// It sits above src/pg and src/trigger, the one file that sees both.
#include "common/guc.hpp"
#include "common/postgres.hpp"
#include "core/writer.hpp"
#include "trigger/dual_write.hpp"
#include "trigger/join_sync.hpp"

extern "C" {
PG_MODULE_MAGIC;

int zdm_writer = static_cast<int>(zdm::core::WriterSetting::Auto);
int zdm_lock_timeout_ms = 100;
int zdm_lock_retries = 30;
int zdm_lock_retry_max_delay_ms = 2000;
int zdm_standby_lag_warning_ms = 5000;

PGDLLEXPORT void _PG_init(void);
}

namespace {

const struct config_enum_entry writer_options[] = {
    {"auto", static_cast<int>(zdm::core::WriterSetting::Auto), false},
    {"old", static_cast<int>(zdm::core::WriterSetting::Old), false},
    {"new", static_cast<int>(zdm::core::WriterSetting::New), false},
    {NULL, 0, false},
};

}  // namespace

void _PG_init(void) {
  DefineCustomEnumVariable(
      "zdm.writer", "Which side of open migrations this session writes as.",
      "auto infers the side from the columns a write fills; old and new declare it, e.g. "
      "with options=-c zdm.writer=new in a connection string.",
      &zdm_writer, static_cast<int>(zdm::core::WriterSetting::Auto), writer_options, PGC_USERSET, 0,
      NULL, NULL, NULL);
  DefineCustomIntVariable(
      "zdm.lock_timeout", "How long one attempt of a zdm DDL step waits for its locks.",
      "After that the step rolls back and retries, so that sessions queued "
      "behind it are never stalled for longer.",
      &zdm_lock_timeout_ms, 100, 1, 60 * 1000, PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
  DefineCustomIntVariable("zdm.lock_retries",
                          "How many times a zdm DDL step retries after a lock timeout.",
                          "When they are spent the step fails and names the blocking sessions.",
                          &zdm_lock_retries, 30, 0, 100000, PGC_USERSET, 0, NULL, NULL, NULL);
  DefineCustomIntVariable("zdm.lock_retry_max_delay",
                          "Upper bound of the jittered exponential pause between lock retries.",
                          NULL, &zdm_lock_retry_max_delay_ms, 2000, 1, 60 * 1000, PGC_USERSET,
                          GUC_UNIT_MS, NULL, NULL, NULL);
  DefineCustomIntVariable(
      "zdm.standby_lag_warning",
      "Replay lag of a standby over which a step about to take ACCESS EXCLUSIVE warns.",
      "The standby replays that lock too; its queries on the table then wait (up to "
      "max_standby_streaming_delay) behind a replay that is already late. 0 turns it off.",
      &zdm_standby_lag_warning_ms, 5000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
  MarkGUCPrefixReserved("zdm");
#else
  EmitWarningsOnPlaceholders("zdm");
#endif
  zdm_dual_write_init();
  zdm_join_sync_init();
}
