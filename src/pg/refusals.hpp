// The checks that refuse begin or finish by reading a user table's rows or its
// catalog: rows that would be lost or violate a constraint, objects built on
// what finish drops, a subscription that must finish after its publisher. Each
// throws a zdm::core::Error naming what it found and the fix, or returns.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/ops/add_foreign_key.hpp"
#include "core/ops/drop_constraint.hpp"

namespace zdm::pg {

// finish of a join operation: every (key, value) pair is in both shapes.
void check_join_in_sync(const std::string& migration, const zdm::core::TableDesc& target,
                        const zdm::core::Operation& op);
// finish: every row is up- or down-consistent (sql from zdm::core::verify_sql).
void verify_rows(const std::string& migration, const zdm::core::TableDesc& table,
                 const std::string& sql);
// finish on a subscription's table: a NOTICE with the order and the repair.
void notice_subscriptions(const std::string& migration, unsigned int relid,
                          const zdm::core::TableDesc& table);
// finish of a NOT VALID constraint: no row violates it.
void check_no_violations(const std::string& migration, const zdm::core::TableDesc& table,
                         const zdm::core::Operation& op);
// finish of add_unique: no duplicate keys while its index is not valid.
void check_no_duplicates(const std::string& migration, unsigned int relid,
                         const zdm::core::Operation& op);

// What would make dropping an index fail or drop more than it: a constraint
// it backs, objects that need it (a foreign key). "" each when none.
struct IndexBlockers {
  std::string constraint;
  std::string dependents;
};
IndexBlockers index_blockers(const std::string& index_oid);
// drop_index's finish: what was built on the index during the window.
void refuse_index_blockers(const std::string& migration, unsigned int relid,
                           const std::string& index);
// drop_index and drop_constraint, at begin and at finish: dropping the index
// that is a published table's replica identity (REPLICA IDENTITY USING INDEX,
// or the primary key under REPLICA IDENTITY DEFAULT) would make PostgreSQL
// refuse every UPDATE and DELETE on the table. `name` is the index's, or with
// `constraint` the constraint's whose index it is.
void refuse_replica_identity_drop(unsigned int relid, const std::string& name, bool constraint);
// drop_constraint: the constraint's columns and what depends on it.
zdm::core::DropConstraintRequest constraint_facts(unsigned int relid, const std::string& name);
// drop_constraint's finish: what was built on the constraint during the window.
void refuse_constraint_dependents(const std::string& migration, const zdm::core::TableDesc& table,
                                  const std::string& name);
// rename_table's view under the old name, when it is still there.
std::optional<unsigned int> rename_table_view_oid(unsigned int relid,
                                                  const zdm::core::Operation& op);

// begin: every role that may write table `relid` (INSERT or UPDATE, on the
// table or a column; a role that can log in, a role one can SET ROLE to, and
// the table's owner) may execute `functions`, which `what` (up, down, ...)
// calls (zdm_functions_called): zdm computes it with the writer's rights, and
// each write of a role that may not would fail. Refuses naming the roles (or
// PUBLIC) and the functions, with the GRANTs.
void refuse_writers_without_execute(unsigned int relid, const std::vector<unsigned int>& functions,
                                    const char* what);

// add_foreign_key: the referenced table (name and columns; REFERENCES on it is
// enough, ownership is not needed), and the checks of the referenced side that
// need the catalog, in the order PostgreSQL would fail them.
zdm::core::TableDesc load_referenced_table(unsigned int relid);
void check_references(const zdm::core::TableDesc& table, const zdm::core::TableDesc& ref,
                      const zdm::core::AddForeignKeyRequest& request);

}  // namespace zdm::pg
