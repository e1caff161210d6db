"""The web console (server-rendered pages at ``/console``): ``build_console()`` is its app."""

from bastion.console.app import build_console

__all__ = ["build_console"]
