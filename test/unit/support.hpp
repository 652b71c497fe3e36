// Shared by the unit tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "core/error.hpp"

namespace zdm::test {

// The code of the zdm::core::Error that `f` throws; a test failure if none.
inline zdm::core::ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const zdm::core::Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "expected a zdm::core::Error";
  return zdm::core::ErrorCode::Internal;
}

}  // namespace zdm::test
