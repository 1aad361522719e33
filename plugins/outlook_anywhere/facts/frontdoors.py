"""The facts of the front doors (``--auth-certificate``, ``--health``, ``--build``): what each
node's anonymous pages said, plain data for the judgement.

A failure is recorded as a kind beside its evidence, never as a state: the metadata document's
kinds are listed on :class:`AuthFacts`, a healthcheck page's on :class:`Health`.
"""

from __future__ import annotations

# The virtual directories Outlook uses (``--health`` without a list), and what ``all`` adds.
OUTLOOK_VDIRS = ("autodiscover", "ews", "oab", "rpc", "mapi")
ALL_VDIRS = (*OUTLOOK_VDIRS, "owa", "ecp", "Microsoft-Server-ActiveSync")


class AuthKey:
    """One signing certificate of the metadata document's ``keys[]``."""

    __slots__ = ("not_after", "not_before", "subject", "thumbprint")

    def __init__(self, thumbprint: str, not_before: float, not_after: float, subject: str) -> None:
        self.thumbprint = thumbprint  # SHA-1 of the DER, upper-case hex (as Exchange shows it)
        self.not_before = not_before  # seconds since the epoch
        self.not_after = not_after
        self.subject = subject  # the CN, or the whole subject without one

    def days_left(self, now: float) -> float:
        return (self.not_after - now) / 86400.0

    def __repr__(self) -> str:
        return f"AuthKey({self.thumbprint!r}, {self.not_after!r})"


class AuthFacts:
    """``GET /autodiscover/metadata/json/1`` on one node.

    ``failure``: "" (at least one signing key read) | ``status`` (an answer other than 200;
    ``status`` holds it) | ``unauthorized`` (401) | ``login-page`` (HTML instead of JSON) |
    ``not-json`` | ``too-deep`` (nesting over the bound) | ``not-metadata`` (JSON without a
    ``keys`` list) | ``no-signing-key`` | ``bad-base64`` | ``bad-certificate`` | ``http`` (no
    answer: ``detail`` says why, e.g. a timeout or a body over the size bound)."""

    __slots__ = ("detail", "failure", "host", "keys", "skipped", "status")

    def __init__(self, host: str) -> None:
        self.host = host  # the Host and SNI the document was asked with
        self.status: str = ""  # "500 Internal Server Error"
        self.failure = ""
        self.detail = ""
        self.keys: list[AuthKey] = []
        self.skipped = 0  # keys[] entries that are not x509Certificate signing keys

    def latest(self) -> AuthKey | None:
        """The key judged: the one that expires last (a next certificate may be published)."""
        return max(self.keys, key=lambda key: key.not_after, default=None)


class Health:
    """``GET /<vdir>/healthcheck.htm`` on one node: ``code`` 200 while the component is active;
    ``error`` when no answer came (timeout, a body over the bound...)."""

    __slots__ = ("code", "error", "status", "vdir")

    def __init__(self, vdir: str, code: int | None = None, status: str = "", error: str = ""):
        self.vdir = vdir
        self.code = code
        self.status = status  # "503 Service Unavailable"
        self.error = error

    @property
    def ok(self) -> bool:
        return self.code == 200

    def __repr__(self) -> str:
        return f"Health({self.vdir!r}, {self.code!r}, {self.error!r})"


class FrontDoorFacts:
    """Everything one node's front doors said (only what the options asked for is not None)."""

    __slots__ = ("address", "auth", "build", "build_error", "build_status", "health", "server")

    def __init__(self, address: str) -> None:
        self.address = address
        self.auth: AuthFacts | None = None  # --auth-certificate
        self.health: list[Health] | None = None  # --health
        self.server = ""  # the server name a healthcheck page names
        self.build: str | None = None  # --build: X-OWA-Version as sent ("" when absent)
        self.build_status = ""  # the status GET /owa/ answered
        self.build_error = ""  # no answer

    def __repr__(self) -> str:
        return f"FrontDoorFacts({self.address!r}, {self.auth!r}, {self.health!r}, {self.build!r})"


def parse_build(text: str | None) -> tuple[int, ...] | None:
    """``15.2.1544.4`` as integers; None unless it is two to four dot-separated numbers."""
    if not text:
        return None
    parts = text.strip().split(".")
    if not 2 <= len(parts) <= 4 or not all(p.isdigit() and len(p) <= 9 for p in parts):
        return None
    return tuple(int(p) for p in parts)
