"""The lab's web side: Autodiscover endpoints, RPC proxy nodes and the Exchange front ends, over
real TLS and plain HTTP.

Every site (:data:`SITES`) has its own loopback address (127.0.200.x for Autodiscover,
127.0.201.x for the RPC proxy nodes, 127.0.202.x for the Exchange front ends of
:mod:`.logon_hosts`, which log on for real), all on one shared port that speaks TLS or plain HTTP
depending on the first byte a client sends (so the standard lookup's https and http steps can
share one port in a lab).  Each request is read (bounded, :mod:`contrib.lab.network.http11`),
recorded in :attr:`LabWeb.seen` (the tests assert on what really arrived: which host, with which
credentials) and answered as the site's row says: authenticated by :mod:`.logon`, then
:mod:`.autodiscover`, :mod:`.rpc_proxy` or the front end (:mod:`.exchange`).
"""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

from ..identities.accounts import PASSWORD, mailbox_users, write_ntlm_users
from ..identities.channel_binding import tls_server_end_point
from ..identities.pki import CertSpec, LabPKI
from ..network.addresses import check_loopback
from ..network.dns import LabDNS
from ..network.http11 import Request as _Request
from ..network.http11 import Response as _Response
from ..network.http11 import Stream
from ..network.http11 import send as _send
from ..network.listening import ListeningSite
from ..network.tls import Chain, remember_server_name, server_name
from . import autodiscover
from .autodiscover import MAILBOXES, PATH, XXE_MARKER, requested_mailbox
from .exchange import Front
from .logon import Logon
from .logon_hosts import KERBEROS_SPNS, LOGON_HOSTS, exchange_server
from .logon_hosts import MAILBOXES as LOGON_MAILBOXES
from .rpc_proxy import rpc_site_answer
from .site import OFFLOAD_CERT, Seen, Site

if TYPE_CHECKING:
    from ..identities.kdc import Kdc

READ_TIMEOUT = 10.0


def _ad(n: int) -> str:
    return f"127.0.200.{n}"


def _rpc(n: int) -> str:
    return f"127.0.201.{n}"


def _logon_sites() -> tuple[Site, ...]:
    """The Exchange front-end nodes of :data:`.logon_hosts.LOGON_HOSTS`, on 127.0.202.x; the nodes
    of a host share its certificate, signed with the host's hash (SHA-256, -384 or -512)."""
    sites: list[Site] = []
    for host in LOGON_HOSTS:
        for node in range(1, host.nodes + 1):
            n = len(sites) + 1
            sites.append(
                Site(
                    host.host,
                    f"127.0.202.{n}",
                    "exchange",
                    auth=host.schemes(),
                    label=f"EX{n:02d}.contoso.test",
                    protection=host.protection(node),
                    refuses=host.refuses(node),
                    stalls=host.stalls(node),
                    kerberos=host.kerberos(node),
                    forged_mutual=host.forges_mutual(node),
                    about=host.description,
                    cert=f"web-{host.host}-{host.digest}",
                )
            )
    return tuple(sites)


