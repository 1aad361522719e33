"""One HTTP response as ``transport.http`` reads it: :class:`Response` (its head and body),
:class:`HttpError` (a request that failed, with a sentence an administrator can act on) and the
limits of what is read.  A module of its own so that the body reader (``transport.body``) and
the connection (``transport.http``) share them without importing each other.
"""

from __future__ import annotations

# The largest response body read: an Autodiscover answer is a few kilobytes.
MAX_BODY = 1024 * 1024
# Header lines of one response (IIS sends about 15).
MAX_HEADERS = 100
# The longest status or header line.
MAX_LINE = 8192


class HttpError(Exception):
    """The request failed; ``kind`` says how (timeout, refused, tls, untrusted, protocol...)."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text
        # the response's head when the failure came while its body was read (its Set-Cookie
        # may have opened a session that must still be closed)
        self.response: Response | None = None


class Response:
    """One HTTP response (a plain class: ``dataclasses`` costs start-up, see facts.http)."""

    __slots__ = ("body", "elapsed", "headers", "keep_alive", "reason", "status")

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        self.headers: list[tuple[str, str]] = []
        self.body = b""
        self.elapsed = 0.0
        self.keep_alive = True

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]
