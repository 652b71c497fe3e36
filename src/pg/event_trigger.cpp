// DDL around an open migration. Two event triggers, installed by the extension,
// refuse what would leave a migration unable to finish or abort, or its two
// shapes diverging:
//   ddl_command_start  DROP EXTENSION zdm, DROP SCHEMA zdm (which takes the
//                      extension along), DROP OWNED BY the extension's owner:
//                      the triggers would go, the added columns and their
//                      CHECK ... NOT VALID would stay, and the catalog abort
//                      needs would be gone.
//   ddl_command_end    CREATE TRIGGER / ALTER TRIGGER ... RENAME making a BEFORE
//                      row trigger that sorts after zzz_zdm_dual_write (it
//                      would run after the sync); CREATE TABLE ... INHERITS,
//                      ALTER TABLE ... INHERIT and ATTACH PARTITION that put a
//                      table under migration into an inheritance tree (the
//                      dual-write trigger covers one table, not its children).
// Both read the parse tree, which PostgreSQL hands to C event-trigger
// functions; the command tags are filtered in CREATE EVENT TRIGGER ... WHEN
// TAG IN, so every other command costs nothing. zdm's catalog is read as the
// extension's owner, so the guards work for callers who cannot read it.
#include "pg/event_trigger.hpp"

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/quote.hpp"
#include "pg/boundary.hpp"
#include "pg/registry.hpp"
#include "pg/spi.hpp"

