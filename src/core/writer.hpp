// Which side of a migration a row write comes from. Pure functions of a few
// booleans, so the trigger's hot path can call them and unit tests can pin
// every case of DESIGN.md's writer rules.
#pragma once

namespace zdm::core {

// Values of the zdm.writer GUC; the numbers are the GUC's enum values.
enum class WriterSetting : int { Auto = 0, Old = 1, New = 2 };

enum class Side { Old, New };

// INSERT: under auto, a non-NULL new-side column marks a new-side write (the
// new-side columns have no default during the window, so only the new app
// fills them).
constexpr Side insert_side(WriterSetting writer, bool new_side_filled) {
  if (writer == WriterSetting::Old) return Side::Old;
  if (writer == WriterSetting::New) return Side::New;
  return new_side_filled ? Side::New : Side::Old;
}

// UPDATE: the side whose columns changed is the source; both changed means the
// new side wins, or the declared side; neither changed means the new side is
// recomputed from the old. The sides are those of one migration: all its
// operations go the same way. A declared writer decides only when both sides
// changed: an UPDATE that touches neither side (say, of another column) must
// never copy a new side that the backfill has not filled yet over the old one.
constexpr Side update_side(WriterSetting writer, bool old_changed, bool new_changed) {
  if (old_changed && new_changed) return writer == WriterSetting::Old ? Side::Old : Side::New;
  return new_changed ? Side::New : Side::Old;
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
