"""The lab's front doors: Exchange's anonymous pages, per node, for ``--auth-certificate``,
``--health`` and ``--build``.

Every ``fd-*.contoso.test`` host is an array of three nodes (127.0.205.x, one port of its own,
TLS with a certificate for the host) whose second node usually differs.  Each node answers

* ``/autodiscover/metadata/json/1``: the Auth metadata document with its signing
  certificate(s) (self-signed, as Exchange makes them), or what :attr:`DoorNode.metadata` says
  (500, a login page, a huge, malformed, deeply nested or endless body...);
* ``/<vdir>/healthcheck.htm``: ``200 OK<br/>EXnn.contoso.test``, or 503 for the components
  :attr:`DoorNode.down` lists;
* ``/owa/``: a 302 to the logon page with ``X-OWA-Version`` :attr:`DoorNode.build` (none when
  it is empty).

Every request is recorded in :attr:`FrontDoors.seen` (address, method, path, Host), so a test
can tell that nothing was asked without the options.

Where each answer comes from: the metadata document is Exchange's AuthMetadataUrl
(``AuthMetadataHttpHandler``), its fields as Microsoft's Office add-in documentation ("Validate
an Exchange identity token") lays them out: ``keys[]`` of ``{usage: "signing", keyinfo: {x5t},
keyvalue: {type: "x509Certificate", value: <base64 DER>}}``, served without credentials.
``healthcheck.htm`` answers ``200 OK<br/>FQDN`` without a logon only while that protocol's
component is active (what load balancers probe). ``X-OWA-Version`` is sent on ``/owa/`` before
the logon; it can lag the installed update (CSS-Exchange issues 396 and 1491), so the plugin
compares nodes with each other.
"""

from __future__ import annotations

import base64
import datetime
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from ..identities.pki import CertSpec, LabPKI
from ..network.addresses import check_loopback
from ..network.dns import LabDNS
from ..network.http11 import Response, Stream, send
from ..network.listening import ListeningSite
from ..network.tls import remember_server_name, server_name

READ_TIMEOUT = 10.0
BUILD = "15.2.1544.14"  # Exchange 2019 CU14 with a security update
OLDER_BUILD = "15.2.1544.11"
SE_BUILD = "15.2.2562.17"  # Exchange Server Subscription Edition RTM
SERVICE = "00000002-0000-0ff1-ce00-000000000000"
REALM = "5f2c1a9e-8c5b-4c1e-9d6e-3b0f6e0c2a11"
AUTH_CN = "Microsoft Exchange Server Auth Certificate"
VDIRS = ("autodiscover", "ews", "oab", "rpc", "mapi", "owa", "ecp", "microsoft-server-activesync")
# The Auth certificates, by name: (valid from, valid to) in days from the lab's start.
AUTH_CERTS = {
    "current": (-400.0, 1426.0),
    "next": (-1.0, 1825.0),
    "other": (-20.0, 1806.0),
    "expiring": (-1781.0, 45.0),
    "expiring-critical": (-1806.0, 20.0),
    "expired": (-1829.0, -3.0),
}


@dataclass(frozen=True)
class DoorNode:
    """What one node's front doors answer.

    ``metadata``: an Auth certificate name of :data:`AUTH_CERTS` (the document publishes it),
    ``current+next`` (two signing keys), or a failure: ``missing`` (500), ``absent`` (404),
    ``login`` (an HTML login page), ``unauthorized`` (401), ``no-key`` (only an encryption key),
    ``huge`` (64 MiB, chunked), ``malformed``, ``deep`` (100 000 nested arrays), ``bomb`` (a
    100 000-digit number), ``base64`` (a value that is not base64), ``bad-cert`` (base64 of
    bytes that are no certificate), ``endless`` (a body that never ends, a chunk every 50 ms).
    ``down``: the vdirs whose healthcheck.htm answers 503; ``huge_health``: the vdirs whose
    healthcheck.htm body is 64 MiB."""

    metadata: str = "current"
    down: tuple[str, ...] = ()
    huge_health: tuple[str, ...] = ()
    build: str = BUILD


@dataclass(frozen=True)
class DoorHost:
    name: str  # fd-ok: the host fd-ok.contoso.test
    about: str
    nodes: tuple[DoorNode, ...] = (DoorNode(), DoorNode(), DoorNode())

    @property
    def host(self) -> str:
        return f"{self.name}.contoso.test"


def _second(about: str, name: str, **odd: object) -> DoorHost:
    """Three nodes, the second one differing as ``odd`` says."""
    return DoorHost(name, about, (DoorNode(), DoorNode(**odd), DoorNode()))  # type: ignore[arg-type]


