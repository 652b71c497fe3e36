// finish verifies before it contracts: every row of a table must hold both
// shapes in agreement, whatever wrote it (a trigger disabled for a while, a
// hand-written UPDATE, anything that bypassed zdm's trigger is caught here).
#pragma once

#include <string>
#include <vector>

#include "core/model.hpp"

namespace zdm::core {

// One query over the same-table operations of one migration on `table`,
// returning (number of rows that disagree, up to 10 of their keys as text).
// A row agrees when EITHER every new-side column equals what the old side
// implies (a rename's copy, an up) OR every old-side column with a copy or a
// down equals what the new side implies; a side with nothing to compare is
// true, so a group with an empty side needs no scan: "" then. Values compare
// by binary image (image_distinct_sql), NULLs included.
std::string verify_sql(const TableDesc& table, const std::vector<Operation>& ops);

}  // namespace zdm::core
