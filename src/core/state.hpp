// The life of a migration: active -> finished | aborted. Every transition that
// a user can ask for is checked here, so the error texts live in one place.
#pragma once

#include <string>

namespace zdm::core {

enum class MigrationState { Active, Finished, Aborted };

const char* state_name(MigrationState state);
MigrationState parse_state(const std::string& text);

enum class Action { AddOperation, Backfill, Finish, Abort };

// Throws core::Error (InvalidState) when `action` is not allowed in `state`.
void check_transition(const std::string& migration, MigrationState state, Action action);

// Throws when finish is asked for before every operation's backfill is done.
void check_backfill_complete(const std::string& migration, long operations_pending);

}  // namespace zdm::core
