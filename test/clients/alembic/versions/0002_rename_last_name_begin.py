"""rename person.last_name to surname: open the zdm migration

Deploy the new app version (which writes surname) after this revision, while the
old one (which writes last_name) still runs: zdm keeps both columns in sync.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # Adds surname beside last_name with zdm's dual-write trigger, in one short step.
    # No name: zdm generates one, and the later revisions act on the only open
    # migration (a fixed name could not be used again after a downgrade, since zdm
    # keeps aborted migrations on record).
    op.execute("SELECT zdm.begin_rename('person', 'last_name', 'surname')")
    # An index on first_name joins the same migration (one finish for both): it
    # changes nothing during the window; 0003 builds it CONCURRENTLY before finish.
    op.execute(
        "SELECT zdm.begin_create_index('person', ARRAY['first_name'], "
        "name => 'person_first_name_idx', "
        "migration => (SELECT name FROM zdm.migrations WHERE state = 'active'))")


def downgrade():
    # Leaves person exactly as before upgrade: columns, constraints, triggers, data.
    op.execute("SELECT zdm.abort()")
