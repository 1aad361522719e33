"""The lab's web side: Autodiscover endpoints and RPC proxy nodes, over real TLS and plain HTTP.

Every site has its own loopback address (127.0.200.x for Autodiscover, 127.0.201.x for the RPC proxy
nodes, 127.0.202.x for the Exchange front ends of :mod:`contrib.lab.endpoints.exchange`, which log
on for real), all on one shared port that speaks TLS or plain HTTP depending on the first byte a
client sends (so the standard lookup's https and http steps can share one port in a lab). A small
HTTP/1.1 server reads each request (bounded), records it in :attr:`LabWeb.seen` (the tests assert on
what really arrived: which host, with which credentials) and answers as the site's table row says.

Autodiscover answers are chosen by the mailbox's local part (``none@contoso.test`` publishes
``CertPrincipalName`` None, see :data:`MAILBOXES`); Basic and NTLM (pyspnego's acceptor,
reading the NTLM user file the lab writes) check the password :data:`PASSWORD`. The mailboxes
``logon-*@contoso.test`` publish the Exchange front ends; :func:`exchange_server` gives the EXCH
server (and MAPI MailboxId) of a front-end host.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..identities.kerberos import KerberosAcceptor, token_kind
from ..identities.pki import CertSpec, LabPKI
from ..network.addresses import check_loopback
from ..network.dns import LabDNS
from ..network.http11 import Request as _Request
from ..network.http11 import Response as _Response
from ..network.http11 import Stream
from ..network.http11 import send as _send
from ..network.listening import ListeningSite
from ..network.tls import Chain, remember_server_name, server_name
from . import exchange
from .exchange import LOGON_HOSTS
from .exchange import exchange_server as exchange_server  # part of this module's API
from .site import Seen, Site

if TYPE_CHECKING:
    from ..identities.kdc import Kdc

PASSWORD = "Lab-Secret-7d1f!monitor"
"""The password of every lab mailbox (the tests pass it through a file or the environment)."""
XXE_MARKER = "LAB-XXE-MARKER root:x:0:0:root:/root:/bin/bash"
"""The content of the local file the external-entity document points at."""

READ_TIMEOUT = 10.0
PATH = "/autodiscover/autodiscover.xml"

RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


def _ad(n: int) -> str:
    return f"127.0.200.{n}"


def _rpc(n: int) -> str:
    return f"127.0.201.{n}"


def _logon_sites() -> tuple[Site, ...]:
    """The Exchange front-end nodes of :data:`exchange.LOGON_HOSTS`, on 127.0.202.x; the nodes
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

MAILBOXES = {
    "monitor": "settings: EXPR and EXHTTP Server healthy.contoso.test, CertPrincipalName matches",
    "absent": "settings: EXPR without CertPrincipalName (clients use msstd:<Server>)",
    "none": "settings: CertPrincipalName None (no pinning)",
    "noexpr": "settings without an EXPR provider",
    "wrong": "settings: CertPrincipalName msstd:owa.contoso.test (not the certificate's CN)",
    "error600": "error response 600 Invalid Request",
    "redirect-addr": "redirectAddr to monitor@fabrikam.test",
    "redirect-url": "redirectUrl to https://autodiscover.fabrikam.test",
    "redirect-http-url": "redirectUrl to a plain http URL",
    "redirect-untrusted": "redirectUrl to https://tailspin.test (certificate for another name)",
    "http-302": "HTTP 302 to https://autodiscover.fabrikam.test",
    "loop": "redirectAddr to loop2@, which redirects back to loop@",
    "url-loop": "redirectUrl to the URL that answered it",
    "hops-N-K": "redirectAddr to hops-N-(K+1)@ until K = N, then settings",
    "billion": "an entity-expansion ('billion laughs') document",
    "xxe": "an external entity pointing at a local file",
    "huge": "64 MiB of chunked body",
    "drip": "the body one byte every 0.2 s",
    "invalid": "invalid XML",
    "wrong-ns": "a root element in another namespace",
    "exhttp": "settings: EXHTTP only (Exchange 2013+), CertPrincipalName matches",
    "ssl-off": "settings: EXPR and EXHTTP with SSL Off",
    "echo": "error response whose message echoes the password in every encoding",
    "echo-reason": "HTTP 500 whose reason phrase echoes the URL-encoded password",
    "markup": "settings whose Server and CertPrincipalName hold HTML (an image, a link)",
    "markup-reason": "HTTP 500 with HTML in its reason phrase",
    **exchange.MAILBOXES,
}


