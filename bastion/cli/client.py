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
Uploads stream the file in chunks; nothing is read whole into memory. The key and URL go
over the standard library's HTTP client; ``https`` checks the server's certificate against
the system's CAs (or ``$SSL_CERT_FILE``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from bastion.cli.common import err_console, settings_from

# Not httpx (a quarter of a second to import): a socket for http:// (cli/wire.py), the standard
# library's http.client for https://; every command that talks to a server starts with it.

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
class Reply:
    """A server's answer: status, headers (lower-case names) and the body's bytes."""

    status_code: int
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


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

    def send(self, method: str, path: str, **kw: Any) -> Reply:
        """One request (``params``, ``json`` or ``content``: bytes or an open file, streamed).
        A 4xx/5xx prints the server's error and exits 1 (``ApiError`` is raised instead with
        ``raise_errors=True``); an unreachable server always exits 1."""
        raise_errors = kw.pop("raise_errors", False)
        headers = self._headers(kw.pop("headers", None))
        body = kw.pop("content", None)
        sink = kw.pop("sink", None)
        if "json" in kw:
            body = json.dumps(kw.pop("json")).encode()
            headers["content-type"] = "application/json"
        params = _clean(kw.pop("params", None) or {})
        try:
            reply = _exchange(
                self.base_url, self.timeout_s, method, path, params, body, headers, sink
            )
        except OSError as exc:  # the https path turns http.client's errors into OSError
            err_console.print(
                f"[red]error:[/red] cannot reach Bastion at {self.base_url} "
                f"({type(exc).__name__}); is `bastion serve` running? Pass --url or set "
                "BASTION_URL",
                highlight=False,
            )
            raise typer.Exit(1) from exc
        if reply.status_code >= 400:
            error = api_error(reply)
            if raise_errors:
                raise error
            raise fail(error)
        return reply

    def get(self, path: str, **params: Any) -> Any:
        return self.send("GET", path, params=params).json()

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return _json_or_none(self.send("POST", path, json=body, params=params))

    def put(self, path: str, body: Any = None, **params: Any) -> Any:
        return _json_or_none(self.send("PUT", path, json=body, params=params))

    def delete(self, path: str, **params: Any) -> Any:
        return _json_or_none(self.send("DELETE", path, params=params))

    def download(self, path: str, write: Callable[[bytes], Any], **params: Any) -> None:
        """GET ``path`` and hand its body to ``write`` chunk by chunk (large exports)."""
        self.send("GET", path, params=params, sink=write)

    def upload(self, path: str, file: Path, **params: Any) -> Any:
        """POST ``file``'s bytes streamed as ``application/octet-stream``; fields as query."""
        params.setdefault("filename", file.name)
        size = file.stat().st_size
        with file.open("rb") as fh:
            response = self.send(
                "POST",
                path,
                content=fh,
                params=params,
                headers={"content-type": "application/octet-stream", "content-length": str(size)},
            )
        return _json_or_none(response)


def _exchange(
    base_url: str,
    timeout_s: float,
    method: str,
    path: str,
    params: Mapping[str, Any],
    body: Any,
    headers: dict[str, str],
    sink: Callable[[bytes], Any] | None = None,
) -> Reply:
    """One HTTP exchange over a fresh connection (a file body is sent in CHUNK-sized reads;
    with ``sink``, a successful answer's body goes there chunk by chunk instead)."""
    from urllib.parse import urlencode, urlsplit

    parts = urlsplit(base_url)
    target = parts.path.rstrip("/") + path
    if params:
        target += "?" + urlencode(params, doseq=True)
    if parts.scheme != "https":
        from bastion.cli.wire import exchange

        request = (method, target, body, headers)
        host, port = parts.hostname or "", parts.port or 80
        return Reply(*exchange(host, port, timeout_s, request, sink, CHUNK))
    import http.client
    import ssl  # honours SSL_CERT_FILE / SSL_CERT_DIR for a private CA

    context = ssl.create_default_context()
    conn = http.client.HTTPSConnection(
        parts.hostname or "", parts.port, timeout=timeout_s, context=context, blocksize=CHUNK
    )
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        content = b""
        if sink is not None and response.status < 400:
            while chunk := response.read(CHUNK):
                sink(chunk)
        else:
            content = response.read()
        found = {k.lower(): v for k, v in response.getheaders()}
        return Reply(response.status, content, found)
    except http.client.HTTPException as exc:
        raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()


def api_error(response: Reply) -> ApiError:
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
    if response.status_code == 401:
        message += " (set BASTION_KEY or pass --key)"
    elif response.status_code == 403:
        message += " (this key lacks the role for it)"
    return ApiError(response.status_code, type_, message)


def fail(exc: ApiError) -> typer.Exit:
    """Print a refusal as one line and return the exit to raise."""
    err_console.print(f"[red]error ({exc.status} {exc.type}):[/red] {exc.message}", highlight=False)
    return typer.Exit(1)


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query fields: ``None`` left out, booleans as ``true``/``false``."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if v is not None:
            out[k] = ("true" if v else "false") if isinstance(v, bool) else v
    return out


def _json_or_none(response: Reply) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
