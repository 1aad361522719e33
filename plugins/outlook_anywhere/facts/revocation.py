"""The facts of ``--revocation``: what every CRL distribution point and OCSP responder of the
certificates the nodes send said, as data with kinds.  Plain classes, like every fact.

A certificate's serial number is an integer: OpenSSL prints it as hex text ("0A"), a CRL lists
it as an integer, and comparing the texts ("A" against "0A", or "0A" inside "0A0B") gives false
revocations.  :func:`serial_number` turns the text into the integer; the probes compare
integers only.
"""

from __future__ import annotations

# What a source said, as a kind: good | revoked | unknown (an OCSP responder that does not know
# the certificate) | unreachable (no answer: refused, timeout, reset; ``detail`` says which) |
# http-error (an answer other than 200) | unusable (not a CRL or OCSP response, a CRL of another
# issuer, an OCSP response about another certificate, too big) | bad-signature | not-fetched
# (an ldap: or file: URL, named only)
GOOD = "good"
REVOKED = "revoked"
UNKNOWN = "unknown"
UNREACHABLE = "unreachable"
HTTP_ERROR = "http-error"
UNUSABLE = "unusable"
BAD_SIGNATURE = "bad-signature"
NOT_FETCHED = "not-fetched"

CRL = "crl"
OCSP = "ocsp"


def serial_number(text: str) -> int:
    """The integer of a serial printed as hex ("0A", "0a:0b", "0x0A"); ValueError if it is not
    one."""
    cleaned = text.strip().replace(":", "").lower()
    if cleaned.startswith("0x"):
        cleaned = cleaned[2:]
    if not cleaned:
        raise ValueError("empty serial number")
    return int(cleaned, 16)


def serial_text(serial: int) -> str:
    """A serial as Windows shows it: upper-case hex, an even number of digits."""
    digits = f"{serial:X}"
    return digits if len(digits) % 2 == 0 else "0" + digits


def listed(serial: int, serials: object) -> bool:
    """Whether ``serial`` is among ``serials`` (integers): the one way a serial is looked up."""
    assert isinstance(serial, int)
    return any(isinstance(s, int) and s == serial for s in serials)  # type: ignore[attr-defined]


class Source:
    """One revocation source of one certificate and what it answered."""

    __slots__ = (
        "detail",
        "kind",
        "next_update",
        "outcome",
        "reason",
        "revoked_at",
        "this_update",
        "url",
    )

    def __init__(self, kind: str, url: str, outcome: str = "", detail: str = "") -> None:
        self.kind = kind  # crl | ocsp
        self.url = url
        self.outcome = outcome
        self.detail = detail  # evidence: the HTTP error kind and text, the parse failure
        self.this_update: float | None = None  # POSIX seconds
        self.next_update: float | None = None
        self.revoked_at: float | None = None
        self.reason = ""  # the CRL entry's or OCSP response's reason code name

    def __repr__(self) -> str:
        return f"Source({self.kind!r}, {self.url!r}, {self.outcome!r}, {self.detail!r})"

    @property
    def fetched(self) -> bool:
        return self.outcome != NOT_FETCHED


class CertRevocation:
    """One certificate of a chain (never the trust anchor) and its sources."""

    __slots__ = ("label", "position", "serial", "sources", "without_issuer")

    def __init__(self, label: str, serial: int, position: int) -> None:
        self.label = label  # subject CN, or the subject, or "serial ..."
        self.serial = serial
        self.position = position  # 0: the node's certificate
        self.sources: list[Source] = []
        # the issuer is neither sent nor supplied: nothing signed by it can be verified
        self.without_issuer = False

    def __repr__(self) -> str:
        return f"CertRevocation({self.label!r}, {self.serial:#x}, {self.sources!r})"


class ChainRevocation:
    """One distinct chain the nodes send, the nodes that send it, and every certificate in it
    but the trust anchor."""

    __slots__ = ("addresses", "certs", "supplied", "supplied_label")

    def __init__(self, addresses: tuple[str, ...]) -> None:
        self.addresses = addresses
        self.certs: list[CertRevocation] = []
        # the caIssuers URL that supplied the missing intermediate (what Windows fetches), or ""
        self.supplied = ""
        self.supplied_label = ""

    def __repr__(self) -> str:
        return f"ChainRevocation({self.addresses!r}, {self.certs!r}, {self.supplied!r})"


class RevocationFacts:
    """Everything ``--revocation`` learned."""

    __slots__ = ("chains",)

    def __init__(self, chains: list[ChainRevocation]) -> None:
        self.chains = chains

    def __repr__(self) -> str:
        return f"RevocationFacts({self.chains!r})"

    def crl_next_updates(self) -> list[float]:
        """The nextUpdate of every CRL read (verified, of the right issuer)."""
        return [
            s.next_update
            for chain in self.chains
            for cert in chain.certs
            for s in cert.sources
            if s.kind == CRL and s.outcome in (GOOD, REVOKED) and s.next_update is not None
        ]

    def supplied_nodes(self) -> set[str]:
        """Nodes whose missing intermediate the AIA caIssuers URL supplied."""
        return {a for chain in self.chains if chain.supplied for a in chain.addresses}
