"""The hostile scenarios of the lab: host names whose nodes answer the hostile way.

:func:`install` issues the hostile certificates
(:mod:`contrib.lab.identities.hostile_certificates`) and puts every :data:`HOSTILE` scenario on
its own loopback address (127.0.60.x, and 127.0.61.x for the 16-node array) with an A record in
the lab DNS, each node with its behaviour (:mod:`contrib.lab.endpoints.hostile_servers`); the
hostile web answers go on 127.0.66.x (:func:`web_target`).  ``lab.reset()`` removes them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .endpoints.hostile_servers import web_answer
from .identities.hostile_certificates import DOMAIN, IP_CN, LONG_CHAIN, HostilePKI, host_name, issue
from .network.tls import Chain

if TYPE_CHECKING:
    from . import Lab


@dataclass(frozen=True)
class Hostile:
    """One hostile host name: its nodes' addresses, behaviours and certificate."""

    name: str
    behaviours: tuple[str, ...]  # one per node
    cert: str = "hostile"
    description: str = ""
    block: int = 60  # the nodes live on 127.0.<block>.x

    @property
    def host(self) -> str:
        return host_name(self.name)


def _one(name: str, behaviour: str, cert: str, description: str) -> Hostile:
    return Hostile(name, (behaviour,), cert, description)


HOSTILE: tuple[Hostile, ...] = (
    _one("hello-silent", "hello-silent", "hostile", "reads the ClientHello, then says nothing"),
    _one("drip", "drip", "hostile", "a real TLS answer, one byte a second"),
    _one("alert", "alert", "hostile", "answers the ClientHello with a handshake_failure alert"),
    _one("http-on-tls", "http", "hostile", "an HTTP 400 answer on the TLS port"),
    _one("tls10", "tls1.0", "tls10", "speaks TLS 1.0 only"),
    _one("tls11", "tls1.1", "tls11", "speaks TLS 1.1 only"),
    _one("long-chain", "tls", "long-chain", f"serves a chain of {LONG_CHAIN} certificates"),
    _one("huge-cert", "tls", "huge-cert", "a certificate of over 1 MiB"),
    _one("idn-unicode", "tls", "idn-unicode", "CN mäil.contoso.test in Unicode"),
    _one("idn-punycode", "tls", "idn-punycode", "CN xn--mil-qla.contoso.test (IDNA form)"),
    _one("idn-homograph", "tls", "idn-homograph", "CN with a Cyrillic a in 'mail'"),
    _one("ip-cn", "tls", "ip-cn", "an IP address as the CN, no SAN"),
    _one("empty-san", "tls", "empty-san", "a SAN extension with no names"),
    _one("critical-ext", "tls", "critical-ext", "an unknown critical extension"),
    _one("version-alert", "version-alert", "hostile", "a protocol_version alert to any hello"),
    _one("markup", "tls", "markup", "HTML in the CN and the SANs: an image, a link, an entity"),
    Hostile(
        "sixteen",
        ("tls", "silent") * 8,
        "sixteen",
        "16 nodes, the even-numbered 8 accept and never answer",
        block=61,
    ),
)
BY_NAME = {h.name: h for h in HOSTILE}


def addresses(hostile: Hostile) -> list[str]:
    if hostile.block != 60:
        return [f"127.0.{hostile.block}.{i}" for i in range(1, len(hostile.behaviours) + 1)]
    index = [h.name for h in HOSTILE if h.block == 60].index(hostile.name)
    return [f"127.0.60.{index + 1}"]


WEB_KINDS = ("endless", "big-body", "401-loop", "markup")


def web_target(kind: str) -> tuple[str, str]:
    """The host name and address of the node giving the ``kind`` web answer."""
    return f"web-{kind}.{DOMAIN}", f"127.0.66.{WEB_KINDS.index(kind) + 1}"


def install(lab: Lab) -> dict[str, Chain]:
    """Issue the certificates and start every hostile node; returns the chains by id."""
    chains = issue(lab.pki)
    h = HostilePKI(lab.pki)
    chains["sixteen"] = h.leaf("sixteen", host_name("sixteen"))
    chains["tls10"] = h.leaf("tls10", host_name("tls10"))
    chains["tls11"] = h.leaf("tls11", host_name("tls11"))
    assert addresses(BY_NAME["ip-cn"]) == [IP_CN]
    for kind in WEB_KINDS:
        host, address = web_target(kind)
        chains[host] = h.leaf(host, host)
        lab.set_node(address, "tls", chains[host], on_tls=web_answer(kind))
        lab.dns.set_records(host, "A", [address])
    for hostile in HOSTILE:
        addrs = addresses(hostile)
        for address, behaviour in zip(addrs, hostile.behaviours, strict=True):
            lab.set_node(address, behaviour, chains[hostile.cert])
        lab.dns.set_records(hostile.host, "A", addrs)
    return chains
