"""Persistence: the Database (SQLite or PostgreSQL), its tables and their migrations."""

from bastion.store import migrate
from bastion.store.database import Database, normalize_url

__all__ = ["Database", "migrate", "normalize_url"]
