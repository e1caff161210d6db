"""The CLI's one door: a small client of the running server's admin API.

Every command that acts on a running system goes through the server, so it meets the same
authorization, gates, audit records and events as any other caller, and works unchanged
against a remote cluster. Where to go and with which key, first found wins:

- the server: ``--url``, ``$BASTION_URL``, the profile's ``url``, then the config's
  ``server.host``/``server.port`` (``https`` when the config has a TLS certificate);
- the key: ``--key``, ``$BASTION_KEY``, the profile's ``key``, then the config's
  ``security.admin_key``.

The profile is a small JSON file, ``$BASTION_PROFILE`` or ``~/.config/bastion/profile.json``:
``{"url": "https://bastion.internal", "key": "bst_…"}`` (keep it mode 0600).

Failures are one line on stderr and exit code 1 (or an ``ApiError`` for a caller that handles
it, with ``raise_errors=True``): the server unreachable (with the URL tried),
the key refused (401) or lacking the role (403), or the server's own error ``type: message``.
Uploads stream the file in chunks; nothing is read whole into memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import typer

from bastion.cli.common import err_console, settings_from

UrlOption = typer.Option(
    None, "--url", envvar="BASTION_URL", help="the server (default: profile, then config)"
)
KeyOption = typer.Option(
    None, "--key", envvar="BASTION_KEY", help="an API key (default: profile, then admin key)"
)
CHUNK = 1 << 20
DEFAULT_TIMEOUT_S = 120.0


def profile_path() -> Path:
    """Where the CLI profile lives: ``$BASTION_PROFILE`` or ``~/.config/bastion/profile.json``."""
    explicit = os.environ.get("BASTION_PROFILE")
    return Path(explicit) if explicit else Path.home() / ".config" / "bastion" / "profile.json"


def read_profile(path: Path | None = None) -> dict[str, str]:
    """The profile's ``url`` and ``key`` (absent file: empty; unreadable file: exit 2)."""
    path = path or profile_path()
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] cannot read the CLI profile {path}: {exc}")
        raise typer.Exit(2) from exc
    if not isinstance(doc, dict):
        err_console.print(f"[red]error:[/red] the CLI profile {path} must be a JSON object")
        raise typer.Exit(2)
    return {k: str(v) for k, v in doc.items() if k in ("url", "key") and v}


class ApiError(Exception):
    """A refusal from the server: its status, stable error ``type`` and message."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(f"{type_}: {message}")
        self.status = status
        self.type = type_
        self.message = message


@dataclass(frozen=True, slots=True)
class AdminClient:
    """Speaks to one server with one key; one method per HTTP verb, JSON in and out."""

    base_url: str
    key: str | None
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def resolve(
        cls, url: str | None = None, key: str | None = None, config: Path | None = None
    ) -> AdminClient:
        """The server and key from the options, the environment, the profile, the config."""
        profile = read_profile()
        url = url or profile.get("url")
        key = key or profile.get("key")
        if url is None or key is None:
            settings = settings_from(config)
            if url is None:
                scheme = "https" if settings.server.ssl_certfile else "http"
                url = f"{scheme}://{settings.server.host}:{settings.server.port}"
            if key is None and settings.security.admin_key is not None:
                key = settings.security.admin_key.get_secret_value()
        return cls(url.rstrip("/"), key)

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self.key}"} if self.key else {}
        headers.update(extra or {})
        return headers

    def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """One request. A 4xx/5xx prints the server's error and exits 1 (``ApiError`` is raised
        instead with ``raise_errors=True``); an unreachable server always exits 1."""
        raise_errors = kw.pop("raise_errors", False)
        headers = self._headers(kw.pop("headers", None))
        try:
            response = httpx.request(
                method, self.base_url + path, headers=headers, timeout=self.timeout_s, **kw
            )
        except httpx.HTTPError as exc:
            err_console.print(
                f"[red]error:[/red] cannot reach Bastion at {self.base_url} "
                f"({type(exc).__name__}); is `bastion serve` running? Pass --url or set "
                "BASTION_URL",
                highlight=False,
            )
            raise typer.Exit(1) from exc
        if response.status_code >= 400:
            error = api_error(response)
            if raise_errors:
                raise error
            raise fail(error)
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.send("GET", path, params=_clean(params)).json()

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return _json_or_none(self.send("POST", path, json=body, params=_clean(params)))

    def put(self, path: str, body: Any = None, **params: Any) -> Any:
        return _json_or_none(self.send("PUT", path, json=body, params=_clean(params)))

    def delete(self, path: str, **params: Any) -> Any:
        return _json_or_none(self.send("DELETE", path, params=_clean(params)))

    def upload(self, path: str, file: Path, **params: Any) -> Any:
        """POST ``file``'s bytes streamed as ``application/octet-stream``; fields as query."""
        params.setdefault("filename", file.name)
        response = self.send(
            "POST",
            path,
            content=_chunks(file),
            params=_clean(params),
            headers={"content-type": "application/octet-stream"},
        )
        return _json_or_none(response)


def api_error(response: httpx.Response) -> ApiError:
    """The server's error body as an ApiError (Bastion's, OpenAI's or the OIP shape)."""
    type_, message = f"http_{response.status_code}", response.text[:300]
    try:
        error = response.json()["error"]
        if isinstance(error, dict):
            type_ = str(error.get("type") or type_)
            message = str(error.get("message") or message)
        else:
            message = str(error)
    except (ValueError, KeyError, TypeError):
        pass
    if response.status_code == httpx.codes.UNAUTHORIZED:
        message += " (set BASTION_KEY or pass --key)"
    elif response.status_code == httpx.codes.FORBIDDEN:
        message += " (this key lacks the role for it)"
    return ApiError(response.status_code, type_, message)


def fail(exc: ApiError) -> typer.Exit:
    """Print a refusal as one line and return the exit to raise."""
    err_console.print(f"[red]error ({exc.status} {exc.type}):[/red] {exc.message}", highlight=False)
    return typer.Exit(1)


def _chunks(file: Path) -> Iterator[bytes]:
    with file.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
