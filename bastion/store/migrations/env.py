"""Alembic environment: runs on the connection ``bastion.store.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bastion.errors import ConfigError
from bastion.store.tables import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(_connection, Connection):
    raise ConfigError(
        "Bastion's migrations run only through bastion.store.migrate (`bastion db upgrade`), "
        "not through the alembic command line"
    )
run_migrations(_connection)
