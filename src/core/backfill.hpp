// The SQL of one backfill batch. A batch walks the table by a unique key
// (keyset pagination) or, on a table without one, by ranges of heap blocks
// (ctid). It converts rows with a no-op UPDATE that the dual-write trigger
// turns into an old-side write; only rows that still need it are written.
#pragma once

#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/plan.hpp"

namespace zdm::core {

struct KeyColumn {
  std::string name;
  std::string type_sql;
};

// Params: $1 text[] position after which to start (omitted when `from_start`),
// $2 text[] last key to visit, $3 batch size.
// Returns one row: rows visited, rows written, the batch's last key as text[].
std::string keyset_batch_sql(const TableDesc& table, const std::vector<KeyColumn>& key,
                             const BackfillSpec& spec, bool from_start);

// One row: the table's greatest key as text[], or no row when it is empty.
std::string keyset_last_key_sql(const TableDesc& table, const std::vector<KeyColumn>& key);

// Params: $1 first block, $2 block after the last. One row: rows written.
std::string ctid_batch_sql(const TableDesc& table, const BackfillSpec& spec);

}  // namespace zdm::core
