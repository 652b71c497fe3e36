// zdm's settings, registered in _PG_init (src/module.cpp); read by src/pg and
// by the trigger.
#pragma once

extern "C" {
extern int zdm_writer;                   // zdm::core::WriterSetting
extern int zdm_lock_timeout_ms;          // zdm.lock_timeout
extern int zdm_lock_retries;             // zdm.lock_retries
extern int zdm_lock_retry_max_delay_ms;  // zdm.lock_retry_max_delay
extern int zdm_standby_lag_warning_ms;   // zdm.standby_lag_warning
}
