// The C++ <-> PostgreSQL error boundary (the pg_duckdb pattern).
//
// C++ into PostgreSQL: every SQL-callable function is declared with
// ZDM_FUNCTION. Its body runs inside try/catch; the message is copied, the C++
// frames unwind, and only then is ereport called.
//
// PostgreSQL into C++: code that owns C++ objects calls PostgreSQL only through
// pg_guard(). A PostgreSQL error raised inside is caught at the guard (so the
// longjmp never crosses a C++ destructor), copied, and rethrown as PgError; the
// boundary re-raises it unchanged once the C++ frames are gone. The callable
// passed to pg_guard must itself own no object with a destructor.
#pragma once

#include <exception>
#include <type_traits>

#include "common/postgres.hpp"

namespace zdm::pg {

// A PostgreSQL error in flight through C++ frames. After it is thrown nothing
// but destructors may run before the boundary re-raises it.
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* edata) : edata_(edata) {}
  const char* what() const noexcept override { return edata_->message; }
  ErrorData* edata() const { return edata_; }

 private:
  ErrorData* edata_;
};

// Runs `body` and turns any exception into an ereport(ERROR) after unwinding.
Datum invoke_cpp(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo);

[[noreturn]] void throw_pg_error(MemoryContext context);

template <typename F>
auto pg_guard(F&& f) -> decltype(f()) {
  using Result = decltype(f());
  MemoryContext context = CurrentMemoryContext;
  volatile bool failed = false;
  if constexpr (std::is_void_v<Result>) {
    PG_TRY();
    { f(); }
    PG_CATCH();
    { failed = true; }
    PG_END_TRY();
    if (failed) throw_pg_error(context);
  } else {
    static_assert(std::is_trivially_copyable_v<Result>,
                  "pg_guard returns only plain values; PostgreSQL owns the memory");
    Result result{};
    Result* volatile out = &result;
    PG_TRY();
    { *out = f(); }
    PG_CATCH();
    { failed = true; }
    PG_END_TRY();
    if (failed) throw_pg_error(context);
    return result;
  }
}

}  // namespace zdm::pg

// Declares a SQL-callable function `name` whose body is C++.
#define ZDM_FUNCTION(name)                                                                     \
  static Datum name##_body(FunctionCallInfo fcinfo);                                           \
  extern "C" {                                                                                 \
  PGDLLEXPORT PG_FUNCTION_INFO_V1(name);                                                       \
  }                                                                                            \
  extern "C" Datum name(PG_FUNCTION_ARGS) { return zdm::pg::invoke_cpp(name##_body, fcinfo); } \
  static Datum name##_body(FunctionCallInfo fcinfo)
