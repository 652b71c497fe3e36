#include "core/plan.hpp"

#include "core/error.hpp"
#include "core/ops/rename.hpp"
#include "core/quote.hpp"

namespace zdm::core {

void check_identifier(const std::string& what, const std::string& name) {
  if (name.empty()) throw Error(ErrorCode::InvalidParameter, what + " must not be empty");
  if (name.size() > kMaxIdentifierBytes)
    throw Error(
        ErrorCode::InvalidParameter,
        what + " \"" + name + "\" is longer than " + std::to_string(kMaxIdentifierBytes) + " bytes",
        {}, "PostgreSQL would truncate it; choose a shorter name.");
  if (name.find('\0') != std::string::npos)
    throw Error(ErrorCode::InvalidParameter, what + " must not contain a NUL byte");
}

Operation validate_rename(const TableDesc& table, const RenameRequest& request,
                          const std::vector<Operation>& open_on_table) {
  return rename::validate(table, request, open_on_table);
}

Statements begin_statements(const TableDesc& table, const Operation& op) {
  switch (op.kind) {
    case OpKind::Rename:
      return rename::begin(table, op);
  }
  throw Error(ErrorCode::Internal, "unknown operation kind");
}

Statements finish_statements(const TableDesc& table, const Operation& op) {
  switch (op.kind) {
    case OpKind::Rename:
      return rename::finish(table, op);
  }
  throw Error(ErrorCode::Internal, "unknown operation kind");
}

Statements abort_statements(const TableDesc& table, const Operation& op) {
  switch (op.kind) {
    case OpKind::Rename:
      return rename::abort(table, op);
  }
  throw Error(ErrorCode::Internal, "unknown operation kind");
}

BackfillSpec backfill_spec(const Operation& op) {
  switch (op.kind) {
    case OpKind::Rename:
      return rename::backfill(op);
  }
  throw Error(ErrorCode::Internal, "unknown operation kind");
}

std::vector<std::string> trigger_args(const std::vector<Operation>& ops) {
  std::vector<std::string> args;
  for (const Operation& op : ops) {
    args.emplace_back(op_kind_name(op.kind));
    args.push_back(op.column);
    args.push_back(op.new_column);
  }
  return args;
}

Statements with_dual_write_trigger(const TableDesc& table, Statements statements,
                                   const std::vector<Operation>& remaining) {
  const std::string trigger = quote_ident(dual_write_trigger_name());
  Statements out;
  if (table.has_dual_write_trigger)
    out.push_back("DROP TRIGGER " + trigger + " ON " + table.qualified());
  for (std::string& s : statements) out.push_back(std::move(s));
  if (!remaining.empty()) {
    std::string args;
    for (const std::string& arg : trigger_args(remaining)) {
      if (!args.empty()) args += ", ";
      args += quote_literal(arg);
    }
    out.push_back("CREATE TRIGGER " + trigger + " BEFORE INSERT OR UPDATE ON " + table.qualified() +
                  " FOR EACH ROW EXECUTE FUNCTION " + quote_qualified("zdm", "dual_write_trigger") +
                  "(" + args + ")");
  }
  return out;
}

}  // namespace zdm::core