namespace {

using zdm::core::Error;
using zdm::core::ErrorCode;
using zdm::pg::Value;

std::string table_name(Oid relid) {
  std::vector<zdm::pg::Row> rows = zdm::pg::query(
      "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::pg_catalog.oid",
      {std::to_string(relid)});
  if (rows.empty()) return "with OID " + std::to_string(relid);
  return zdm::core::quote_qualified(*rows[0][0], *rows[0][1]);
}

bool lists_zdm(List* names) {
  ListCell* lc;
  foreach (lc, names)
    if (strcmp(strVal(lfirst(lc)), "zdm") == 0) return true;
  return false;
}

// Whether a DROP OWNED names the role that owns the extension.
bool drops_extension_owner(DropOwnedStmt* stmt) {
  Value owner = zdm::pg::query_value(
      "SELECT e.extowner::pg_catalog.text FROM pg_catalog.pg_extension e WHERE e.extname = 'zdm'");
  if (!owner) return false;
  const Oid extowner = static_cast<Oid>(std::stoul(*owner));
  ListCell* lc;
  foreach (lc, stmt->roles) {
    RoleSpec* role = static_cast<RoleSpec*>(lfirst(lc));
    Oid roleid = zdm::pg::pg_guard([&] { return get_rolespec_oid(role, true); });
    if (roleid == extowner) return true;
  }
  return false;
}

void guard_drop(Node* parsetree) {
  const char* what = nullptr;
  if (IsA(parsetree, DropStmt)) {
    DropStmt* stmt = castNode(DropStmt, parsetree);
    if (stmt->removeType == OBJECT_EXTENSION && lists_zdm(stmt->objects))
      what = "DROP EXTENSION zdm";
    else if (stmt->removeType == OBJECT_SCHEMA && lists_zdm(stmt->objects))
      what = "DROP SCHEMA zdm";
  } else if (IsA(parsetree, DropOwnedStmt)) {
    if (drops_extension_owner(castNode(DropOwnedStmt, parsetree)))
      what = "DROP OWNED BY the owner of extension zdm";
  }
  if (what == nullptr) return;
  zdm::pg::wait_for_open_begins();
  Value open = zdm::pg::active_migration_names();
  if (!open) return;
  throw Error(ErrorCode::ObjectInUse,
              std::string("cannot run ") + what + " while migrations are open: " + *open,
              "Dropping the extension drops zdm's triggers but leaves the columns and CHECK ... "
              "NOT VALID constraints begin added, and the catalog zdm.abort() needs: writes to "
              "the tables would fail.",
              "Call zdm.finish() or zdm.abort() for each of them first; zdm.status() lists them.");
}

// The trigger `name` on `relid`, when it is a BEFORE row trigger on INSERT or
// UPDATE that sorts after zdm's own and the table has zdm's trigger.
void guard_trigger(Oid relid, const char* name) {
  if (relid == InvalidOid || strcmp(name, zdm::core::dual_write_trigger_name()) == 0) return;
  Value late = zdm::pg::query_value(
      "SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1::pg_catalog.oid "
      "AND t.tgname = $2::pg_catalog.name AND t.tgname > $3::pg_catalog.name "
      "AND NOT t.tgisinternal AND (t.tgtype::pg_catalog.int4 & 3) = 3 "
      "AND (t.tgtype::pg_catalog.int4 & 20) <> 0 "
      "AND EXISTS (SELECT 1 FROM pg_catalog.pg_trigger z WHERE z.tgrelid = t.tgrelid "
      "AND z.tgname = $3::pg_catalog.name)",
      {std::to_string(relid), std::string(name),
       std::string(zdm::core::dual_write_trigger_name())});
  if (!late) return;
  const std::string table = table_name(relid);
  throw Error(ErrorCode::ObjectInUse,
              "trigger \"" + std::string(name) + "\" on table " + table +
                  " would fire after zdm's trigger \"" + zdm::core::dual_write_trigger_name() +
                  "\" (migration " + zdm::pg::active_migrations_on(relid).value_or("?") + ")",
              "BEFORE row triggers fire in name order; zdm's must see what the table's own "
              "BEFORE triggers set, or the two shapes of the table diverge.",
              "Give the trigger a name that sorts before \"" +
                  std::string(zdm::core::dual_write_trigger_name()) +
                  "\", or finish or abort the migration first.");
}

// A table under migration must not join an inheritance tree, as parent or child.
void guard_family(Oid relid, const char* how) {
  if (relid == InvalidOid) return;
  Value open = zdm::pg::active_migrations_on(relid);
  if (!open) return;
  // `how` has a %s for the table.
  std::string message = how;
  message.replace(message.find("%s"), 2, "table " + table_name(relid));
  throw Error(ErrorCode::ObjectInUse, message + ": migration " + *open + " is changing it",
              "zdm's trigger and backfill cover one table, not an inheritance tree: the migration "
              "could no longer be backfilled or finished.",
              "Call zdm.finish() or zdm.abort() for the migration first.");
}

Oid relid_of(RangeVar* rv) {
  return zdm::pg::pg_guard([&] { return RangeVarGetRelid(rv, NoLock, true); });
}

// What one command asks to check: a trigger on a table, or a table joining an
// inheritance tree. Names are resolved before search_path is pinned, as the
// command itself resolved them.
struct Check {
  Oid relid;
  const char* trigger;  // NULL: an inheritance check
  const char* how;
};

std::vector<Check> checks_of(Node* parsetree) {
  std::vector<Check> out;
  if (IsA(parsetree, CreateTrigStmt)) {
    CreateTrigStmt* stmt = castNode(CreateTrigStmt, parsetree);
    out.push_back({relid_of(stmt->relation), stmt->trigname, nullptr});
  } else if (IsA(parsetree, RenameStmt)) {
    RenameStmt* stmt = castNode(RenameStmt, parsetree);
    if (stmt->renameType == OBJECT_TRIGGER)
      out.push_back({relid_of(stmt->relation), stmt->newname, nullptr});
  } else if (IsA(parsetree, CreateStmt) || IsA(parsetree, CreateForeignTableStmt)) {
    CreateStmt* stmt = IsA(parsetree, CreateStmt)
                           ? castNode(CreateStmt, parsetree)
                           : &castNode(CreateForeignTableStmt, parsetree)->base;
    ListCell* lc;
    foreach (lc, stmt->inhRelations)
      out.push_back(
          {relid_of(static_cast<RangeVar*>(lfirst(lc))), nullptr, "cannot inherit from %s"});
  } else if (IsA(parsetree, AlterTableStmt)) {
    AlterTableStmt* stmt = castNode(AlterTableStmt, parsetree);
    ListCell* lc;
    foreach (lc, stmt->cmds) {
      AlterTableCmd* cmd = static_cast<AlterTableCmd*>(lfirst(lc));
      if (cmd->subtype == AT_AddInherit) {
        out.push_back({relid_of(castNode(RangeVar, cmd->def)), nullptr, "cannot inherit from %s"});
        out.push_back({relid_of(stmt->relation), nullptr, "%s cannot inherit from another table"});
      } else if (cmd->subtype == AT_AttachPartition) {
        out.push_back({relid_of(castNode(PartitionCmd, cmd->def)->name), nullptr,
                       "%s cannot become a partition"});
      }
    }
  }
  return out;
}

void guard_end(const std::vector<Check>& checks) {
  for (const Check& c : checks) {
    if (c.trigger != nullptr)
      guard_trigger(c.relid, c.trigger);
    else
      guard_family(c.relid, c.how);
  }
}

// SPI and search_path pinned to pg_catalog for one guard. Not open_session():
// the guards also fire inside zdm's own DDL (begin creates a trigger), whose
// session must stay as it is.
int connect() {
  return zdm::pg::pg_guard([] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "zdm: SPI_connect failed");
    int level = NewGUCNestLevel();
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                            GUC_ACTION_SAVE, true, 0, false);
    return level;
  });
}

