"""MAPI over HTTP ([MS-OXCMAPIHTTP]) request and response bodies, built and read as bytes, no I/O.

A mailbox logon is three requests on ``/mapi/emsmdb/``: ``Connect`` (2.2.4.1: the mailbox's
LegacyDN; the answer sets the session cookies), ``PING`` inside that session (2.2.6.3), and
``Disconnect`` (2.2.4.3).  Every response body may be framed by meta-tags (2.2.2.2, example
4.2): ``PROCESSING``, ``PENDING`` lines, ``DONE``, then additional headers (the final
``X-ResponseCode``), a blank line, and the binary body.  :func:`unframe` reads that; it never
raises on what a server sends.
"""

from __future__ import annotations

import struct

# Connect's defaults, as Outlook sends them (2.2.4.1.1): no flags, Windows-1252, en-US
DEFAULT_CODE_PAGE = 1252
LCID = 0x0409
_U32 = struct.Struct("<I")
# Meta-tags of a framed response (2.2.2.2)
META_TAGS = (b"PROCESSING", b"PENDING", b"DONE")
# Additional header lines after DONE at most
MAX_ADDITIONAL = 32
# The longest DnPrefix read (a DN is far shorter)
MAX_DN = 1024


def connect_body(user_dn: str) -> bytes:
    """The Connect request body: UserDn (null-terminated ASCII), Flags, DefaultCodePage,
    LcidSort, LcidString, an empty auxiliary buffer."""
    return (
        user_dn.encode("ascii", "replace")
        + b"\x00"
        + struct.pack("<IIIII", 0, DEFAULT_CODE_PAGE, LCID, LCID, 0)
    )


def disconnect_body() -> bytes:
    """The Disconnect request body: an empty auxiliary buffer."""
    return _U32.pack(0)


class Framed:
    """A response body read: the additional headers after DONE (lower-case names) and the
    binary body; ``framed`` False when the body carried no meta-tags (taken as binary)."""

    __slots__ = ("body", "framed", "headers")

    def __init__(self, body: bytes, headers: dict[str, str], framed: bool) -> None:
        self.body = body
        self.headers = headers
        self.framed = framed


def unframe(data: bytes) -> Framed:
    """The meta-tags skipped, the additional headers read, the binary body kept."""
    if not data.startswith(META_TAGS):
        return Framed(data, {}, False)
    at = 0
    while True:  # the meta-tags, up to DONE
        end = data.find(b"\r\n", at)
        if end < 0:
            return Framed(b"", {}, True)  # cut off before DONE
        tag = data[at:end]
        at = end + 2
        if tag == b"DONE":
            break
        if tag not in META_TAGS:
            return Framed(b"", {}, True)
    headers: dict[str, str] = {}
    for _ in range(MAX_ADDITIONAL):
        end = data.find(b"\r\n", at)
        if end < 0:
            return Framed(b"", headers, True)
        line = data[at:end]
        at = end + 2
        if not line:
            return Framed(data[at:], headers, True)
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return Framed(data[at:], headers, True)


def status_and_error(body: bytes) -> tuple[int | None, int | None]:
    """StatusCode and ErrorCode of a Connect or Disconnect response body (2.2.4.1.2, 2.2.4.3.2):
    ErrorCode follows only a StatusCode of 0; None for what the body does not hold."""
    if len(body) < 4:
        return None, None
    status = int(_U32.unpack_from(body, 0)[0])
    if status != 0 or len(body) < 8:
        return status, None
    return status, int(_U32.unpack_from(body, 4)[0])


def cookies(values: list[str]) -> dict[str, str]:
    """The name=value pairs of Set-Cookie header values (the attributes dropped)."""
    jar: dict[str, str] = {}
    for value in values[:16]:
        pair = value.split(";", 1)[0]
        name, sep, content = pair.partition("=")
        name = name.strip()
        if sep and name and len(pair) <= 4096 and all(32 < ord(c) < 127 for c in pair.strip()):
            jar[name] = content.strip()
    return jar


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())