SITES: tuple[Site, ...] = (
    # The standard lookup for contoso.test answers at step 1 (https://contoso.test).
    Site("contoso.test", _ad(1), "autodiscover"),
    Site("autodiscover.contoso.test", _ad(2), "autodiscover"),
    # fabrikam.test: no address for the domain itself; step 2 answers.
    Site("autodiscover.fabrikam.test", _ad(3), "autodiscover"),
    # northwind.test: no https on autodiscover.northwind.test; the http GET redirects.
    Site(
        "autodiscover.northwind.test",
        _ad(4),
        "redirect-http",
        tls="refuse",
        http_location="https://mail.northwind.test:{port}/autodiscover/autodiscover.xml",
    ),
    Site("mail.northwind.test", _ad(5), "autodiscover"),
    # adatum.test: only the SRV record _autodiscover._tcp.adatum.test leads to an endpoint.
    Site("mail.adatum.test", _ad(6), "autodiscover"),
    # tailspin.test: step 1 serves a certificate for another name; step 2 is fine.
    Site("tailspin.test", _ad(7), "autodiscover", tls="wrong-name"),
    Site("autodiscover.tailspin.test", _ad(8), "autodiscover"),
    # litware.test: step 1 has an untrusted certificate, nothing else exists.
    Site("litware.test", _ad(9), "autodiscover", tls="untrusted"),
    # wingtip.test: the http GET redirects to plain http (never followed with credentials).
    Site(
        "autodiscover.wingtip.test",
        _ad(10),
        "redirect-http",
        tls="refuse",
        http_location="http://mail.wingtip.test:{port}/autodiscover/autodiscover.xml",
    ),
    Site("mail.wingtip.test", _ad(11), "autodiscover"),
    # NTLM/Negotiate only (Basic disabled, as Exchange often has it); and all three.
    Site("ntlm.contoso.test", _ad(12), "autodiscover", auth=("Negotiate", "NTLM")),
    Site("mixed.contoso.test", _ad(13), "autodiscover", auth=("Negotiate", "NTLM", "Basic")),
    # Kerberos only (Negotiate, NTLM refused), once the lab has a KDC (LabWeb.use_kdc).
    Site("krb.contoso.test", _ad(14), "autodiscover", auth=("Negotiate",), kerberos="current"),
    # NTLM/Negotiate with Extended Protection Require, as Exchange sets it on the Autodiscover
    # virtual directory (Set-AutodiscoverVirtualDirectory -ExtendedProtectionTokenChecking
    # Require): a logon must carry the binding of this certificate (RFC 5929 4.1).
    Site(
        "ntlm-ep.contoso.test",
        _ad(15),
        "autodiscover",
        auth=("Negotiate", "NTLM"),
        protection="require",
        about="Extended Protection Require",
    ),
    # RPC proxy nodes.
    Site("rpc-ok.contoso.test", _rpc(1), "rpc", rpc="401", label="EX01.contoso.test"),
    Site("rpc-ok.contoso.test", _rpc(2), "rpc", rpc="401", label="EX02.contoso.test"),
    Site("rpc-basic.contoso.test", _rpc(3), "rpc", rpc="401-basic"),
    Site("rpc-anonymous.contoso.test", _rpc(4), "rpc", rpc="200"),
    Site("rpc-missing.contoso.test", _rpc(5), "rpc", rpc="404"),
    Site("rpc-forbidden.contoso.test", _rpc(6), "rpc", rpc="403"),
    Site("rpc-redirect.contoso.test", _rpc(7), "rpc", rpc="302"),
    Site("rpc-error.contoso.test", _rpc(8), "rpc", rpc="503"),
    Site("rpc-silent.contoso.test", _rpc(9), "rpc", rpc="silent"),
    # Exchange front ends with a real logon: RPC over HTTP and MAPI over HTTP.
    *_logon_sites(),
)

SRV_RECORDS = {"_autodiscover._tcp.adatum.test": "0 0 {port} mail.adatum.test."}


def _certs() -> tuple[CertSpec, ...]:
    specs = []
    for site in SITES:
        host = site.host
        ident = site.cert_id
        if any(s.id == ident for s in specs):
            continue
        if site.cert:
            digest = ident.rsplit("-", 1)[1]
            specs.append(CertSpec(ident, cn=(host,), san=(host,), hash=digest))  # type: ignore[arg-type]
            continue
        if site.tls == "wrong-name":
            specs.append(CertSpec(ident, cn=("www.elsewhere.test",), san=("www.elsewhere.test",)))
        elif site.tls == "untrusted":
            specs.append(CertSpec(ident, cn=(host,), san=(host,), issuer="rogue"))
        else:
            specs.append(CertSpec(ident, cn=(host,), san=(host,)))
    # The certificate a TLS-offloading device in front of logon-ep-broken's node 2 would hold:
    # that node binds its logons to it, never serves it.
    offload = "offload.contoso.test"
    specs.append(CertSpec(OFFLOAD_CERT, cn=(offload,), san=(offload,)))
    return tuple(specs)


