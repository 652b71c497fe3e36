// alter_type: one plan for begin, backfill, finish and abort.
//
// A shadow column of the new type ("<column>_new") appears at begin, with the
// column's NOT NULL (as a NOT VALID check) and CHECKs. Old-side writes fill it
// with `up` (by default a cast), new-side writes fill the column with `down`
// (by default the cast back). Its indexes are built on the shadow column by
// CREATE INDEX CONCURRENTLY statements that the migration tool runs
// (zdm.pending_statements()); finish refuses until each is valid, then drops
// the old column and gives the shadow column, its indexes and its constraints
// the old names. With new_name the converted column is created under that name
// and keeps it (finish renames no column): one name for the new app throughout.
#pragma once

#include "core/plan.hpp"

namespace zdm::core::alter_type {

Operation validate(const TableDesc& table, const AlterTypeRequest& request,
                   const std::vector<Operation>& open_on_table);
// The shadow column: "<column>_new", or the first free variant.
std::string shadow_name(const TableDesc& table, const std::string& column);
// Refuses a column a shadow column cannot replace (primary key, identity,
// generated, serial, foreign key, non-simple index, objects reading it that
// finish's DROP COLUMN would break): set_not_null with `up` shares it.
// `action` words the error: "change the type of", "set NOT NULL with up on".
void check_can_shadow(const TableDesc& table, const Column& column, const std::string& action);
// Whether a value written as `to` into a column of type `from` (by assignment)
// is stored exactly as a column of type `to` would store it, or refused with an
// error, and every `from` value converts to `to` without loss: then the new app
// can write the column under its old type until finish (types as format_type
// prints them). smallint -> integer/bigint, integer -> bigint, numeric(p,s) ->
// numeric(q >= p,s), character varying(n) -> character varying(m >= n) /
// character varying / text.
bool is_lossless_widening(const std::string& from, const std::string& to);
Statements index_statements(const TableDesc& table, const Operation& op);
std::vector<std::string> index_names(const TableDesc& table, const Operation& op);
Statements begin(const TableDesc& table, const Operation& op);
bool needs_backfill(const Operation& op);
BackfillSpec backfill(const TableDesc& table, const Operation& op);
Statements finish_validation(const TableDesc& table, const Operation& op);
Statements finish(const TableDesc& table, const Operation& op);
Statements abort(const TableDesc& table, const Operation& op);

}  // namespace zdm::core::alter_type
