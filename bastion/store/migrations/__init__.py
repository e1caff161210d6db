"""Alembic migrations for Bastion's tables; run them with ``bastion.store.migrate.upgrade``."""
