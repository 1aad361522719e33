"""URLs as the plugin needs them: an absolute URL split into its parts, and text percent-encoded.

``urllib.parse`` does both, but importing it (it imports ``ipaddress``) costs as many
instructions as a TLS handshake, on the path of every Autodiscover check, for URLs of one form:
``scheme://[user@]host[:port][/path][?query][#fragment]``.  This splitter reads that form and
refuses what it cannot read with certainty (a bracket out of place, a port that is not a number
from 1 to 65535) rather than guess; it does not, unlike ``urlsplit``, drop tabs and line breaks
quietly (the callers refuse white space and control characters).
"""

from __future__ import annotations

import socket

# RFC 3986 section 2.3: the unreserved characters, never percent-encoded
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_SCHEME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+-.")


class Parts:
    """An absolute URL's parts: ``scheme`` lower-case ("" when the text has no ``scheme://``),
    ``host`` lower-case without the brackets of an IPv6 literal, ``port`` None when not given,
    ``userinfo`` True when the authority holds a ``user@`` part."""

    __slots__ = ("host", "path", "port", "query", "scheme", "userinfo")

    def __init__(
        self, scheme: str, userinfo: bool, host: str, port: int | None, path: str, query: str
    ) -> None:
        self.scheme = scheme
        self.userinfo = userinfo
        self.host = host
        self.port = port
        self.path = path
        self.query = query


def split(url: str) -> Parts:
    """``url``'s parts; ValueError for an authority that cannot be read (see the module)."""
    scheme, colon, rest = url.partition(":")
    scheme = scheme.lower()
    if not colon or not scheme[:1].isalpha() or not set(scheme) <= _SCHEME_CHARACTERS:
        return Parts("", False, "", None, url, "")
    rest = rest.partition("#")[0]
    if not rest.startswith("//"):  # no authority: "https:/x", "mailto:..."
        path, _, query = rest.partition("?")
        return Parts(scheme, False, "", None, path, query)
    rest = rest[2:]
    ends = [i for i in (rest.find("/"), rest.find("?")) if i >= 0]
    cut = min(ends) if ends else len(rest)
    authority, target = rest[:cut], rest[cut:]
    hostport = authority.rpartition("@")[2]
    path, _, query = target.partition("?")
    host, port = _host_and_port(hostport)
    return Parts(scheme, "@" in authority, host.lower(), port, path, query)


def _host_and_port(hostport: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        host, bracket, after = hostport[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise ValueError("an IPv6 address without its closing bracket")
        try:
            socket.inet_pton(socket.AF_INET6, host)
        except (OSError, ValueError):
            raise ValueError(f"[{host}] is not an IPv6 address") from None
        port_text = after[1:] if after else None
    elif "[" in hostport or "]" in hostport:
        raise ValueError("a bracket outside an IPv6 address")
    else:
        host, colon, port_text_found = hostport.partition(":")
        port_text = port_text_found if colon else None
    if not port_text:  # none, or "host:" (an empty port, as RFC 3986 allows)
        return host, None
    if not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(f"port {port_text!r} is not a number")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is outside 1-65535")
    return host, port


def percent_encoded(text: str, safe: str = "") -> str:
    """``text`` as UTF-8, every byte but the unreserved characters and ``safe`` as ``%XX``
    (``urllib.parse.quote(text, safe)``)."""
    keep = _UNRESERVED | frozenset(safe.encode("ascii"))
    return "".join(chr(b) if b in keep else f"%{b:02X}" for b in text.encode("utf-8"))
