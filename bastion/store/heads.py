"""The Alembic head revisions this version of Bastion ships, written down ahead of time.

A server checks its database against this list with one plain SQL query
(``bastion.store.schema``) and so never imports Alembic (~12 MiB) when the schema is
already current. ``tests/store/test_heads.py`` fails when a migration is added and this
list is not updated; regenerate it with ``python -m bastion.store.heads``.
"""

from __future__ import annotations

HEADS: tuple[str, ...] = (
    "actions_0001",
    "alerts_0001",
    "artifacts_0001",
    "audit_console_0001",
    "batches_0001",
    "console_0001",
    "data_0001",
    "evaluation_0002",
    "features_0001",
    "jobs_0001",
    "monitoring_0002",
    "operations_0001",
    "prompts_0001",
    "rag_0002",
    "registry_0001",
    "review_0001",
    "rollouts_0001",
    "security_0002",
    "usage_console_0001",
)


def main() -> None:
    """Print the current heads as this module's ``HEADS`` literal (computed by Alembic)."""
    from bastion.store.migrate import head

    print("HEADS: tuple[str, ...] = (")
    for revision in head().split(","):
        print(f'    "{revision}",')
    print(")")


if __name__ == "__main__":
    main()
