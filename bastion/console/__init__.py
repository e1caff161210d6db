"""The web console (server-rendered pages at ``/console``): ``LazyConsole()`` is its app,
built by ``bastion.console.app.build_console()`` on the first console request."""

from bastion.console.lazy import LazyConsole

__all__ = ["LazyConsole"]
