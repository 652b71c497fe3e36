#include "core/model.hpp"

#include <algorithm>

#include "core/quote.hpp"

namespace zdm::core {

const Column* TableDesc::find_column(const std::string& column) const {
  for (const Column& c : columns)
    if (c.name == column) return &c;
  return nullptr;
}

bool TableDesc::has_constraint(const std::string& constraint) const {
  return std::find(constraint_names.begin(), constraint_names.end(), constraint) !=
         constraint_names.end();
}

std::string TableDesc::qualified() const { return quote_qualified(schema, name); }

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::Rename:
      return "rename";
  }
  return "unknown";
}

}  // namespace zdm::core