HOSTS: tuple[DoorHost, ...] = (
    DoorHost("fd-ok", "every node: the same valid Auth certificate, healthy, the same build"),
    DoorHost("fd-ok8", "eight healthy nodes (the speed guard's array)", (DoorNode(),) * 8),
    DoorHost(
        "fd-next",
        "every node publishes the current and the next Auth certificate",
        (DoorNode("current+next"),) * 3,
    ),
    DoorHost(
        "fd-se",
        "every node runs Exchange Server Subscription Edition",
        (DoorNode(build=SE_BUILD),) * 3,
    ),
    _second("node 2: an Auth certificate 45 days from expiry", "fd-expiring", metadata="expiring"),
    _second(
        "node 2: an Auth certificate 20 days from expiry",
        "fd-expiring-critical",
        metadata="expiring-critical",
    ),
    _second("node 2: an expired Auth certificate", "fd-expired", metadata="expired"),
    _second("node 2: another Auth certificate", "fd-other", metadata="other"),
    _second("node 2: metadata answers 500", "fd-missing", metadata="missing"),
    _second("node 2: a login page instead of the metadata", "fd-login", metadata="login"),
    _second("node 2: metadata answers 401", "fd-unauthorized", metadata="unauthorized"),
    _second("node 2: no signing key in the metadata", "fd-no-key", metadata="no-key"),
    DoorHost("fd-nowhere", "no node has the metadata (404)", (DoorNode("absent"),) * 3),
    _second("node 2: a 64 MiB metadata document", "fd-huge", metadata="huge"),
    _second("node 2: malformed JSON", "fd-malformed", metadata="malformed"),
    _second("node 2: 100 000 nested arrays", "fd-deep", metadata="deep"),
    _second("node 2: a 100 000-digit number", "fd-bomb", metadata="bomb"),
    _second("node 2: a certificate value that is not base64", "fd-base64", metadata="base64"),
    _second(
        "node 2: base64 of something that is no certificate", "fd-bad-cert", metadata="bad-cert"
    ),
    _second("node 2: a metadata body that never ends", "fd-endless", metadata="endless"),
    _second("node 2: EWS inactive (healthcheck 503)", "fd-health-one", down=("ews",)),
    DoorHost("fd-health-all", "MAPI inactive on every node", (DoorNode(down=("mapi",)),) * 3),
    _second("node 2: a 64 MiB EWS healthcheck page", "fd-health-huge", huge_health=("ews",)),
    _second("node 2: an older build (a missed security update)", "fd-behind", build=OLDER_BUILD),
    _second("node 2: no X-OWA-Version on /owa/", "fd-no-build", build=""),
)
BY_NAME = {h.name: h for h in HOSTS}


def nodes() -> list[tuple[DoorHost, int, DoorNode, str]]:
    """(host, node number, node, address) of every node, 127.0.205.1 and up."""
    found = []
    for host in HOSTS:
        for number, node in enumerate(host.nodes, 1):
            found.append((host, number, node, f"127.0.205.{len(found) + 1}"))
    return found


@dataclass
class Seen:
    address: str
    method: str
    path: str
    host: str
    sni: str | None = None


