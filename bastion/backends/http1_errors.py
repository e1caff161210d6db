"""The errors of the lean HTTP/1.1 client (``http1``); ``openai_upstream`` maps them."""

from __future__ import annotations


class Http1Error(Exception):
    """Any failure of the HTTP/1.1 client."""


class ConnectTimeout(Http1Error):
    """The TCP (and TLS) connection was not made within the connect timeout."""


class ConnectFailed(Http1Error):
    """The connection could not be made: refused, unreachable, DNS, TLS certificate…"""


class ReadTimeout(Http1Error):
    """Nothing arrived from the server within the per-read timeout."""


class ServerDisconnected(Http1Error):
    """The server closed the connection before the answer's head was complete."""


class PayloadError(Http1Error):
    """The connection broke in the middle of the answer's body."""


class ProtocolError(Http1Error):
    """The server's bytes are not HTTP/1.1 (a malformed status line, header or chunk)."""


class ClientClosed(Http1Error):
    """The client was closed: no new request is sent."""
