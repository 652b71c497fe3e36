// zdm.forget(tbl): removes what a migration left on a table when zdm's catalog
// no longer holds the migration. That happens when a table is restored with
// pg_dump -t or --schema-only (its triggers come back, zdm's catalog rows do
// not), and then neither finish nor abort can act on it.
//
// Without the catalog, the triggers are the record of what zdm did:
//   zzz_zdm_dual_write  its arguments list each operation (kind, migration,
//                       old-side column, new-side column, up, down): the
//                       new-side column of a rename, add_column or alter_type
//                       is zdm's, and is dropped with what was built on it
//                       (its CHECK ... NOT VALID, indexes), as abort would.
//   0zdm_*_<id>         the join-sync triggers carry only the operation's id:
//                       they are dropped on both tables, and both shapes stay
//                       (zdm cannot tell which one it made; a NOTICE names them).
#include <algorithm>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/quote.hpp"
#include "pg/boundary.hpp"
#include "pg/registry.hpp"
#include "pg/table_desc.hpp"
#include "pg/runner.hpp"
#include "pg/spi.hpp"

namespace {

using zdm::core::Error;
using zdm::core::ErrorCode;
using zdm::core::quote_ident;
using zdm::pg::Row;
using zdm::pg::Value;

struct ZdmTrigger {
  std::string name;
  bool dual_write;  // else join sync
  std::vector<std::string> args;
};

// A trigger copied out of the relcache (C-style, inside pg_guard).
struct RawTrigger {
  char* name;
  bool dual_write;
  int nargs;
  char** args;
};

struct RawTriggers {
  int n;
  RawTrigger* triggers;
};

std::vector<ZdmTrigger> zdm_triggers_on(Oid relid, Oid dual_write_fn, Oid join_sync_fn) {
  RawTriggers raw = zdm::pg::pg_guard([&] {
    Relation rel = table_open(relid, AccessShareLock);
    RawTriggers out{0, nullptr};
    TriggerDesc* desc = rel->trigdesc;
    if (desc != NULL) {
      out.triggers =
          static_cast<RawTrigger*>(palloc0(sizeof(RawTrigger) * (desc->numtriggers + 1)));
      for (int i = 0; i < desc->numtriggers; i++) {
        Trigger* t = &desc->triggers[i];
        if (t->tgfoid != dual_write_fn && t->tgfoid != join_sync_fn) continue;
        RawTrigger& r = out.triggers[out.n++];
        r.name = pstrdup(t->tgname);
        r.dual_write = t->tgfoid == dual_write_fn;
        r.nargs = t->tgnargs;
        r.args = static_cast<char**>(palloc0(sizeof(char*) * (t->tgnargs + 1)));
        for (int a = 0; a < t->tgnargs; a++) r.args[a] = pstrdup(t->tgargs[a]);
      }
    }
    table_close(rel, AccessShareLock);
    return out;
  });
  std::vector<ZdmTrigger> out;
  for (int i = 0; i < raw.n; i++) {
    ZdmTrigger t{raw.triggers[i].name, raw.triggers[i].dual_write, {}};
    for (int a = 0; a < raw.triggers[i].nargs; a++) t.args.push_back(raw.triggers[i].args[a]);
    out.push_back(std::move(t));
  }
  return out;
}

Oid function_oid(const char* signature) {
  Value oid = zdm::pg::query_value(
      "SELECT $1::pg_catalog.regprocedure::pg_catalog.oid::pg_catalog.text", {signature});
  return static_cast<Oid>(std::stoul(*oid));
}

void notice(const std::string& message, const std::string& detail = {}) {
  zdm::pg::pg_guard([&] {
    if (detail.empty())
      ereport(NOTICE, (errmsg("%s", message.c_str())));
    else
      ereport(NOTICE, (errmsg("%s", message.c_str()), errdetail("%s", detail.c_str())));
  });
}

}  // namespace

// What forget would do now: refuses a table under an open migration, then
// reads zdm's triggers. Called before the lock and again under it.
struct Forget {
  std::vector<unsigned int> relids;
  std::vector<std::string> statements;  // empty: nothing to forget
  std::vector<std::string> migrations;
  std::vector<std::string> remaining;  // the join operations' two shapes
  std::string label;
};