class FrontDoors(ListeningSite[Seen]):
    """The ``fd-`` hosts: see the module docstring."""

    thread_name = "lab-fd"
    backlog = 32

    def __init__(self, pki: LabPKI, dns: LabDNS, port: int = 0) -> None:
        super().__init__(port)
        self.pki = pki
        self.dns = dns
        self.auth: dict[str, x509.Certificate] = {}
        self._by_address = {address: (h, n, node) for h, n, node, address in nodes()}
        self._connections: dict[str, int] = {}

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._running:
            return
        key = self.pki.keys["leaf"]
        now = datetime.datetime.now(datetime.timezone.utc)
        for name, (start, end) in AUTH_CERTS.items():
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, AUTH_CN)])
            self.auth[name] = (
                x509.CertificateBuilder()
                .subject_name(subject)
                .issuer_name(subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now + datetime.timedelta(days=start))
                .not_valid_after(now + datetime.timedelta(days=end))
                .sign(key, hashes.SHA256())
            )
        self._contexts = {}
        for host in HOSTS:
            chain = self.pki.issue(CertSpec(f"fd-{host.host}", cn=(host.host,), san=(host.host,)))
            context = chain.server_context()
            context.sni_callback = remember_server_name
            self._contexts[host.host] = context
        self._bind([check_loopback(a) for a in self._by_address])
        self._listen()
        self.load_zone()

    def load_zone(self) -> None:
        if not self._running:
            return
        for host in HOSTS:
            found = [a for a, (h, _, _) in self._by_address.items() if h is host]
            self.dns.set_records(host.host, "A", found)

    def describe(self) -> dict[str, object]:
        return {"port": self.port, "hosts": {h.host: h.about for h in HOSTS}}

    def clear(self) -> None:
        super().clear()
        with self._lock:
            self._connections.clear()

    def connections(self, address: str) -> int:
        """The connections to ``address`` that carried at least one request."""
        with self._lock:
            return self._connections.get(address, 0)

    def addresses(self, name: str) -> list[str]:
        return [a for a, (h, _, _) in self._by_address.items() if h.name == name]

    def thumbprint(self, name: str) -> str:
        der = self.auth[name].public_bytes(Encoding.DER)
        return self.auth[name].fingerprint(hashes.SHA1()).hex().upper() if der else ""

    # -- serving ------------------------------------------------------------------------------

    def _serve(self, conn: socket.socket, address: str, peer: str) -> None:
        host, number, node = self._by_address[address]
        conn.settimeout(READ_TIMEOUT)
        with self._tls(conn, self._contexts[host.host]) as sock:
            sni = server_name(sock)
            stream = Stream(sock)
            first = True
            while self._running:
                request = stream.request()
                if request is None:
                    return
                with self._lock:
                    if first:
                        self._connections[address] = self._connections.get(address, 0) + 1
                        first = False
                    self.seen.append(
                        Seen(address, request.method, request.path,
                             request.headers.get("host", ""), sni)
                    )  # fmt: skip
                response = self._answer(host, number, node, request.path)
                send(sock, response)
                if response.close:
                    return

    def _answer(self, host: DoorHost, number: int, node: DoorNode, path: str) -> Response:
        index = list(self._by_address.values()).index((host, number, node)) + 1
        label = f"EX{index:02d}.contoso.test"
        lower = path.lower()
        if lower == "/autodiscover/metadata/json/1":
            return self._metadata(host, node)
        parts = lower.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "healthcheck.htm" and parts[0] in VDIRS:
            if parts[0] in node.down:
                return Response(503, "Service Unavailable", [], b"")
            if parts[0] in node.huge_health:
                return Response(200, "OK", [("Content-Type", "text/html")], _stream(1024, 0))
            return Response(
                200, "OK", [("Content-Type", "text/html")], f"200 OK<br/>{label}".encode()
            )
        if lower in ("/owa", "/owa/"):
            where = (
                f"https://{host.host}/owa/auth/logon.aspx?url=https%3a%2f%2f{host.host}%2fowa%2f"
            )
            headers = [("Location", where), ("X-FEServer", label[:4])]
            headers += [("X-OWA-Version", node.build)] if node.build else []  # "": none sent
            return Response(302, "Found", headers, b"")
        return Response(404, "Not Found", [], b"")

    def _metadata(self, host: DoorHost, node: DoorNode) -> Response:
        kind = node.metadata
        json_type = [("Content-Type", "application/json; charset=utf-8")]
        if kind == "missing":
            return Response(500, "Internal Server Error", [], b"")
        if kind == "absent":
            return Response(404, "Not Found", [], b"")
        if kind == "unauthorized":
            auth = [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
            return Response(401, "Unauthorized", auth, b"")
        if kind == "login":
            page = b"<!DOCTYPE html><html><head><title>Outlook</title></head><body>sign in</body>"
            return Response(200, "OK", [("Content-Type", "text/html; charset=utf-8")], page)
        if kind == "huge":
            return Response(200, "OK", json_type, _stream(1024, 0))
        if kind == "endless":
            return Response(200, "OK", json_type, _stream(None, 0.05, 16))
        if kind == "malformed":
            return Response(200, "OK", json_type, b'{"keys": [{"usage": "signing", "keyvalue": {')
        if kind == "deep":
            return Response(200, "OK", json_type, b"[" * 100_000 + b"]" * 100_000)
        certs = [self.auth[name] for name in kind.split("+") if name in self.auth]
        certs = certs or [self.auth["current"]]
        keys = [_key(cert) for cert in certs]
        if kind == "no-key":
            keys = [{**_key(self.auth["current"]), "usage": "encryption"}]
        elif kind == "base64":
            keys[0]["keyvalue"]["value"] = "this is not base64!"
        elif kind == "bad-cert":
            keys[0]["keyvalue"]["value"] = base64.b64encode(
                b"0\x82\x01\x00not a certificate"
            ).decode()
        body = json.dumps(_document(host.host, keys)).encode()
        if kind == "bomb":
            body = body[:-1] + b', "version": ' + b"9" * 100_000 + b"}"
        return Response(200, "OK", json_type, body)


def _key(cert: x509.Certificate) -> dict[str, object]:
    der = cert.public_bytes(Encoding.DER)
    x5t = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).decode().rstrip("=")
    return {
        "usage": "signing",
        "keyinfo": {"x5t": x5t},
        "keyvalue": {"type": "x509Certificate", "value": base64.b64encode(der).decode()},
    }


def _document(host: str, keys: list[dict[str, object]]) -> dict[str, object]:
    """The document's shape as Exchange publishes it (AuthMetadataHttpHandler)."""
    return {
        "id": f"_{REALM}",
        "version": "1.0",
        "name": "Exchange",
        "realm": REALM,
        "serviceName": SERVICE,
        "issuer": f"{SERVICE}@{REALM}",
        "allowedAudiences": [f"{SERVICE}/{host}@{REALM}"],
        "keys": keys,
        "endpoints": [
            {
                "location": f"https://{host}/autodiscover/metadata/json/1",
                "protocol": "OAuth2",
                "usage": "metadata",
            }
        ],
    }


def _stream(chunks: int | None, pause: float, size: int = 65_536) -> Iterator[bytes]:
    """``chunks`` chunks of ``size`` bytes (None: without end), one every ``pause`` seconds."""
    sent = 0
    while chunks is None or sent < chunks:
        if pause:
            time.sleep(pause)
        yield (b'{"keys": [' + b" " * size)[:size] if sent == 0 else b" " * size
        sent += 1
