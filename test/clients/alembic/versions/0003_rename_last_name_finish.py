"""rename person.last_name to surname: backfill, then finish

Run this once no instance of the old app version is left.

Revision ID: 0003
Revises: 0002
"""
import os

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # The index 0002 recorded (zdm.pending_statements() lists this statement):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction block; finish refuses
    # until it is valid.
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS person_first_name_idx "
                   "ON person USING btree (first_name)")
    backfill = "CALL zdm.backfill(batch_size => 1000, pause => '20 milliseconds')"
    if os.environ.get("ZDM_ALEMBIC_BACKFILL") == "in-transaction":
        # Runs every batch in this revision's transaction (zdm says so in a NOTICE):
        # row locks are held and progress stays invisible until the commit.
        op.execute(backfill)
    else:
        # Outside a transaction block the backfill commits batch by batch and can be
        # resumed after a crash. Alembic commits the revision's transaction so far,
        # runs this in autocommit mode, then opens a new transaction.
        with op.get_context().autocommit_block():
            op.execute(backfill)
    # Drops the new copy and renames last_name (the original column, with its
    # constraints, indexes and statistics) to surname.
    op.execute("SELECT zdm.finish()")
    # Any other DDL through zdm's lock-safe runner: lock_timeout with retries,
    # refused if it would block traffic, logged in zdm.ddl_log.
    op.execute("SELECT zdm.run_ddl('ALTER TABLE person ALTER COLUMN surname SET STATISTICS 500')")


def downgrade():
    raise RuntimeError(
        "zdm.finish() cannot be undone: the old column name is gone. Write a new "
        "revision that renames surname back with zdm.begin_rename().")