# The mailboxes that redirect do so only on the contoso.test endpoints.
REDIRECTING = ("redirect-url", "redirect-http-url", "redirect-untrusted", "http-302")
REDIRECTORS = ("contoso.test", "autodiscover.contoso.test")


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


OFFLOAD_CERT = "web-offload"


def _settings(server: str, principal: str | None, exhttp: bool = True) -> bytes:
    cpn = "" if principal is None else f"<CertPrincipalName>{principal}</CertPrincipalName>"
    blocks = [
        "<Protocol><Type>EXCH</Type><Server>5f2c@contoso.test</Server></Protocol>",
        f"<Protocol><Type>EXPR</Type><Server>{server}</Server><SSL>On</SSL>"
        f"<AuthPackage>Ntlm</AuthPackage>{cpn}</Protocol>",
    ]
    if exhttp:
        blocks.append(
            f'<Protocol Type="EXHTTP"><Type>EXHTTP</Type><Server>{server}</Server><SSL>On</SSL>'
            f"<AuthPackage>Ntlm</AuthPackage>{cpn}</Protocol>"
        )
    return _account("<AccountType>email</AccountType><Action>settings</Action>" + "".join(blocks))


def _echo_error() -> bytes:
    """An error document that repeats the password the way a careless server might."""
    from urllib.parse import quote

    raw = PASSWORD.encode()
    forms = [
        PASSWORD,
        quote(PASSWORD, safe=""),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        raw.hex(),
        PASSWORD.encode("utf-16-le").hex(),
    ]
    message = " / ".join(forms).replace("&", "&amp;").replace("<", "&lt;")
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{RESPONSE_NS}"><Response>'
        f"<Error><ErrorCode>500</ErrorCode><Message>{message}</Message></Error></Response>"
        "</Autodiscover>"
    ).encode()


def _account(inner: str, legacy_dn: str = "") -> bytes:
    dn = f"<LegacyDN>{legacy_dn}</LegacyDN>" if legacy_dn else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="{RESPONSE_NS}">'
        f'<Response xmlns="{OUTLOOK_NS}"><User><DisplayName>Monitor</DisplayName>{dn}</User>'
        f"<Account>{inner}</Account></Response></Autodiscover>"
    ).encode()


def _redirect(action: str, value: str) -> bytes:
    tag = "RedirectAddr" if action == "redirectAddr" else "RedirectUrl"
    return _account(
        f"<AccountType>email</AccountType><Action>{action}</Action><{tag}>{value}</{tag}>"
    )


ERROR_600 = (
    f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{RESPONSE_NS}"><Response>'
    '<Error Time="12:00:00.0000000" Id="2477"><ErrorCode>600</ErrorCode>'
    "<Message>Invalid Request</Message><DebugData /></Error></Response></Autodiscover>"
).encode()

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + f']>\n<Autodiscover xmlns="{RESPONSE_NS}"><Response xmlns="{OUTLOOK_NS}"><Account>'
    "<Action>settings</Action><Protocol><Type>EXPR</Type><Server>&lol9;</Server></Protocol>"
    "</Account></Response></Autodiscover>"
).encode()


