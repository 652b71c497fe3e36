// DDL around an open migration: the checks the event triggers and begin share.
#pragma once

namespace zdm::pg {

// Refuses a table with a BEFORE row trigger on INSERT or UPDATE whose name
// sorts after zdm's dual-write trigger: it would run after the sync, and the
// two shapes would diverge. begin calls it under the table's lock.
void require_trigger_order(unsigned int relid);

}  // namespace zdm::pg
