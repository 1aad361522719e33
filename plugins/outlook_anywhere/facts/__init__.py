"""Facts: plain data of what the probes learned, the only thing the judgement reads.

Plain classes here and in the other modules of the default path: importing ``dataclasses`` (and
``inspect`` with it) would cost more start-up time than a whole handshake.  The facts of the
HTTP checks are in ``facts.http``, those of ``--revocation`` in ``facts.revocation``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from .certificate import CertFacts
    from .frontdoors import FrontDoorFacts
    from .http import AutodiscoverFacts, RpcFacts
    from .logon import LogonFacts, MapiProbe
    from .proxy import ProxyFacts
    from .revocation import RevocationFacts


class NodeFacts:
    """All one address told us."""

    def __init__(self, address: str, port: int, phase: str = "connect") -> None:
        self.address = address
        self.port = port
        self.phase = phase  # how far the probe got: connect, handshake, done
        self.connect_time: float | None = None
        self.handshake_time: float | None = None
        self.tls_version = ""
        self.cipher = ""
        # How the probe failed before a certificate could be judged, as a kind: refused, reset,
        # timeout, closed, not-tls, tls-alert, tls-failed, network, unparsable, internal, and
        # with --proxy the kinds of facts.proxy (proxy-gateway...); "" when a certificate was
        # seen.  ``detail`` is its evidence (OpenSSL's reason in words,
        # the first bytes of a server that is not TLS, the system's error text).
        self.failure = ""
        self.detail = ""
        self.leaf: CertFacts | None = None
        # the verified chain (leaf first) or, if unverified, the chain as served
        self.chain: tuple[CertFacts, ...] = ()
        self.served_count = 0  # certificates the server itself sent
        self.trust = "unchecked"  # verified | untrusted | unchecked
        self.trust_code = 0  # OpenSSL's verify code when untrusted
        self.trust_message = ""  # OpenSSL's verify message
        # (position in the chain, key, signature hash), read only when OpenSSL called the
        # chain too weak for its security level; the judgement decides what is weak
        self.strengths: tuple[tuple[int, str, str], ...] = ()
        self.only_protocol = ""  # the old TLS version the server spoke when it refused ours

    def __repr__(self) -> str:
        return f"NodeFacts({self.__dict__!r})"

    @property
    def total_time(self) -> float | None:
        if self.connect_time is None:
            return None
        return self.connect_time + (self.handshake_time or 0.0)


class Resolution:
    """Where the addresses came from."""

    __slots__ = ("addresses", "detail", "failure", "host", "source")

    def __init__(
        self,
        host: str,
        addresses: tuple[str, ...],
        source: str,
        failure: str = "",
        detail: str = "",
    ) -> None:
        self.host = host
        self.addresses = addresses
        self.source = source  # "-I", "system resolver", "DNS server 127.0.0.53:53"
        # Why there are no addresses, as a kind: nxdomain (no such name), no-a / no-aaaa (the
        # name exists, without an address of the family asked for), no-address, timeout,
        # servfail, failed (``detail`` says how), excluded (-4/-6 left none of -I).
        self.failure = failure
        self.detail = detail

    def __repr__(self) -> str:
        return f"Resolution({self.host!r}, {self.addresses!r}, {self.source!r}, {self.failure!r})"


class CheckFacts:
    """Everything one check learned, handed from the Resource to the judgement."""

    def __init__(
        self,
        now: float,
        host: str | None,
        resolution: Resolution | None,
        nodes: list[NodeFacts],
        autodiscover: AutodiscoverFacts | None = None,
        rpc: list[RpcFacts] | None = None,
        mapi: list[MapiProbe] | None = None,
        logon: LogonFacts | None = None,
        revocation: RevocationFacts | None = None,
        proxy: ProxyFacts | None = None,
        frontdoors: list[FrontDoorFacts] | None = None,
    ) -> None:
        self.now = now  # the one clock of this check
        self.host = host
        self.resolution = resolution
        self.nodes = nodes
        self.autodiscover = autodiscover
        self.rpc = rpc
        self.mapi = mapi  # --mapi, without credentials
        self.logon = logon  # --logon
        self.revocation = revocation  # --revocation: the CRLs and OCSP answers of every chain
        self.proxy = proxy  # --proxy: every tunnel asked of it (facts.proxy)
        # --auth-certificate, --health, --build: each node's front doors (facts.frontdoors)
        self.frontdoors = frontdoors