def _xxe(path: Path) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE a [ <!ENTITY xxe SYSTEM "file://{path}"> ]>\n'
        f'<Autodiscover xmlns="{RESPONSE_NS}"><Response xmlns="{OUTLOOK_NS}"><Account>'
        "<Action>settings</Action><Protocol><Type>EXPR</Type><Server>&xxe;</Server>"
        "<CertPrincipalName>&xxe;</CertPrincipalName></Protocol>"
        "</Account></Response></Autodiscover>"
    ).encode()


def _huge() -> Iterator[bytes]:
    chunk = b"<a>" + b"x" * 65530 + b"</a>"
    yield b"<?xml version='1.0'?><Autodiscover xmlns='" + RESPONSE_NS.encode() + b"'>"
    for _ in range(1024):  # 64 MiB
        yield chunk


def _drip() -> Iterator[bytes]:
    for byte in _settings("healthy.contoso.test", "msstd:healthy.contoso.test"):
        time.sleep(0.2)
        yield bytes([byte])


_MAILBOX = re.compile(rb"<EMailAddress>([^<]{1,320})</EMailAddress>")


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
        self._bindings: dict[str, bytes] = {}  # tls-server-end-point by certificate id
        self._accounts: set[tuple[str, str]] = set()  # (domain, user) of the NTLM user file
        self.front = exchange.Front(self._authenticate, lambda: self._running)
        self._acceptors: dict[str, KerberosAcceptor] = {}  # by site address, use_kdc()

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.xxe_file.write_text(XXE_MARKER + "\n")
        users = [":monitor@contoso.test", ":monitor@fabrikam.test", "CONTOSO:monitor"]
        for name in exchange.MAILBOXES:
            users += [f":{name}@contoso.test", f"CONTOSO:{name}"]
        self.ntlm_file.write_text("".join(f"{user}:{PASSWORD}\n" for user in users))
        self._accounts = {(u.split(":")[0].lower(), u.split(":")[1].lower()) for u in users}
        # pyspnego's NTLM acceptor reads its users from this file (and only from it).
        os.environ["NTLM_USER_FILE"] = str(self.ntlm_file)
        for spec in _certs():
            chain = self.pki.issue(spec)
            self._contexts[spec.id] = self._server_context(chain)
            self._bindings[spec.id] = exchange.tls_server_end_point(chain.leaf)
        self._bind(dict.fromkeys(check_loopback(s.address) for s in SITES))
        self._listen()
        self.load_zone()

    # -- Kerberos -----------------------------------------------------------------------------

    @staticmethod
    def kerberos_spns() -> list[str]:
        """The hosts whose ``HTTP/<host>`` the lab's KDC must know (``Kdc(hosts=...)``)."""
        return ["krb.contoso.test", *exchange.KERBEROS_SPNS]

    def use_kdc(self, kdc: Kdc) -> None:
        """The Kerberos sites accept Negotiate with Kerberos from now on, each node with the
        keytab its :attr:`Site.kerberos` names and a replay cache of its own; Extended
        Protection as for NTLM (Require; other-certificate: bound to the offloading device's
        certificate, an unbound token accepted)."""
        modes = {"require": "require", "accept": "on", "other-certificate": "on", "off": "off"}
        rcaches = self.workdir / "rcache"
        rcaches.mkdir(exist_ok=True)
        for site in SITES:
            if not site.kerberos:
                continue
            keytabs = {
                "current": kdc.keytab,
                "foreign": kdc.foreign_keytab,
                "stale": kdc.stale_keytab,
            }
            try:
                keytab = keytabs[site.kerberos](site.host)
            except KeyError:
                keytab = kdc.keytab(self.kerberos_spns()[1])  # no SPN: any key will do
            self._acceptors[site.address] = KerberosAcceptor(
                keytab, rcaches / f"{site.address}.rcache2", modes[site.protection]
            )

    def _kerberos(
        self, site: Site, token: str, seen: Seen, state: dict[str, object]
    ) -> str | _Response:
        """Negotiate on a Kerberos site: one leg; the mutual-authentication token goes with
        the answer (``state["mutual"]``), a refusal's KRB-ERROR with the 401."""
        acceptor = self._acceptors.get(site.address)
        try:
            message = base64.b64decode(token, validate=True)
        except ValueError:
            return self._refuse(site, seen)
        seen.mechanism = token_kind(message)
        if acceptor is None or seen.mechanism not in ("kerberos", "spnego"):
            return self._refuse(site, seen)  # NTLM is off here
        key = OFFLOAD_CERT if site.protection == "other-certificate" else site.cert_id
        result = acceptor.accept(message, self._bindings[key])
        seen.binding = result.channel_bound
        if not result.accepted:
            seen.outcome = "refused"
            if result.answer:
                error = f"Negotiate {base64.b64encode(result.answer).decode()}"
                return _Response(401, "Unauthorized", [("WWW-Authenticate", error)], b"")
            return self._challenge(site)
        seen.user = result.principal or ""
        if site.refuses:
            return self._refuse(site, seen)
        seen.outcome = "accepted"
        state["user"] = seen.user
        if result.answer:
            state["mutual"] = f"Negotiate {base64.b64encode(result.answer).decode()}"
        return seen.user

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
            found = _MAILBOX.search(request.body)
            seen = Seen(
                site.address,
                tls,
                sni,
                request.method,
                request.path,
                request.headers.get("host", ""),
                request.headers.get("authorization", ""),
                found.group(1).decode("utf-8", "replace") if found else "",
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
            return self._rpc(site, request)
        if site.kind != "autodiscover" or request.method != "POST":
            return _Response(404, "Not Found")
        user = self._authenticate(site, request, seen, state)
        if isinstance(user, _Response):
            return user
        return self._autodiscover(site, seen.mailbox, seen.mapi_capability)

    # -- authentication -------------------------------------------------------------------

    def _challenge(self, site: Site) -> _Response:
        headers = [
            ("WWW-Authenticate", f'Basic realm="{site.host}"' if s == "Basic" else s)
            for s in site.auth
        ]
        body = b"401 - Unauthorized: Access is denied due to invalid credentials."
        return _Response(401, "Unauthorized", headers, body)

    def _refuse(self, site: Site, seen: Seen) -> _Response:
        seen.outcome = "refused"
        return self._challenge(site)

    def _authenticate(
        self, site: Site, request: _Request, seen: Seen, state: dict[str, object]
    ) -> str | _Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header and site.kind == "exchange" and state.get("user"):
            # NTLM authenticates the connection (as IIS keeps it): no header needed any more.
            seen.user = str(state["user"])
            return seen.user
        if scheme.lower() == "basic" and "Basic" in site.auth:
            try:
                user, _, password = base64.b64decode(token).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return self._refuse(site, seen)
            seen.user = user
            if password != PASSWORD or site.refuses:
                return self._refuse(site, seen)
            seen.outcome = "accepted"
            return user
        if site.kerberos and scheme.lower() == "negotiate":
            return self._kerberos(site, token, seen, state)
        if scheme.lower() in ("ntlm", "negotiate") and scheme.lower() in (
            a.lower() for a in site.auth
        ):
            return self._ntlm(site, scheme, token, seen, state)
        if header:
            seen.outcome = "refused"
        return self._challenge(site)

    def _ntlm(
        self, site: Site, scheme: str, token: str, seen: Seen, state: dict[str, object]
    ) -> str | _Response:
        import spnego
        from spnego.channel_bindings import GssChannelBindings

        try:
            message = base64.b64decode(token, validate=True)
        except ValueError:
            state.pop("ntlm", None)
            return self._refuse(site, seen)
        final = exchange.ntlm_message_type(message) == 3
        if final:
            seen.binding = exchange.carries_binding(message)
        if site.host == "logon-ntlm-loop.contoso.test":
            seen.outcome = "refused" if final else "challenged"
            challenge = f"{scheme} {base64.b64encode(exchange.fresh_challenge()).decode()}"
            return _Response(401, "Unauthorized", [("WWW-Authenticate", challenge)], b"")
        bindings = None
        if final and site.protection != "off":
            if site.protection == "require" and not seen.binding:
                state.pop("ntlm", None)  # Extended Protection required: no binding, no logon
                return self._refuse(site, seen)
            if seen.binding:
                other = site.protection == "other-certificate"
                key = OFFLOAD_CERT if other else site.cert_id
                bindings = GssChannelBindings(application_data=self._bindings[key])
        server = state.get("ntlm")
        if server is None:
            server = spnego.server(protocol="ntlm")
            state["ntlm"] = server
        try:
            answer = server.step(message, channel_bindings=bindings)  # type: ignore[attr-defined]
            done = bool(server.complete)  # type: ignore[attr-defined]
            user = str(server.client_principal or "") if done else ""  # type: ignore[attr-defined]
        except Exception:  # wrong password, unknown user, wrong binding, garbage: all a 401
            state.pop("ntlm", None)
            # ... unless the lab's own reading of the bytes as sent takes it (see ntlmv2_user)
            data = bindings.application_data if bindings is not None else None
            challenge = state.pop("challenge", b"")
            assert isinstance(challenge, bytes)
            found = exchange.ntlmv2_user(message, challenge, PASSWORD, self._accounts, data)
            if not final or found is None:
                return self._refuse(site, seen)
            answer, user, done = b"", found, True
        if done:
            state.pop("ntlm", None)
            state.pop("challenge", None)
            seen.user = user
            if site.refuses:
                return self._refuse(site, seen)
            seen.outcome = "accepted"
            state["user"] = seen.user
            return seen.user
        seen.outcome = "challenged"
        state["challenge"] = answer or b""
        challenge = f"{scheme} {base64.b64encode(answer or b'').decode()}"
        return _Response(401, "Unauthorized", [("WWW-Authenticate", challenge)], b"")

    # -- Autodiscover answers -------------------------------------------------------------

    def _autodiscover(self, site: Site, mailbox: str, mapi_capability: bool = False) -> _Response:
        local, _, domain = mailbox.partition("@")
        local = local.lower()
        if local in exchange.MAILBOXES:
            host = f"{local}.{exchange.DOMAIN}"
            inner = exchange.protocols(host, self.port, mapi_capability)
            body_xml = _account(
                f"<AccountType>email</AccountType><Action>settings</Action>{inner}",
                exchange.legacy_dn(host),
            )
            return _Response(200, "OK", [("Content-Type", "text/xml; charset=utf-8")], body_xml)
        if local in REDIRECTING and site.host not in REDIRECTORS:
            local = "monitor"  # the redirect's target answers with settings
        good = ("healthy.contoso.test", "msstd:healthy.contoso.test")
        fabrikam = self.url("autodiscover.fabrikam.test")
        body: bytes | Iterable[bytes]
        if local == "absent":
            body = _settings(good[0], None)
        elif local == "none":
            body = _settings(good[0], "None")
        elif local == "noexpr":
            body = _account(
                "<AccountType>email</AccountType><Action>settings</Action>"
                "<Protocol><Type>EXCH</Type><Server>5f2c@contoso.test</Server></Protocol>"
                "<Protocol><Type>WEB</Type></Protocol>"
            )
        elif local == "wrong":
            body = _settings(good[0], "msstd:owa.contoso.test")
        elif local == "exhttp":
            body = _settings(*good).replace(
                b"<Protocol><Type>EXPR</Type>", b"<Protocol><Type>EXPR-REMOVED</Type>"
            )
        elif local == "ssl-off":
            body = _settings(*good).replace(b"<SSL>On</SSL>", b"<SSL>Off</SSL>")
        elif local == "echo":
            body = _echo_error()
        elif local == "echo-reason":
            from urllib.parse import quote

            return _Response(500, f"Failed for {quote(PASSWORD, safe='')}", [], b"")
        elif local == "markup":  # escaped in the XML, so the parsed values hold the markup
            from xml.sax.saxutils import escape

            from ..hostile import MARKUP_CN, MARKUP_SANS

            body = _settings(escape(MARKUP_CN), escape(f"msstd:{MARKUP_SANS[0]}"))
        elif local == "markup-reason":
            from ..hostile import MARKUP_REASON

            return _Response(500, MARKUP_REASON, [], b"")
        elif local == "error600":
            body = ERROR_600
        elif local == "redirect-addr":
            body = _redirect("redirectAddr", "monitor@fabrikam.test")
        elif local == "redirect-url":
            body = _redirect("redirectUrl", fabrikam)
        elif local == "redirect-http-url":
            body = _redirect("redirectUrl", fabrikam.replace("https://", "http://"))
        elif local == "redirect-untrusted":
            body = _redirect("redirectUrl", self.url("tailspin.test"))
        elif local == "http-302":
            return _Response(302, "Found", [("Location", fabrikam)], b"")
        elif local == "loop":
            body = _redirect("redirectAddr", f"loop2@{domain}")
        elif local == "loop2":
            body = _redirect("redirectAddr", f"loop@{domain}")
        elif local == "url-loop":
            body = _redirect("redirectUrl", self.url("autodiscover.contoso.test"))
        elif local.startswith("hops-"):
            _, total, k = local.split("-")
            if int(k) < int(total):
                body = _redirect("redirectAddr", f"hops-{total}-{int(k) + 1}@{domain}")
            else:
                body = _settings(*good)
        elif local == "billion":
            body = BILLION_LAUGHS
        elif local == "xxe":
            body = _xxe(self.xxe_file)
        elif local == "huge":
            body = _huge()
        elif local == "drip":
            body = _drip()
        elif local == "invalid":
            body = b"<?xml version='1.0'?><Autodiscover xmlns='" + RESPONSE_NS.encode() + b"'><Res"
        elif local == "wrong-ns":
            body = _settings(*good).replace(RESPONSE_NS.encode(), b"urn:example:not-autodiscover")
        else:
            body = _settings(*good)
        return _Response(200, "OK", [("Content-Type", "text/xml; charset=utf-8")], body)

    # -- RPC proxy ------------------------------------------------------------------------

    def _rpc(self, site: Site, request: _Request) -> _Response | None:
        fe = [("X-FEServer", site.label.split(".")[0])] if site.label else []
        if request.path.lower() == "/rpc/healthcheck.htm":
            if not site.label:
                return _Response(404, "Not Found")
            return _Response(200, "OK", fe, f"200 OK<br/>{site.label}".encode())
        behaviour = site.rpc
        if behaviour == "silent":
            return None
        if behaviour == "401":
            auth = [
                ("WWW-Authenticate", "Negotiate"),
                ("WWW-Authenticate", "NTLM"),
                ("WWW-Authenticate", f'Basic realm="{site.host}"'),
            ]
            return _Response(401, "Unauthorized", auth + fe, b"", close=True)
        if behaviour == "401-basic":
            return _Response(
                401, "Unauthorized", [("WWW-Authenticate", 'Basic realm="rpc"')], b"", close=True
            )
        if behaviour == "200":
            return _Response(200, "Success", [("Content-Type", "application/rpc")], b"", True)
        if behaviour == "404":
            return _Response(404, "Not Found", [], b"", close=True)
        if behaviour == "403":
            return _Response(403, "Forbidden", [], b"", close=True)
        if behaviour == "302":
            where = [("Location", f"https://{site.host}/owa/")]
            return _Response(302, "Found", where, b"", close=True)
        return _Response(503, "RPC Error: 6ba", [], b"", close=True)
