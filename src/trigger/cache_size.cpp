// zdm.trigger_cache_size(): how many entries this backend's trigger caches
// hold (a diagnostic: they must shrink again when tables leave a migration).
#include "common/postgres.hpp"
#include "trigger/dual_write.hpp"
#include "trigger/join_sync.hpp"

extern "C" {
PGDLLEXPORT PG_FUNCTION_INFO_V1(zdm_trigger_cache_size);
}

extern "C" Datum zdm_trigger_cache_size(PG_FUNCTION_ARGS) {
  TupleDesc desc;
  if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
    elog(ERROR, "zdm.trigger_cache_size() must return a record");
  desc = BlessTupleDesc(desc);
  Datum values[2] = {Int32GetDatum(zdm_dual_write_cache_entries()),
                     Int32GetDatum(zdm_join_sync_cache_entries())};
  bool nulls[2] = {false, false};
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