class LabWeb(ListeningSite[Seen]):
    """The web sites of the lab; see the module docstring."""

    thread_name = "lab-web"

    def __init__(self, pki: LabPKI, dns: LabDNS, workdir: Path, port: int = 0) -> None:
        super().__init__(port)
        self.pki = pki
        self.dns = dns
        self.workdir = Path(workdir)
        self.xxe_file = self.workdir / "xxe-secret.txt"
        self.ntlm_file = self.workdir / "ntlm-users.txt"
        self._contexts: dict[str, ssl.SSLContext] = {}
        self.logon = Logon(self.workdir)
        self.front = Front(self.logon.authenticate, lambda: self._running)

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.xxe_file.write_text(XXE_MARKER + "\n")
        users = mailbox_users(LOGON_MAILBOXES)
        write_ntlm_users(self.ntlm_file, users, PASSWORD)
        self.logon.accounts = {(u.split(":")[0].lower(), u.split(":")[1].lower()) for u in users}
        # pyspnego's NTLM acceptor reads its users from this file (and only from it).
        os.environ["NTLM_USER_FILE"] = str(self.ntlm_file)
        for spec in _certs():
            chain = self.pki.issue(spec)
            self._contexts[spec.id] = self._server_context(chain)
            self.logon.bindings[spec.id] = tls_server_end_point(chain.leaf)
        self._bind(dict.fromkeys(check_loopback(s.address) for s in SITES))
        self._listen()
        self.load_zone()

    # -- Kerberos -----------------------------------------------------------------------------

    @staticmethod
    def kerberos_spns() -> list[str]:
        """The hosts whose ``HTTP/<host>`` the lab's KDC must know (``Kdc(hosts=...)``)."""
        return ["krb.contoso.test", *KERBEROS_SPNS]

    def use_kdc(self, kdc: Kdc) -> None:
        """The Kerberos sites accept Negotiate with Kerberos from now on
        (:meth:`.logon.Logon.use_kdc`)."""
        self.logon.use_kdc(kdc, SITES, self.kerberos_spns()[1])

    def load_zone(self) -> None:
        """A records of every site and the SRV records (again after a DNS reset)."""
        if not self._running:
            return
        by_host: dict[str, list[str]] = {}
        for site in SITES:
            by_host.setdefault(site.host, []).append(site.address)
        for host, addresses in by_host.items():
            self.dns.set_records(host, "A", addresses)
        for name, value in SRV_RECORDS.items():
            self.dns.set_records(name, "SRV", [value.format(port=self.port)])

    def describe(self) -> dict[str, object]:
        """Sites, mailboxes and the password, as JSON-ready data for ``contrib.lab serve``."""
        return {
            "port": self.port,
            "password": PASSWORD,
            "sites": {f"{s.host} {s.address}": s.kind for s in SITES},
            "mailboxes": MAILBOXES,
            "exchange_servers": {h.host: exchange_server(h.host) for h in LOGON_HOSTS},
        }

    def clear(self) -> None:
        super().clear()
        self.front.clear()

    def site(self, host: str) -> Site:
        return next(s for s in SITES if s.host == host)

    def url(self, host: str, path: str = PATH) -> str:
        return f"https://{host}:{self.port}{path}"

    def addresses(self, host: str) -> list[str]:
        return [s.address for s in SITES if s.host == host]

    # -- serving ------------------------------------------------------------------------------

    @staticmethod
    def _server_context(chain: Chain) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(chain.cert_file), str(chain.key_file))
        ctx.sni_callback = remember_server_name
        return ctx

    def _serve(self, conn: socket.socket, address: str, peer: str) -> None:
        site = next(s for s in SITES if s.address == address)
        conn.settimeout(READ_TIMEOUT)
        if conn.recv(1, socket.MSG_PEEK) != b"\x16":  # plain HTTP
            self._loop(conn, site, False, None, peer)
        elif site.tls != "refuse":
            with self._tls(conn, self._contexts[site.cert_id]) as sock:
                self._loop(sock, site, True, server_name(sock), peer)

    def _loop(self, sock: socket.socket, site: Site, tls: bool, sni: str | None, peer: str) -> None:
        stream = Stream(sock)
        state: dict[str, object] = {}
        while self._running:
            request = stream.request()
            if request is None:
                return
            if request.streamed and not (tls and site.kind == "exchange"):
                return  # only an RPC over HTTP channel may declare a body this big
            seen = Seen(
                site.address,
                tls,
                sni,
                request.method,
                request.path,
                request.headers.get("host", ""),
                request.headers.get("authorization", ""),
                requested_mailbox(request.body),
                peer=peer,
            )
            seen.auth = request.headers.get("authorization", "").partition(" ")[0]
            seen.mapi_capability = request.headers.get("x-mapihttpcapability", "").strip() == "1"
            with self._lock:
                self.seen.append(seen)
            if tls and site.kind == "exchange":
                response = self.front.answer(site, request, seen, state, sock, stream)
                if response is None:  # a channel, served to its end
                    return
            else:
                response = self._answer(site, tls, request, seen, state)
            if response is None:  # silent: keep the connection open, answer nothing
                while sock.recv(65536):
                    pass
                return
            seen.status = response.status
            mutual = state.pop("mutual", None)
            if isinstance(mutual, str):  # Kerberos: the mutual-authentication token
                response.headers.append(("WWW-Authenticate", mutual))
            _send(sock, response)
            if response.close:
                return

    def _answer(
        self, site: Site, tls: bool, request: _Request, seen: Seen, state: dict[str, object]
    ) -> _Response | None:
        if not tls:
            if site.http_location and request.method == "GET":
                location = site.http_location.format(port=self.port)
                return _Response(302, "Found", [("Location", location)], close=True)
            return _Response(404, "Not Found", close=True)
        if site.kind == "rpc":
            return rpc_site_answer(site, request)
        if site.kind != "autodiscover" or request.method != "POST":
            return _Response(404, "Not Found")
        user = self.logon.authenticate(site, request, seen, state)
        if isinstance(user, _Response):
            return user
        return autodiscover.answer(
            site, seen.mailbox, seen.mapi_capability, self.port, self.xxe_file
        )