Forget what_to_forget(Oid relid) {
  zdm::core::TableDesc table = zdm::pg::load_table(relid, true);
  Value open = zdm::pg::active_migrations_on(relid);
  if (open)
    throw Error(ErrorCode::ObjectInUse,
                "table " + table.qualified() + " is under migration " + *open,
                "zdm.forget removes what a migration left behind once zdm's catalog no longer "
                "holds it; this one is open.",
                "Undo it with zdm.abort() (or complete it with zdm.finish()).");

  const Oid dual_write_fn = function_oid("zdm.dual_write_trigger()");
  const Oid join_sync_fn = function_oid("zdm.join_sync_trigger()");
  std::vector<ZdmTrigger> triggers = zdm_triggers_on(relid, dual_write_fn, join_sync_fn);
  Forget f;
  f.relids.push_back(relid);
  std::vector<unsigned int>& relids = f.relids;
  std::vector<std::string>& statements = f.statements;
  std::vector<std::string>& migrations = f.migrations;
  std::vector<std::string>& remaining = f.remaining;
  for (const ZdmTrigger& t : triggers) {
    if (!t.dual_write) continue;
    // Six arguments per operation: kind, migration, old, new, up, down.
    statements.push_back("DROP TRIGGER " + quote_ident(t.name) + " ON " + table.qualified());
    for (std::size_t i = 0; i + 5 < t.args.size(); i += 6) {
      const std::string& kind = t.args[i];
      const std::string& added = t.args[i + 3];
      if (migrations.empty() || migrations.back() != "migration \"" + t.args[i + 1] + "\"")
        migrations.push_back("migration \"" + t.args[i + 1] + "\"");
      if ((kind == "rename" || kind == "add_column" || kind == "alter_type") && !added.empty() &&
          table.find_column(added) != nullptr)
        statements.push_back("ALTER TABLE " + table.qualified() + " DROP COLUMN " +
                             quote_ident(added));
    }
  }
  // Join sync: the operation's id is the trigger's second argument; its
  // triggers on both tables are named 0zdm_{lock,sync,truncate}_<id>.
  std::vector<std::string> ids;
  for (const ZdmTrigger& t : triggers)
    if (!t.dual_write && t.args.size() == 2 &&
        std::find(ids.begin(), ids.end(), t.args[1]) == ids.end())
      ids.push_back(t.args[1]);
  for (const std::string& id : ids) {
    migrations.push_back("join operation " + id);
    for (const Row& r : zdm::pg::query(
             "SELECT t.tgrelid::pg_catalog.text, t.tgname, "
             "  (SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.tgrelid "
             "   AND a.attnum = t.tgattr[1]) "
             "FROM pg_catalog.pg_trigger t WHERE t.tgfoid = $1::pg_catalog.oid "
             "AND t.tgname IN ('0zdm_lock_' || $2, '0zdm_sync_' || $2, '0zdm_truncate_' || $2) "
             "ORDER BY t.tgrelid, t.tgname",
             {std::to_string(join_sync_fn), id})) {
      const unsigned int other = static_cast<unsigned int>(std::stoul(*r[0]));
      zdm::core::TableDesc owner_checked =
          other == relid ? table : zdm::pg::load_table(other, true);
      if (other != relid) relids.push_back(other);
      statements.push_back("DROP TRIGGER " + quote_ident(*r[1]) + " ON " +
                           owner_checked.qualified());
      if (r[2] && r[1]->rfind("0zdm_sync_", 0) == 0)
        remaining.push_back(owner_checked.qualified() + "." + quote_ident(*r[2]));
    }
  }

  for (const std::string& m : migrations) f.label += (f.label.empty() ? "" : ", ") + m;
  return f;
}

ZDM_FUNCTION(zdm_forget) {
  if (PG_ARGISNULL(0)) throw Error(ErrorCode::NullValue, "tbl must not be NULL");
  const Oid relid = PG_GETARG_OID(0);
  zdm::pg::open_session();
  // The owner's (or a superuser's) call, like every other; a table in an
  // inheritance tree is no obstacle to undoing.
  zdm::core::TableDesc table = zdm::pg::load_table(relid, true);
  Forget first = what_to_forget(relid);
  if (!first.statements.empty()) {
    zdm::pg::StepOutcome locking = zdm::pg::lock_tables(first.label, "forget", first.relids);
    // Under the locks: a begin that committed meanwhile is seen, and refused.
    Forget f = what_to_forget(relid);
    for (unsigned int r : f.relids)
      if (std::find(first.relids.begin(), first.relids.end(), r) == first.relids.end())
        locking = zdm::pg::lock_tables(f.label, "forget", f.relids);
    if (!f.statements.empty()) {
      zdm::pg::run_statements(f.label, "forget", locking, f.statements);
      std::string done;
      for (const std::string& s : f.statements) done += (done.empty() ? "" : "; ") + s;
      notice("zdm: forgot " + f.label + " on table " + table.qualified(), done + ".");
      if (!f.remaining.empty()) {
        std::string shapes;
        for (const std::string& s : f.remaining) shapes += (shapes.empty() ? "" : " and ") + s;
        notice("zdm: both shapes of the join operation stay: " + shapes,
               "Without zdm's catalog it cannot tell which one the migration added; drop the "
               "one the application no longer uses.");
      }
      zdm::pg::close_session();
      PG_RETURN_VOID();
    }
  }
  notice("zdm: table " + table.qualified() + " has no zdm trigger; nothing to forget");
  zdm::pg::close_session();
  PG_RETURN_VOID();
}
