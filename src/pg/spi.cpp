#include "pg/spi.hpp"

#include <stdexcept>

#include "core/error.hpp"
#include "pg/boundary.hpp"

namespace zdm::pg {

namespace {

// A result copied out of SPI into plain palloc'd C strings, so the conversion to
// C++ values happens outside the guard.
struct Grid {
  long rows;
  int cols;
  char** cells;  // rows * cols, NULL for SQL NULL
};

struct Params {
  int n;
  Oid* types;
  Datum* values;
  char* nulls;
};

Params make_params(const std::vector<const char*>& texts) {
  Params p;
  p.n = static_cast<int>(texts.size());
  p.types = static_cast<Oid*>(palloc(sizeof(Oid) * (p.n + 1)));
  p.values = static_cast<Datum*>(palloc(sizeof(Datum) * (p.n + 1)));
  p.nulls = static_cast<char*>(palloc(p.n + 1));
  for (int i = 0; i < p.n; i++) {
    p.types[i] = TEXTOID;
    p.nulls[i] = texts[i] ? ' ' : 'n';
    p.values[i] = texts[i] ? CStringGetTextDatum(texts[i]) : (Datum)0;
  }
  return p;
}

// Executes `sql` and copies its result into plain C strings. C-style: runs
// inside pg_guard; everything it allocates lives in the context current when it
// is called. SPI_execute_with_args returns in SPI's procedure context (which
// lives as long as the SPI connection: a whole committing CALL), so the copies
// are made only after switching back. With `prepared` non-null, the statement
// runs from a kept plan: *prepared if set, else one prepared here and handed
// back through it (see PreparedStatements).
Grid execute_to_grid(const char* sql, const std::vector<const char*>& texts, bool read_only,
                     Oid run_as, SPIPlanPtr* prepared) {
  MemoryContext mine = CurrentMemoryContext;
  Params p = make_params(texts);
  Oid saved_user;
  int saved_sec;
  GetUserIdAndSecContext(&saved_user, &saved_sec);
  if (run_as != InvalidOid)
    SetUserIdAndSecContext(run_as, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
  volatile int rc = 0;
  PG_TRY();
  {
    if (prepared == NULL) {
      rc = SPI_execute_with_args(sql, p.n, p.types, p.values, p.nulls, read_only, 0);
    } else {
      if (*prepared == NULL) {
        SPIPlanPtr plan = SPI_prepare(sql, p.n, p.types);
        if (plan == NULL)
          elog(ERROR, "zdm: SPI_prepare failed (%s) for: %s", SPI_result_code_string(SPI_result),
               sql);
        if (SPI_keepplan(plan) != 0) elog(ERROR, "zdm: SPI_keepplan failed for: %s", sql);
        *prepared = plan;
      }
      rc = SPI_execute_plan(*prepared, p.values, p.nulls, read_only, 0);
    }
  }
  PG_FINALLY();
  {
    if (run_as != InvalidOid) SetUserIdAndSecContext(saved_user, saved_sec);
  }
  PG_END_TRY();
  MemoryContextSwitchTo(mine);
  if (rc < 0) elog(ERROR, "zdm: SPI failed (%s) running: %s", SPI_result_code_string(rc), sql);
  Grid g{(long)SPI_processed, 0, nullptr};
  if (SPI_tuptable != NULL) {
    g.cols = SPI_tuptable->tupdesc->natts;
    g.cells = static_cast<char**>(palloc0(sizeof(char*) * (g.rows * g.cols + 1)));
    for (long r = 0; r < g.rows; r++)
      for (int c = 0; c < g.cols; c++)
        g.cells[r * g.cols + c] = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1);
    SPI_freetuptable(SPI_tuptable);
  }
  return g;
}

std::vector<Row> to_rows(const Grid& g) {
  std::vector<Row> rows;
  if (g.cells == nullptr) return rows;
  rows.reserve(g.rows);
  for (long r = 0; r < g.rows; r++) {
    Row row;
    for (int c = 0; c < g.cols; c++) {
      const char* cell = g.cells[r * g.cols + c];
      row.push_back(cell ? Value(cell) : std::nullopt);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// One statement, in a memory context of its own that is deleted once the
// result is copied into C++ values, or when the statement fails: a backfill of
// a million batches in one committing CALL does not grow.
struct Result {
  long processed;
  std::vector<Row> rows;
};

// The plans kept while a PreparedStatements scope is open, by statement text.
struct KeptPlan {
  std::string sql;
  SPIPlanPtr plan;
};
std::vector<KeptPlan>* kept_plans = nullptr;
constexpr std::size_t kMaxKeptPlans = 32;

void free_plan(SPIPlanPtr plan) {
  pg_guard([&] { (void)SPI_freeplan(plan); });
}

void keep_plan(const char* sql, SPIPlanPtr plan) {
  if (kept_plans->size() >= kMaxKeptPlans) {
    free_plan(kept_plans->front().plan);
    kept_plans->erase(kept_plans->begin());
  }
  kept_plans->push_back({sql, plan});
}

Result run(const char* sql, const std::vector<Value>& params, bool read_only,
           Oid run_as = InvalidOid) {
  std::vector<const char*> texts;
  for (const Value& v : params) texts.push_back(v ? v->c_str() : nullptr);
  // Inside a PreparedStatements scope: the statement's kept plan, or a slot
  // for the one execute_to_grid prepares (the oldest is dropped when full).
  SPIPlanPtr plan = nullptr;
  SPIPlanPtr* prepared = nullptr;
  if (kept_plans) {
    for (const KeptPlan& k : *kept_plans)
      if (k.sql == sql) plan = k.plan;
    prepared = &plan;
  }
  const bool new_plan = prepared && !plan;
  MemoryContext caller = CurrentMemoryContext;
  MemoryContext scratch = pg_guard(
      [&] { return AllocSetContextCreate(caller, "zdm statement", ALLOCSET_SMALL_SIZES); });
  try {
    Grid g = pg_guard([&] {
      MemoryContextSwitchTo(scratch);
      Grid result = execute_to_grid(sql, texts, read_only, run_as, prepared);
      MemoryContextSwitchTo(caller);
      return result;
    });
    if (new_plan && plan) keep_plan(sql, plan);
    Result out{g.rows, to_rows(g)};
    MemoryContextDelete(scratch);
    return out;
  } catch (...) {
    // pg_guard copied the error into `caller`, never into `scratch`. A plan
    // prepared for a statement that then failed is kept all the same (or, if
    // even that fails, left to CacheMemoryContext: the error is what matters).
    if (new_plan && plan) {
      try {
        keep_plan(sql, plan);
      } catch (...) {
      }
    }
    MemoryContextDelete(scratch);
    throw;
  }
}

int session_guc_level = 0;
std::string caller_search_path;
std::string caller_time_zone;

}  // namespace

PreparedStatements::PreparedStatements() {
  if (!kept_plans) {
    kept_plans = new std::vector<KeptPlan>();
    owner_ = true;
  }
}

PreparedStatements::~PreparedStatements() {
  if (!owner_) return;
  std::vector<KeptPlan>* plans = kept_plans;
  kept_plans = nullptr;
  for (const KeptPlan& k : *plans) {
    try {
      free_plan(k.plan);
    } catch (...) {  // a plan that cannot be freed stays in CacheMemoryContext
    }
  }
  delete plans;
}

std::vector<Row> query(const char* sql, const std::vector<Value>& params) {
  return run(sql, params, false).rows;
}

Value query_value(const char* sql, const std::vector<Value>& params) {
  std::vector<Row> rows = query(sql, params);
  if (rows.empty() || rows[0].empty()) return std::nullopt;
  return rows[0][0];
}

namespace {

Oid catalog_owner() {
  Value owner = query_value(
      "SELECT e.extowner::pg_catalog.text FROM pg_catalog.pg_extension e WHERE e.extname = 'zdm'");
  if (!owner) throw std::runtime_error("zdm: the extension is not installed in this database");
  return static_cast<Oid>(std::stoul(*owner));
}

}  // namespace

long execute_as_catalog_owner(const char* sql, const std::vector<Value>& params) {
  return run(sql, params, false, catalog_owner()).processed;
}

Value query_value_as_catalog_owner(const char* sql, const std::vector<Value>& params) {
  Result r = run(sql, params, false, catalog_owner());
  if (r.rows.empty() || r.rows[0].empty()) return std::nullopt;
  return r.rows[0][0];
}

namespace {

// What zdm's own statements run under, whatever the caller's session says:
// names resolve in pg_catalog first; every text form zdm writes or reads back
// (a stored backfill position, a key in a message) is the same in every
// session; and no row-level security policy can hide a row from zdm (a policy
// that would filter a statement makes it fail instead).
struct Setting {
  const char* name;
  const char* value;
};
constexpr Setting kPinned[] = {
    {"search_path", "pg_catalog, pg_temp"},
    {"DateStyle", "ISO, MDY"},
    {"IntervalStyle", "postgres"},
    {"TimeZone", "UTC"},
    {"extra_float_digits", "3"},
    {"bytea_output", "hex"},
    {"lc_monetary", "C"},
    {"standard_conforming_strings", "on"},
    {"array_nulls", "on"},
    {"row_security", "off"},
};

void set_saved(const char* name, const char* value) {
  (void)set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

}  // namespace

void require_primary(const char* call) {
  if (!RecoveryInProgress()) return;
  throw core::Error(
      core::ErrorCode::ReadOnly,
      std::string(call) + " cannot run on a hot standby: the server is read-only (in recovery)",
      "A migration's steps write the tables and zdm's catalog.", "Run it on the primary server.");
}

void open_session(bool nonatomic) {
  // pg_catalog goes first, so that nothing placed earlier on the caller's path
  // can shadow an operator or function in zdm's SQL; the caller's schemas
  // follow, so that user triggers fired by backfill resolve names as usual.
  const char* path = pg_guard([] { return GetConfigOption("search_path", false, false); });
  caller_search_path = std::string("pg_catalog, ") + (path ? path : "");
  const char* zone = pg_guard([] { return GetConfigOption("TimeZone", false, false); });
  caller_time_zone = zone ? zone : "UTC";
  pg_guard([&] {
    if (SPI_connect_ext(nonatomic ? SPI_OPT_NONATOMIC : 0) != SPI_OK_CONNECT)
      elog(ERROR, "zdm: SPI_connect failed");
  });
  pin_settings();
}

void pin_settings() {
  pg_guard([&] {
    session_guc_level = NewGUCNestLevel();
    for (const Setting& setting : kPinned) set_saved(setting.name, setting.value);
  });
}

int push_caller_search_path() {
  return pg_guard([] {
    int level = NewGUCNestLevel();
    set_saved("search_path", caller_search_path.c_str());
    return level;
  });
}

void pop_search_path(int level) {
  pg_guard([&] { AtEOXact_GUC(true, level); });
}

std::vector<Row> query_as_caller(const char* sql, const std::vector<Value>& params) {
  int level = push_caller_search_path();
  pg_guard([] { set_saved("TimeZone", caller_time_zone.c_str()); });
  std::vector<Row> rows = query(sql, params);
  pop_search_path(level);
  return rows;
}

void close_session() {
  pg_guard([&] {
    AtEOXact_GUC(true, session_guc_level);
    SPI_finish();
  });
}

}  // namespace zdm::pg
