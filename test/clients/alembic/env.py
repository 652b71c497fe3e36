"""Alembic environment of the zdm client test.

A plain Alembic setup: nothing zdm-specific except that the server's NOTICEs (zdm's
backfill progress, for one) are passed to the log as they arrive.
"""
import logging
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, event, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
notice_log = logging.getLogger("zdm")


def database_url():
    return (os.environ.get("ZDM_ALEMBIC_URL")
            or context.get_x_argument(as_dictionary=True).get("url")
            or config.get_main_option("sqlalchemy.url"))


class NoticeLog:
    """psycopg2 appends each server NOTICE to connection.notices; log it instead."""

    def append(self, notice):
        notice_log.info(notice.strip())


def run_migrations_offline():
    context.configure(url=database_url(), literal_binds=True, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = create_engine(database_url(), poolclass=pool.NullPool)

    @event.listens_for(engine, "connect")
    def log_notices(dbapi_connection, _record):
        dbapi_connection.notices = NoticeLog()

    with engine.connect() as connection:
        # One transaction per revision: a revision that opens a zdm migration commits
        # it before the next revision runs.
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
