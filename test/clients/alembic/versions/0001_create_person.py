"""create person

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS zdm")
    op.create_table(
        "person",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("first_name", sa.Text),
        sa.Column("last_name", sa.Text, nullable=False),
    )
    op.execute("INSERT INTO person (id, first_name, last_name) "
               "SELECT g, 'first_' || g, 'last_' || g FROM generate_series(1, 20000) g")


def downgrade():
    # The zdm extension stays: other tables may have migrations recorded in it.
    op.drop_table("person")
