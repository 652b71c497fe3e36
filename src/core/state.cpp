#include "core/state.hpp"

#include "core/error.hpp"
#include "core/quote.hpp"

namespace zdm::core {

const char* state_name(MigrationState state) {
  switch (state) {
    case MigrationState::Active:
      return "active";
    case MigrationState::Finished:
      return "finished";
    case MigrationState::Aborted:
      return "aborted";
  }
  return "unknown";
}

MigrationState parse_state(const std::string& text) {
  if (text == "active") return MigrationState::Active;
  if (text == "finished") return MigrationState::Finished;
  if (text == "aborted") return MigrationState::Aborted;
  throw Error(ErrorCode::Internal, "unknown migration state \"" + text + "\"");
}

namespace {

const char* action_verb(Action action) {
  switch (action) {
    case Action::AddOperation:
      return "add an operation to";
    case Action::Backfill:
      return "backfill";
    case Action::Finish:
      return "finish";
    case Action::Abort:
      return "abort";
  }
  return "change";
}

}  // namespace

void check_transition(const std::string& migration, MigrationState state, Action action) {
  if (state == MigrationState::Active) return;
  std::string message = std::string("cannot ") + action_verb(action) + " migration \"" + migration +
                        "\": it is already " + state_name(state);
  std::string hint = state == MigrationState::Aborted
                         ? "An aborted migration cannot be resumed; start a new one with "
                           "zdm.begin_*()."
                         : "The migration is complete; nothing is left to do.";
  throw Error(ErrorCode::InvalidState, message, {}, hint);
}

void check_backfill_complete(const std::string& migration, long operations_pending) {
  if (operations_pending == 0) return;
  throw Error(
      ErrorCode::InvalidState,
      "cannot finish migration \"" + migration + "\": its backfill is not complete",
      std::to_string(operations_pending) + " operation(s) still have rows to convert.",
      "Run CALL zdm.backfill(" + quote_literal(migration) + "); then call zdm.finish() again.");
}

}  // namespace zdm::core
