// Which side of a migration a row write comes from. Pure functions of a few
// booleans, so the trigger's hot path can call them and unit tests can pin
// every case of DESIGN.md's writer rules.
#pragma once

namespace zdm::core {

// Values of the zdm.writer GUC; the numbers are the GUC's enum values.
enum class WriterSetting : int { Auto = 0, Old = 1, New = 2 };

enum class Side { Old, New };

// INSERT: when the row fills (non-NULL) the columns of one side only, that
// side is the source, whatever zdm.writer says: a mismatched declaration (a
// shared role, a pooled connection carrying the other app's SET) never drops
// an inserted value. Under auto that is the rule as well: new-side columns
// have no default during the window, so only the new app fills them. Both
// sides filled: the declared side decides (auto: the new side). Neither
// filled: the declared side decides too (auto: the old side), so the new
// app's INSERT of a NULL new column under zdm.writer=new stays NULL — except
// when the old side has no column of its own (add_column alone: its `up`
// reads the row's other columns): then the row's values are all old-side
// ones, and declaring zdm.writer=new must not leave the added column empty
// (found by the differential fuzz test).
constexpr Side insert_side(WriterSetting writer, bool old_side_filled, bool new_side_filled,
                           bool has_old_columns = true) {
  if (old_side_filled != new_side_filled) return new_side_filled ? Side::New : Side::Old;
  if (!new_side_filled && !has_old_columns) return Side::Old;
  if (writer != WriterSetting::Auto) return writer == WriterSetting::Old ? Side::Old : Side::New;
  return new_side_filled ? Side::New : Side::Old;
}

// How an UPDATE wrote one side of a migration: not at all, by assigning its
// columns their current values only, or by changing one. A side is written
// when the statement assigns one of its columns (tg_updatedcols: the SET list,
// ON CONFLICT DO UPDATE's and MERGE's too) or its value changed (a BEFORE
// trigger's doing): an assigned NULL is a write.
enum class Write { None, Same, Changed };

// UPDATE: the written side is the source. Both written means the new side
// wins, or the declared side; but when only one of them changed a value (a
// MERGE counts the columns of all its UPDATE actions as assigned) that one is
// the source. Neither written means the new side is recomputed from the old
// side's inputs that changed. The sides are those of one migration: all its
// operations go the same way. A declared writer decides only when both sides
// changed: an UPDATE that touches neither side (say, of another column) must
// never copy a new side that the backfill has not filled yet over the old one.
constexpr Side update_side(WriterSetting writer, Write old_side, Write new_side) {
  if (old_side != Write::None && new_side != Write::None) {
    if (old_side != new_side) return old_side == Write::Changed ? Side::Old : Side::New;
    return writer == WriterSetting::Old ? Side::Old : Side::New;
  }
  return new_side != Write::None ? Side::New : Side::Old;
}

// INSERT into a table whose migration has no new-side column (it only drops
// columns): the new app leaves the dropped column out, so a NULL there marks a
// new-side write, which fills it with `down`.
constexpr Side insert_side_dropping_only(WriterSetting writer, bool dropped_left_out) {
  if (writer == WriterSetting::Old) return Side::Old;
  if (writer == WriterSetting::New) return Side::New;
  return dropped_left_out ? Side::New : Side::Old;
}

}  // namespace zdm::core
