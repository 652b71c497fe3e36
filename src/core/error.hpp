// Errors raised by the pure C++ core. The PostgreSQL boundary turns them into
// ereport(ERROR) after every C++ frame has unwound.
#pragma once

#include <stdexcept>
#include <string>

namespace zdm::core {

// The SQLSTATE classes zdm reports; mapped to PostgreSQL codes in src/pg.
enum class ErrorCode {
  InvalidParameter,  // 22023 invalid_parameter_value
  NullValue,         // 22004 null_value_not_allowed
  UndefinedColumn,   // 42703
  UndefinedObject,   // 42704
  DuplicateColumn,   // 42701
  DuplicateTable,    // 42P07
  DuplicateObject,   // 42710
  WrongObjectType,   // 42809
  ObjectInUse,       // 55006
  InvalidState,      // 55000 object_not_in_prerequisite_state
  InsufficientPrivilege,
  LockNotAvailable,     // 55P03
  FeatureNotSupported,  // 0A000
  ReadOnly,             // 25006 read_only_sql_transaction (a hot standby)
  Internal,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::string detail = {}, std::string hint = {})
      : std::runtime_error(message),
        code_(code),
        detail_(std::move(detail)),
        hint_(std::move(hint)) {}

  ErrorCode code() const { return code_; }
  const std::string& detail() const { return detail_; }
  const std::string& hint() const { return hint_; }

 private:
  ErrorCode code_;
  std::string detail_;
  std::string hint_;
};

}  // namespace zdm::core