void disconnect(int level) {
  zdm::pg::pg_guard([&] {
    AtEOXact_GUC(true, level);
    SPI_finish();
  });
}

EventTriggerData* event_data(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    throw Error(ErrorCode::InvalidState, "zdm's DDL guards must be called as event triggers");
  return reinterpret_cast<EventTriggerData*>(fcinfo->context);
}

}  // namespace

namespace zdm::pg {

void require_trigger_order(unsigned int relid) {
  Value late = query_value(
      "SELECT pg_catalog.string_agg(pg_catalog.format('%I', t.tgname), ', ' ORDER BY t.tgname) "
      "FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1::pg_catalog.oid "
      "AND t.tgname > $2::pg_catalog.name AND NOT t.tgisinternal "
      "AND (t.tgtype::pg_catalog.int4 & 3) = 3 AND (t.tgtype::pg_catalog.int4 & 20) <> 0",
      {std::to_string(relid), std::string(core::dual_write_trigger_name())});
  if (!late) return;
  throw Error(ErrorCode::InvalidState,
              "table " + table_name(relid) +
                  " has BEFORE row triggers that would fire after zdm's "
                  "trigger \"" +
                  core::dual_write_trigger_name() + "\": " + *late,
              "BEFORE row triggers fire in name order; zdm's must see what the table's own "
              "BEFORE triggers set, or the two shapes of the table diverge.",
              "Rename them so that they sort before \"" +
                  std::string(core::dual_write_trigger_name()) +
                  "\" (ALTER TRIGGER ... ON ... RENAME TO ...), then begin again.");
}

}  // namespace zdm::pg

ZDM_FUNCTION(zdm_guard_ddl_start) {
  EventTriggerData* data = event_data(fcinfo);
  int level = connect();
  guard_drop(data->parsetree);
  disconnect(level);
  return PointerGetDatum(nullptr);
}

ZDM_FUNCTION(zdm_guard_ddl_end) {
  EventTriggerData* data = event_data(fcinfo);
  std::vector<Check> checks = checks_of(data->parsetree);
  if (checks.empty()) return PointerGetDatum(nullptr);
  int level = connect();
  guard_end(checks);
  disconnect(level);
  return PointerGetDatum(nullptr);
}
