// join_to_column and column_to_join: one plan for begin, backfill, finish and
// abort of both directions, which share their triggers.
//
// During the window a join table J(join_key, join_value) and a column of the
// target T hold the same map: J has a row (k, v) exactly when T's row with
// target_key = k has column = v. AFTER row triggers on both tables carry every
// write to the other shape (zdm.join_sync_trigger, src/trigger/join_sync.cpp);
// a BEFORE INSERT trigger on J locks the target row first, so that the two
// apps redeeming one target take their row locks in the same order.
//
// join_to_column: begin adds T.column (and its foreign key, NOT VALID); the
// backfill copies J into T; finish validates the key and drops J.
// column_to_join: begin creates J (PRIMARY KEY (key, value), UNIQUE (key)
// while the column still exists); the backfill copies T into J; finish drops
// the column and the UNIQUE, so J can hold several values per key (n:m).
#pragma once

#include "core/plan.hpp"

namespace zdm::core::join {

// The triggers' names start with "0": AFTER triggers fire in name order, and
// zdm's must run before the "RI_ConstraintTrigger_..." of a foreign key from J
// to T, so that a target row deleted by the new app takes its join row along
// before the key is checked.
std::string sync_trigger_name(const Operation& op);
std::string lock_trigger_name(const Operation& op);
std::string truncate_trigger_name(const Operation& op);

Operation validate_join_to_column(const TableDesc& join, const TableDesc& target,
                                  const JoinToColumnRequest& request,
                                  const std::vector<Operation>& open_on_join,
                                  const std::vector<Operation>& open_on_target);
Operation validate_column_to_join(const TableDesc& target, const ColumnToJoinRequest& request,
                                  const std::vector<Operation>& open_on_target);

Statements begin(const TableDesc& target, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& target, const Operation& op);
Statements finish_validation(const TableDesc& target, const Operation& op);
Statements finish(const TableDesc& target, const Operation& op);
Statements abort(const TableDesc& target, const Operation& op);

// The SQL of a join operation's backfill and of finish's check. Keys travel as
// text[]; every statement returns one row.
struct BackfillSql {
  std::string last_key;  // the walk's last key as text[] (no row/NULL: empty)
  // true: a batch is a key range [lo, hi] (both keys of the same type and
  // collation); false: a list of keys.
  bool by_range = false;
  // $1 last key done (text[]; first_keys ignores it), $2 the walk's last key,
  // $3 batch size: the batch (by_range: its first key as text[]; else its keys
  // as text[]), the source rows it holds, its last key (text[]), and whether it
  // is the walk's last batch.
  std::string first_keys;
  std::string next_keys;
  // $1, $2: first_keys' / next_keys' first and third columns.
  std::string lock;  // locks the batch's target rows; count
  // copies the batch, with zdm's triggers off: rows written, and (join_to_column
  // by range, else NULL) those a trigger changed on the way and the join rows
  // of the range.
  std::string copy;
  // The source rows that still differ after the copy: how many; how many of
  // them because the other shape has no row of the key; the first keys (text[])
  // of those, and of the rest (the other shape's row holds another value).
  std::string conflicts;
};
BackfillSql backfill_sql(const TableDesc& join, const TableDesc& target, const Operation& op);
// One row: how many (key, value) pairs the join table and the column do not
// share, and the first keys (text[]).
std::string difference_sql(const TableDesc& join, const TableDesc& target, const Operation& op);

// A foreign key clause ("REFERENCES ... ON DELETE ...") moved between the two
// shapes. A join row is the redemption, a column value only a part of the
// target row: deleting the referenced row must remove the join row
// (CASCADE) or clear the column (SET NULL), never delete the target row.
std::string references_for_column(const std::string& join_references);
std::string references_for_join(const std::string& column_references);

}  // namespace zdm::core::join
