# PGXS build of the zdm module. The version is stated once, in zdm.control.
EXTENSION  = zdm
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" zdm.control)
MODULE_big = zdm

OBJS = \
	src/module.o \
	src/common/backfill_scope.o \
	src/common/functions_called.o \
	src/common/parse_expression.o \
	src/core/backfill.o \
	src/core/ddl_lint.o \
	src/core/model.o \
	src/core/ops/add_check.o \
	src/core/ops/add_column.o \
	src/core/ops/add_foreign_key.o \
	src/core/ops/add_unique.o \
	src/core/ops/alter_type.o \
	src/core/ops/common.o \
	src/core/ops/create_index.o \
	src/core/ops/drop_column.o \
	src/core/ops/drop_constraint.o \
	src/core/ops/drop_index.o \
	src/core/ops/join.o \
	src/core/ops/drop_table.o \
	src/core/ops/rename.o \
	src/core/ops/rename_table.o \
	src/core/ops/set_not_null.o \
	src/core/plan.o \
	src/core/progress.o \
	src/core/quote.o \
	src/core/state.o \
	src/core/verify.o \
	src/core/throttle.o \
	src/pg/api.o \
	src/pg/backfill.o \
	src/pg/boundary.o \
	src/pg/copy_check.o \
	src/pg/event_trigger.o \
	src/pg/expression.o \
	src/pg/forget.o \
	src/pg/refusals.o \
	src/pg/registry.o \
	src/pg/run_ddl.o \
	src/pg/worker.o \
	src/pg/runner.o \
	src/pg/spi.o \
	src/pg/table_desc.o \
	src/pg/throttle.o \
	src/trigger/cache_size.o \
	src/trigger/dual_write.o \
	src/trigger/expression.o \
	src/trigger/join_sync.o

DATA_built = $(EXTENSION)--$(EXTVERSION).sql
# Earlier versions' install scripts, frozen, and the upgrade scripts between
# versions (ALTER EXTENSION zdm UPDATE); sql/upgrade.sql tests the path.
DATA = src/zdm--0.1.0.sql src/zdm--0.1.0--0.2.0.sql
EXTRA_CLEAN = $(EXTENSION)--$(EXTVERSION).sql

# pg_regress pairs: every sql/NAME.sql with expected/NAME.out, no list to edit.
REGRESS = $(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=zdm

# Isolation specs (test/isolation/specs/NAME.spec with test/isolation/expected/),
# run by `make installcheck` after pg_regress, also picked up by wildcard.
ISOLATION = $(sort $(patsubst test/isolation/specs/%.spec,%,$(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=zdm
EXTRA_CLEAN += output_iso

PG_CPPFLAGS = -I$(srcdir)/src
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-register -fno-omit-frame-pointer -MMD -MP
SHLIB_LINK  = -lstdc++

# The bitcode for JIT inlining would need clang; zdm's hot path is compiled C++.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Header dependencies, so a changed struct rebuilds every object that uses it.
-include $(OBJS:.o=.d)
EXTRA_CLEAN += $(OBJS:.o=.d)

$(EXTENSION)--$(EXTVERSION).sql: src/zdm.sql zdm.control
	cp $< $@
