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

// A keyset batch is two statements, so that each is a range scan of the key's
// index whatever the table's size: the first finds where the batch ends (an
// index scan of at most batch-size entries), the second converts the rows
// between the two keys, with both bounds as constants the planner can
// estimate from the key's histogram (a join to the batch's keys, or a bound
// it cannot see, made it hash a sequential scan of the whole table).
//
// Params: $1 text[] position after which to start (omitted when
// `from_start`), $2 text[] last key to visit, $3 batch size. One row: rows in
// the batch, the batch's last key as text[] (NULL when there are none).
std::string keyset_batch_end_sql(const TableDesc& table, const std::vector<KeyColumn>& key,
                                 bool from_start);
// Params: $1 text[] position after which to start (omitted when
// `from_start`), $2 text[] the batch's last key. One row: rows written.
std::string keyset_update_sql(const TableDesc& table, const std::vector<KeyColumn>& key,
                              const BackfillSpec& spec, bool from_start);

// One row: the table's greatest key as text[], or no row when it is empty.
std::string keyset_last_key_sql(const TableDesc& table, const std::vector<KeyColumn>& key);

// Params: $1 first tid, $2 tid after the last (block_start_tid): a TID range
// scan (PostgreSQL 14+) of those blocks. One row: rows written.
std::string ctid_batch_sql(const TableDesc& table, const BackfillSpec& spec);
// "(block,0)": the first tid of a block, as ctid_batch_sql's parameters.
std::string block_start_tid(long block);

}  // namespace zdm::core
