"""`bastion backup` / `bastion restore`: the database (SQLite's online backup API, pg_dump, or
a portable logical dump) and the artifact store, with a manifest of hashes. Offline: these
open the database themselves and need no running server."""

from bastion.backup.manifest import Manifest
from bastion.backup.restore import restore_backup
from bastion.backup.service import BackupError, RestoreReport, make_backup

__all__ = ["BackupError", "Manifest", "RestoreReport", "make_backup", "restore_backup"]
