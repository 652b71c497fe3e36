#include "pg/boundary.hpp"

#include <cstring>

#include "core/error.hpp"

namespace zdm::pg {

namespace {

int sqlstate_of(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::InvalidParameter:
      return ERRCODE_INVALID_PARAMETER_VALUE;
    case core::ErrorCode::NullValue:
      return ERRCODE_NULL_VALUE_NOT_ALLOWED;
    case core::ErrorCode::UndefinedColumn:
      return ERRCODE_UNDEFINED_COLUMN;
    case core::ErrorCode::UndefinedObject:
      return ERRCODE_UNDEFINED_OBJECT;
    case core::ErrorCode::DuplicateColumn:
      return ERRCODE_DUPLICATE_COLUMN;
    case core::ErrorCode::DuplicateTable:
      return ERRCODE_DUPLICATE_TABLE;
    case core::ErrorCode::DuplicateObject:
      return ERRCODE_DUPLICATE_OBJECT;
    case core::ErrorCode::WrongObjectType:
      return ERRCODE_WRONG_OBJECT_TYPE;
    case core::ErrorCode::ObjectInUse:
      return ERRCODE_OBJECT_IN_USE;
    case core::ErrorCode::InvalidState:
      return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
    case core::ErrorCode::InsufficientPrivilege:
      return ERRCODE_INSUFFICIENT_PRIVILEGE;
    case core::ErrorCode::LockNotAvailable:
      return ERRCODE_LOCK_NOT_AVAILABLE;
    case core::ErrorCode::FeatureNotSupported:
      return ERRCODE_FEATURE_NOT_SUPPORTED;
    case core::ErrorCode::ReadOnly:
      return ERRCODE_READ_ONLY_SQL_TRANSACTION;
    case core::ErrorCode::Internal:
      return ERRCODE_INTERNAL_ERROR;
  }
  return ERRCODE_INTERNAL_ERROR;
}

// Fixed buffers: copying a message must not allocate, since it happens while a
// C++ exception is being handled.
struct CopiedError {
  int sqlstate;
  char message[2048];
  char detail[2048];
  char hint[1024];
};

void copy_text(char* dst, std::size_t size, const char* src) {
  std::strncpy(dst, src ? src : "", size - 1);
  dst[size - 1] = '\0';
}

}  // namespace

void throw_pg_error(MemoryContext context) {
  MemoryContextSwitchTo(context);
  ErrorData* edata = CopyErrorData();
  FlushErrorState();
  throw PgError(edata);
}

Datum invoke_cpp(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo) {
  static CopiedError copied;
  ErrorData* pg_error = nullptr;
  bool failed = false;
  try {
    return body(fcinfo);
  } catch (const PgError& e) {
    pg_error = e.edata();
  } catch (const core::Error& e) {
    failed = true;
    copied.sqlstate = sqlstate_of(e.code());
    copy_text(copied.message, sizeof copied.message, e.what());
    copy_text(copied.detail, sizeof copied.detail, e.detail().c_str());
    copy_text(copied.hint, sizeof copied.hint, e.hint().c_str());
  } catch (const std::exception& e) {
    failed = true;
    copied.sqlstate = ERRCODE_INTERNAL_ERROR;
    copy_text(copied.message, sizeof copied.message, e.what());
    copied.detail[0] = copied.hint[0] = '\0';
  } catch (...) {
    failed = true;
    copied.sqlstate = ERRCODE_INTERNAL_ERROR;
    copy_text(copied.message, sizeof copied.message, "unknown C++ exception in zdm");
    copied.detail[0] = copied.hint[0] = '\0';
  }
  // Every C++ frame below has unwound: raising a PostgreSQL error is safe now.
  if (pg_error != nullptr) ReThrowError(pg_error);
  if (failed)
    ereport(ERROR, (errcode(copied.sqlstate), errmsg("%s", copied.message),
                    copied.detail[0] ? errdetail("%s", copied.detail) : 0,
                    copied.hint[0] ? errhint("%s", copied.hint) : 0));
  pg_unreachable();
}

}  // namespace zdm::pg
