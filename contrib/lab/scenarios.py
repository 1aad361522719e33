"""The scenario table: which host name resolves to which nodes, and what each node serves.

Scenario k of the table uses the addresses 127.0.k.1, 127.0.k.2, ... (k from 10 up), so that
127.0.0.x stays free for localhost and the lab DNS server (127.0.0.53).  The exceptions are the
``localhost`` and ``ipv6`` scenarios (127.0.0.1 and ::1), ``many`` (127.0.9.1-64, nothing
listens) and ``cname`` (the ``healthy`` nodes behind a CNAME chain).

Certificates are issued by the lab's issuing CA and served as leaf + issuing CA unless the
certificate spec says otherwise; days are relative to the start of the lab.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .identities.pki import CertSpec

DOMAIN = "contoso.test"


@dataclass(frozen=True)
class NodeSpec:
    """One node: an address, a behaviour and (for TLS) the certificate id it serves."""

    address: str
    behaviour: str = "tls"
    cert: str | None = None
    strict_sni: bool = False


@dataclass(frozen=True)
class Scenario:
    """One host name of the lab.

    ``dns`` says how the lab DNS answers for ``host``: ``address`` (A/AAAA of the nodes),
    ``cname`` (a CNAME chain through ``cname`` to the nodes' host), ``servfail`` or
    ``timeout``.  ``principal`` is what the plugin should be given (``msstd:<host>``, except
    where the certificate belongs to another name, as behind a CNAME).
    """

    name: str
    host: str
    nodes: tuple[NodeSpec, ...]
    description: str
    dns: str = "address"
    cname: tuple[str, ...] = ()
    principal_host: str | None = None

    @property
    def addresses(self) -> list[str]:
        return [n.address for n in self.nodes]

    @property
    def principal(self) -> str:
        return f"msstd:{self.principal_host or self.host}"


def _h(name: str) -> str:
    return f"{name}.{DOMAIN}"


# -- certificates --------------------------------------------------------------------------------


def _leaf(id: str, cn: str | None = None, **kw: object) -> CertSpec:
    host = cn or _h(id)
    kw.setdefault("san", (host,))
    return CertSpec(id=id, cn=(host,), **kw)  # type: ignore[arg-type]


# The URLs of the rev- certificates ({pki}: the lab's PKI site,
# contrib/lab/endpoints/revocation.py).
_CRL = "{pki}/rev.crl"
_OCSP = "{pki}/ocsp/rev"
_LDAP = (
    "ldap:///CN=Contoso%20Lab%20Revocation%20CA,CN=CDP,CN=Public%20Key%20Services,CN=Services,"
    "CN=Configuration,DC=contoso,DC=test?certificateRevocationList?base?objectClass=cRLDistributionPoint"
)

CERTS: tuple[CertSpec, ...] = (
    _leaf("healthy", san=(_h("healthy"), _h("autodiscover"))),
    _leaf("single", san=(_h("single"), _h("autodiscover"))),
    _leaf("stale-new", _h("stale")),
    _leaf("stale-old", _h("stale"), valid_from=-345, valid_to=20),
    _leaf("expired-node", _h("expired-node")),
    _leaf("expired-node-old", _h("expired-node"), valid_from=-368, valid_to=-3),
    _leaf("wrong-cn-node", _h("wrong-cn-node")),
    _leaf("legacy", _h("legacy")),
    _leaf("refused-node"),
    _leaf("differ-a", _h("differ"), valid_to=300),
    _leaf("differ-b", _h("differ"), valid_to=250),
    _leaf("cn-mismatch", _h("owa")),
    _leaf("san-only", _h("exchange01"), san=(_h("exchange01"), _h("san-only"))),
    _leaf("wildcard", f"*.{DOMAIN}"),
    _leaf("expiring-warn", valid_from=-345, valid_to=20),
    _leaf("expiring-crit", valid_from=-358, valid_to=7),
    _leaf("expired", valid_from=-367, valid_to=-2),
    _leaf("not-yet-valid", valid_from=5, valid_to=300),
    _leaf("self-signed", issuer="self"),
    _leaf("untrusted", issuer="rogue"),
    _leaf("missing-intermediate", serve="leaf"),
    _leaf("root-in-chain", serve="full"),
    _leaf("expired-intermediate", issuer="issuing-expired"),
    CertSpec("multi-cn", cn=(_h("multi-cn"), _h("other")), san=(_h("multi-cn"),)),
    # A NUL inside the CN, and no SAN: no reading of this certificate should match the host.
    CertSpec("nul-cn", cn=(_h("nul-cn") + "\x00.evil.test",)),
    _leaf("email-subject", email=f"exchange@{DOMAIN}"),
    _leaf("weak-sha1", hash="sha1"),
    _leaf("weak-rsa1024", key="weak"),
    CertSpec("no-subject", cn=(), san=(_h("no-subject"),)),
    _leaf("malformed"),
    _leaf("sni-strict"),
    _leaf("ipv6"),
    CertSpec("localhost", cn=("localhost",), san=("localhost",)),
    _leaf("healthy8"),
    # Chains OpenSSL refuses for a reason of their own (verify codes 7, 24 and 26).
    _leaf("bad-signature", signature="bad"),
    _leaf("issuer-not-ca", issuer="not-ca"),
    _leaf("client-auth-only", purpose="client"),
    # An old server (TLS 1.0 only) whose chain ends at a root nobody trusts.
    _leaf("legacy-untrusted", issuer="rogue"),
    # The host only under a SAN wildcard; the CN is another name.
    _leaf("san-wildcard", _h("exchange01"), san=(_h("exchange01"), f"*.{DOMAIN}")),
    # Other key types, in chains OpenSSL calls too weak (so their keys are described).
    _leaf("weak-ec", key="ec", hash="sha1"),
    _leaf("weak-ed25519", key="ed25519", hash="sha1"),
    _leaf("dsa-issuer", issuer="dsa"),
    # Too weak, and once that is forgiven, meant for TLS clients only.
    _leaf("weak-client-auth", key="weak", purpose="client"),
    *(
        _leaf(id, cn, issuer=issuer, **kw)  # type: ignore[arg-type]
        for id, cn, issuer, kw in (
            ("rev-ok", None, "rev", {"cdp": (_CRL,), "ocsp": (_OCSP,), "serve": "full"}),
            ("rev-crl-revoked", None, "rev", {"cdp": (_CRL,)}),
            ("rev-ocsp-revoked", None, "rev", {"cdp": (_CRL,), "ocsp": (_OCSP,)}),
            ("rev-ca-revoked", None, "rev-revoked", {"cdp": ("{pki}/rev-revoked-ca.crl",)}),
            ("rev-lapsed", None, "rev", {"cdp": ("{pki}/lapsed.crl",)}),
            ("rev-expiring", None, "rev", {"cdp": ("{pki}/expiring.crl",)}),
            ("rev-ldap", None, "rev", {"cdp": (_LDAP,)}),
            ("rev-unreachable", None, "rev", {"cdp": ("{down}/rev.crl",), "ocsp": ("{pki}/gone",)}),
            (
                "rev-garbage",
                None,
                "rev",
                {"cdp": ("{pki}/garbage.crl",), "ocsp": ("{pki}/ocsp/garbage",)},
            ),
            ("rev-bad-crl", None, "rev", {"cdp": ("{pki}/badsig.crl",)}),
            ("rev-bad-ocsp", None, "rev", {"cdp": (_CRL,), "ocsp": ("{pki}/ocsp/badsig",)}),
            (
                "rev-short-serial",
                None,
                "rev",
                {"cdp": ("{pki}/redirect/rev.crl",), "ocsp": (_OCSP,), "serial": 0x0A},
            ),
            (
                "rev-aia",
                None,
                "rev",
                {"cdp": (_CRL,), "ca_issuers": ("{pki}/ca/rev-ca.cer",), "serve": "leaf"},
            ),
            ("rev-oversized", None, "rev", {"cdp": ("{pki}/huge.crl", "{pki}/endless.crl")}),
            ("rev-silent", None, "rev", {"cdp": ("{pki}/silent.crl",)}),
            ("rev-mixed-good", _h("rev-mixed"), "rev", {"cdp": (_CRL,), "ocsp": (_OCSP,)}),
            ("rev-mixed-revoked", _h("rev-mixed"), "rev", {"cdp": (_CRL,)}),
            ("rev-ocsp-unknown", None, "rev", {"ocsp": ("{pki}/ocsp/unknown",)}),
            ("rev-ocsp-stale", None, "rev", {"ocsp": ("{pki}/ocsp/stale",)}),
        )
    ),
)


# -- scenarios -----------------------------------------------------------------------------------


@dataclass
class _Table:
    scenarios: list[Scenario] = field(default_factory=list)
    k: int = 10
    taken: frozenset[int] = frozenset({50})  # 127.0.50.0/24: tests/test_concurrency.py

    def add(
        self, name: str, description: str, *nodes: tuple[str, str | None], **kw: object
    ) -> None:
        """Add scenario ``name`` on the next 127.0.k.0/24; nodes are (behaviour, cert)."""
        strict = bool(kw.pop("strict_sni", False))
        specs = tuple(
            NodeSpec(f"127.0.{self.k}.{i}", behaviour, cert, strict)
            for i, (behaviour, cert) in enumerate(nodes, start=1)
        )
        host = str(kw.pop("host", _h(name)))
        self.scenarios.append(Scenario(name, host, specs, description, **kw))  # type: ignore[arg-type]
        self.k += 1
        while self.k in self.taken:
            self.k += 1


def _tls(cert: str) -> tuple[str, str | None]:
    return ("tls", cert)


def _build() -> list[Scenario]:
    t = _Table()
    t.add("healthy", "3 nodes, same certificate, CN = host, 300 days left", *[_tls("healthy")] * 3)
    t.add("single", "1 node, like healthy", _tls("single"))
    t.add(
        "stale",
        "renewal reached nodes 1-2 only: node 3 serves the previous certificate (20 days left)",
        _tls("stale-new"),
        _tls("stale-new"),
        _tls("stale-old"),
    )
    t.add(
        "expired-node",
        "node 2 serves an expired certificate (expired 3 days ago) of the right CN",
        _tls("expired-node"),
        _tls("expired-node-old"),
        _tls("expired-node"),
    )
    t.add(
        "wrong-cn-node",
        "node 3 serves CN legacy.contoso.test (no SAN for the host)",
        _tls("wrong-cn-node"),
        _tls("wrong-cn-node"),
        _tls("legacy"),
    )
    t.add(
        "refused-node",
        "node 3 refuses connections",
        _tls("refused-node"),
        _tls("refused-node"),
        ("refuse", None),
    )
    t.add(
        "differ",
        "2 nodes, both fine (300 and 250 days left) but different certificates",
        _tls("differ-a"),
        _tls("differ-b"),
    )
    t.add("cn-mismatch", "CN and SAN owa.contoso.test only", _tls("cn-mismatch"))
    t.add("san-only", "CN exchange01.contoso.test, host only in the SAN", _tls("san-only"))
    t.add("wildcard", "CN and SAN *.contoso.test", _tls("wildcard"))
    t.add("expiring-warn", "20 days left", _tls("expiring-warn"))
    t.add("expiring-crit", "7 days left", _tls("expiring-crit"))
    t.add("expired", "expired 2 days ago", _tls("expired"))
    t.add("not-yet-valid", "valid from 5 days in the future", _tls("not-yet-valid"))
    t.add("self-signed", "self-signed leaf with the right CN", _tls("self-signed"))
    t.add("untrusted", "leaf issued by Rogue Root CA (served leaf + rogue root)", _tls("untrusted"))
    t.add(
        "missing-intermediate", "leaf served without its issuing CA", _tls("missing-intermediate")
    )
    t.add("root-in-chain", "leaf + issuing CA + root served", _tls("root-in-chain"))
    t.add(
        "expired-intermediate",
        "leaf with good dates issued by an issuing CA that expired a year ago",
        _tls("expired-intermediate"),
    )
    t.add("multi-cn", "two CNs: host first, other.contoso.test second", _tls("multi-cn"))
    t.add("nul-cn", "CN = host + NUL + .evil.test, no SAN", _tls("nul-cn"))
    t.add(
        "email-subject", "subject has an emailAddress attribute and the CN", _tls("email-subject")
    )
    t.add("weak-sha1", "leaf signed with SHA-1", _tls("weak-sha1"))
    t.add("weak-rsa1024", "leaf with a 1024-bit RSA key", _tls("weak-rsa1024"))
    t.add("no-subject", "empty subject, host in the (critical) SAN", _tls("no-subject"))
    t.add("refused", "connection refused", ("refuse", None))
    t.add("silent", "accepts and never answers", ("silent", None))
    t.add("banner", "answers with an SMTP banner, then closes", ("banner", None))
    t.add("reset", "reads the ClientHello, then resets the connection", ("reset", None))
    t.add(
        "malformed",
        "TLS 1.2 with a corrupt leaf certificate (unparsable DER)",
        ("malformed", "malformed"),
    )
    t.add(
        "sni-strict",
        "unknown or missing SNI gets an unrecognized_name alert",
        _tls("sni-strict"),
        strict_sni=True,
    )
    t.add(
        "healthy8",
        "8 nodes, same certificate, CN = host, 300 days left (the benchmark's array)",
        *[_tls("healthy8")] * 8,
    )
    t.add("bad-signature", "the leaf's signature does not verify", _tls("bad-signature"))
    t.add(
        "issuer-not-ca",
        "leaf issued by a server certificate (CA:FALSE), served with it and the issuing CA",
        _tls("issuer-not-ca"),
    )
    t.add("client-auth-only", "extended key usage: TLS client only", _tls("client-auth-only"))
    t.add(
        "legacy-untrusted",
        "speaks TLS 1.0 only, leaf issued by Rogue Root CA",
        ("legacy", "legacy-untrusted"),
    )
    t.add(
        "san-wildcard",
        "CN exchange01.contoso.test, SAN *.contoso.test: the host only by the wildcard",
        _tls("san-wildcard"),
    )
    t.add("weak-ec", "P-256 leaf key, leaf signed with SHA-1", _tls("weak-ec"))
    t.add("weak-ed25519", "Ed25519 leaf key, leaf signed with SHA-1", _tls("weak-ed25519"))
    t.add(
        "dsa-issuer",
        "leaf issued by an issuing CA with a 1024-bit DSA key (served leaf + DSA CA)",
        _tls("dsa-issuer"),
    )
    t.add(
        "weak-client-auth",
        "a 1024-bit RSA leaf whose extended key usage says TLS client only",
        _tls("weak-client-auth"),
    )
    scenarios = t.scenarios + _revocation_scenarios()

    localhost = (NodeSpec("127.0.0.1", "tls", "localhost"), NodeSpec("::1", "tls", "localhost"))
    scenarios.append(
        Scenario("localhost", "localhost", localhost, "CN localhost on 127.0.0.1 and ::1")
    )
    scenarios.append(
        Scenario(
            "ipv6",
            _h("ipv6"),
            (NodeSpec("::1", "tls", "ipv6"),),
            "AAAA ::1 only; the ::1 node serves this chain by SNI",
        )
    )
    healthy = scenarios[0]
    scenarios.append(
        Scenario(
            "cname",
            _h("cname"),
            healthy.nodes,
            "CNAME chain of 2 to healthy.contoso.test (certificate is healthy's)",
            dns="cname",
            cname=(_h("cname-hop"), healthy.host),
            principal_host=healthy.host,
        )
    )
    scenarios.append(
        Scenario(
            "many",
            _h("many"),
            tuple(NodeSpec(f"127.0.9.{i}", "refuse") for i in range(1, 65)),
            "64 A records (127.0.9.1-64), nothing listens",
        )
    )
    scenarios.append(Scenario("servfail", _h("servfail"), (), "DNS answers SERVFAIL", "servfail"))
    scenarios.append(Scenario("timeout", _h("timeout"), (), "DNS never answers", "timeout"))
    return scenarios


def _revocation_scenarios() -> list[Scenario]:
    """The ``rev-`` scenarios (``--revocation``), on 127.0.210.0/24 and up: their certificates
    come from the Revocation CA and point at the lab's PKI site."""
    t = _Table(k=210)
    rows = (
        ("rev-ok", "CRL and OCSP (delegated responder) good, leaf + CA + root served"),
        ("rev-crl-revoked", "the leaf is on the Revocation CA's CRL (key compromise)"),
        ("rev-ocsp-revoked", "the CRL says nothing, the OCSP responder says revoked"),
        ("rev-ca-revoked", "the issuing CA is on the root's CRL"),
        ("rev-lapsed", "the only CRL is past its nextUpdate (two days ago)"),
        ("rev-expiring", "the only CRL's nextUpdate is 5 hours away"),
        ("rev-ldap", "only an ldap: CRL distribution point, no OCSP"),
        ("rev-unreachable", "CRL host refuses connections, OCSP URL answers 404"),
        ("rev-garbage", "CRL and OCSP URLs answer something else"),
        ("rev-bad-crl", "the CRL is signed with another key"),
        ("rev-bad-ocsp", "the OCSP response is signed with another key"),
        ("rev-short-serial", "serial 0x0A, the CRL lists 0x0A0B, 0xA0 and 0x0A00 (via a 302)"),
        ("rev-aia", "leaf served alone, its caIssuers URL supplies the Revocation CA"),
        ("rev-oversized", "CRLs of 50 MiB and of endless length"),
        ("rev-silent", "the CRL URL accepts and never answers"),
    )
    for name, description in rows:
        t.add(name, description, _tls(name))
    t.add(
        "rev-mixed",
        "node 1 good, node 2 serves a certificate on the CRL",
        _tls("rev-mixed-good"),
        _tls("rev-mixed-revoked"),
    )
    for name, description in (
        ("rev-ocsp-unknown", "only OCSP, and the responder answers unknown"),
        ("rev-ocsp-stale", "only OCSP, and its good answer is past its nextUpdate"),
    ):
        t.add(name, description, _tls(name))
    return t.scenarios


SCENARIOS: tuple[Scenario, ...] = tuple(_build())
BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}

DEMO: tuple[str, ...] = ("healthy", "stale", "wrong-cn-node")
"""The README demo: a healthy array, one whose renewal missed a node, and one node renewed
with the wrong name (the failure behind endless Outlook password prompts)."""


def node_configs() -> dict[str, dict[str, object]]:
    """Merge the table into one entry per address.

    A node shared by several scenarios (``::1``, the healthy nodes behind ``cname``) serves
    each scenario's certificate by SNI; its default chain is the one of the first scenario
    that lists it.  Returns, per address: behaviour, default cert id, {sni: cert id}, strict.
    """
    merged: dict[str, dict[str, object]] = {}
    for scenario in SCENARIOS:
        for node in scenario.nodes:
            entry = merged.setdefault(
                node.address,
                {"behaviour": node.behaviour, "cert": node.cert, "sni": {}, "strict_sni": False},
            )
            if entry["behaviour"] != node.behaviour:
                raise ValueError(f"{node.address}: conflicting behaviours in the table")
            if node.cert is not None:
                sni = entry["sni"]
                assert isinstance(sni, dict)
                sni.setdefault(scenario.host.lower(), node.cert)
            if node.strict_sni:
                entry["strict_sni"] = True
    return merged
