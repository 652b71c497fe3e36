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
// new side wins; neither changed means the new side is recomputed from the old.
constexpr Side update_side(WriterSetting writer, bool old_changed, bool new_changed) {
  if (writer == WriterSetting::Old) return Side::Old;
  if (writer == WriterSetting::New) return Side::New;
  if (new_changed) return Side::New;
  (void)old_changed;  // old changed or nothing changed: recompute new from old
  return Side::Old;
}

}  // namespace zdm::core
