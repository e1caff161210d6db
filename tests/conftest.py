"""Shared test configuration: database fixtures for SQLite and PostgreSQL, offline models."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest_plugins = ["tests.dbfixtures"]
