"""Autodiscover: find the endpoint for a mailbox, ask it for the Outlook provider settings,
follow its redirects.  Facts only: what was tried, what answered, what the document says.

The lookup is the standard one for a poller that cannot read Active Directory (docs/design.md):
``https://<domain>``, ``https://autodiscover.<domain>``, the unauthenticated
``GET http://autodiscover.<domain>`` whose 302 may point to an https URL, then the DNS SRV
record ``_autodiscover._tcp.<domain>``.  ``redirectAddr``, ``redirectUrl`` and HTTP redirects
are followed up to :data:`MAX_HOPS` times; coming back to a place already visited is a loop.

Credentials go only over TLS whose certificate verifies for the URL's host name, against
``--ca-file`` or the system store (``--ignore-trust`` never applies here); the connection is
refused before a byte of the request is written otherwise.  The first request carries no
credentials at all: the 401 says which schemes the server accepts.  NTLM and Negotiate (through
``pyspnego``, an optional dependency) are preferred to Basic: the password never leaves the
poller with them.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator

from ..facts.http import Attempt, AutodiscoverFacts
from ..output import conceal
from ..probes import addresses
from ..transport import TRACE, Deadline, client_context, dns_resolver, wire_text
from ..transport import auth as httpauth
from ..transport.http import Connection, HttpError, Response, auth_schemes
from .document import Document, UnusableDocument, parse

PATH = "/autodiscover/autodiscover.xml"
# Redirects followed (redirectAddr, redirectUrl and HTTP 3xx together), as Outlook does.
MAX_HOPS = 10
# Autodiscover's share of the check's deadline; the nodes are probed with what is left.
BUDGET_SHARE = 0.6
HTTPS_PORT = 443
HTTP_PORT = 80
USER_AGENT = "check_outlook_anywhere"
REQUEST_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
RESPONSE_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
# How to install it depends on how the plugin was installed: words.install_hint says.
NTLM_MISSING = "the server accepts only NTLM/Negotiate and pyspnego is not installed"


class Credentials:
    __slots__ = ("kerberos", "mode", "password", "username")

    def __init__(
        self, username: str, password: str, mode: str = "negotiate", kerberos: object = None
    ) -> None:
        self.username = username  # "": follow the mailbox address
        self.password = password
        self.mode = mode  # --auth
        self.kerberos = kerberos  # a transport.kerberos.Client when a credential is at hand

    def __repr__(self) -> str:  # never the password
        return f"Credentials({self.username!r}, ...)"


class Request:
    """What to look up (plain classes here: ``dataclasses`` costs start-up, see facts.http)."""

    __slots__ = ("ca_file", "credentials", "dns_server", "email", "mapi", "port", "rpc", "url")

    def __init__(
        self,
        email: str,
        url: str | None,  # --autodiscover-url
        credentials: Credentials,
        ca_file: str | None,
        dns_server: tuple[str, int] | None,
        port: int | None = None,  # --autodiscover-port: the standard lookup's ports (a lab)
        mapi: bool = False,  # --mapi: ask for the mapiHttp block too
        rpc: bool = False,  # --rpc: the EXCH and EXPR blocks are needed as well
    ) -> None:
        self.email = email
        self.url = url
        self.credentials = credentials
        self.ca_file = ca_file
        self.dns_server = dns_server
        self.port = port
        self.mapi = mapi
        self.rpc = rpc


class _Stop(Exception):
    """The lookup ends here with this error."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text


class _Reply:
    __slots__ = ("document", "failure", "location", "unauthorized")

    def __init__(
        self,
        document: Document | None = None,
        location: str = "",  # an HTTP redirect to follow
        failure: str = "",  # this endpoint did not work; try the next one
        unauthorized: bool = False,
    ) -> None:
        self.document = document
        self.location = location
        self.failure = failure
        self.unauthorized = unauthorized


class _Url:
    __slots__ = ("host", "path", "port")

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host = host
        self.port = port
        self.path = path

    @property
    def text(self) -> str:
        port = "" if self.port == HTTPS_PORT else f":{self.port}"
        return f"https://{self.host}{port}{self.path}"


def _split_https(url: str) -> _Url:
    """An https URL as host, port and path; raise ValueError for anything else."""
    from urllib.parse import urlsplit

    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise ValueError("contains white space or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        raise ValueError("not an https URL")
    if parts.username or parts.password:
        raise ValueError("user information in the URL")
    host = parts.hostname or ""
    if not host:
        raise ValueError("no host name")
    port = parts.port or HTTPS_PORT
    path = parts.path or PATH
    if parts.query:
        path += "?" + parts.query
    return _Url(host, port, path)


def shown(url: str) -> str:
    """A URL fit for output: printable, bounded, without user information (not concealed here:
    most URLs are the plugin's own; ``Lookup._shown`` hides the password in servers' ones)."""
    text = wire_text(url, 200, hide=False)
    if "@" in text.split("/", 3)[2 if "//" in text else 0]:
        return "(a URL with user information)"
    return text


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[1].strip().rstrip(".").lower()


def _xml_text(value: str) -> str:
    """``value`` as XML character data: what ``xml.sax.saxutils.escape`` does, without the
    ``urllib.request``, ``http.client`` and ``email`` modules importing it loads (50 ms)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _request_body(email: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\r\n'
        f'<Autodiscover xmlns="{REQUEST_SCHEMA}">\r\n'
        "  <Request>\r\n"
        f"    <EMailAddress>{_xml_text(email)}</EMailAddress>\r\n"
        f"    <AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema>\r\n"
        "  </Request>\r\n"
        "</Autodiscover>\r\n"
    ).encode()


def verifying_context(ca_file: str | None) -> ssl.SSLContext:
    """Chain and host name verified, always: credentials are sent over this."""
    return client_context(verify=True, ca_file=ca_file, check_hostname=True)


class Lookup:
    """One Autodiscover run for one mailbox (see :func:`discover`)."""

    def __init__(self, request: Request, deadline: Deadline) -> None:
        self.request = request
        self.deadline = deadline
        self.context = verifying_context(request.ca_file)
        self.facts = AutodiscoverFacts(request.email, request.email)
        self.visited: list[str] = []
        self.from_servers = self.facts.from_servers
        # X-MapiHttpCapability: 1 on this request.  With it the answer MUST NOT hold EXCH or
        # EXPR ([MS-OXDSCLI] 3.2.5.1): where RPC is asked for as well, the lookup goes without
        # it and one more request with it fetches the mapiHttp block (as sensepost/ruler does).
        self.capability = request.mapi and not request.rpc

    def _shown(self, url: str) -> str:
        """A URL for output; one a server named may echo the password, ours never garble."""
        return conceal(shown(url)) if url in self.from_servers else shown(url)

    # -- the run --------------------------------------------------------------------------

    def run(self) -> AutodiscoverFacts:
        started = time.monotonic()
        try:
            self._run()
            if self.request.mapi and not self.capability:
                self._mapi_settings()
        except _Stop as stop:
            self.facts.error_kind, self.facts.error = stop.kind, stop.text
        self.facts.elapsed = time.monotonic() - started
        return self.facts

    def _run(self) -> None:
        email = self.request.email
        url: str | None = self.request.url
        self._visit(f"address {email}")
        while True:
            reply = self._first_working(email, url)
            if reply.location:
                url = self._hop("HTTP redirect to", reply.location, email)
                continue
            document = reply.document
            assert document is not None
            if document.error_code or document.error_message:
                self.facts.document = document
                raise _Stop(
                    "error-response",
                    conceal(
                        f"error {document.error_code or '?'}:"
                        f" {document.error_message or 'no message'}"
                    ),
                )
            action = document.action.lower()
            if action == "redirecturl":
                url = self._hop("redirectUrl", document.redirect_url, email)
            elif action == "redirectaddr":
                email = self._hop_address(document.redirect_addr)
                url = self.request.url
            else:
                self.facts.document = document
                return

    def _mapi_settings(self) -> None:
        """The second request, with X-MapiHttpCapability, to the endpoint that answered the
        first for the same address: its mapiHttp URLs join the first answer's providers."""
        document = self.facts.document
        if document is None or not self.facts.url:
            return
        self.capability = True
        TRACE("Autodiscover", "again with X-MapiHttpCapability: 1 (mapiHttp)")
        reply = self._post(self.facts.url, self.facts.final_email)
        if reply.document is not None:
            document.mapi_mailstore = reply.document.mapi_mailstore
            document.mapi_addressbook = reply.document.mapi_addressbook
            document.legacy_dn = document.legacy_dn or reply.document.legacy_dn
        else:
            outcome = reply.failure or "a redirect"
            self.facts.attempts.append(Attempt(f"{self.facts.url} (mapiHttp)", outcome))

    def _visit(self, place: str) -> None:
        seen = [p.lower() for p in self.visited]
        if place.lower() in seen:
            # ", then", not an arrow: the plugin's words hold no "<" or ">" (output.clean)
            chain = ", then ".join(self.visited[seen.index(place.lower()) :])
            raise _Stop("loop", f"redirect loop: {chain}, then {place}")
        self.visited.append(place)

    def _count_hop(self, text: str) -> None:
        TRACE("Autodiscover", text)
        self.facts.hops.append(text)
        if len(self.facts.hops) > MAX_HOPS:
            raise _Stop("redirects", f"more than {MAX_HOPS} redirects (last: {text})")

    def _hop(self, kind: str, target: str, email: str) -> str:
        self.from_servers.add(target)
        self._count_hop(f"{kind} {conceal(shown(target))}")
        try:
            parsed = _split_https(target)
        except ValueError as exc:
            raise _Stop(
                "refused",
                f"{kind} {conceal(shown(target))} refused ({exc}): credentials go only over"
                " verified TLS",
            ) from None
        self.from_servers.add(parsed.text)
        self._visit(f"{parsed.text} for {email}")
        return parsed.text

    def _hop_address(self, address: str) -> str:
        address = address.strip()
        self.from_servers.add(address)
        if address.count("@") != 1 or any(ord(ch) < 33 for ch in address):
            raise _Stop(
                "unusable", f"redirectAddr to an invalid address '{conceal(shown(address))}'"
            )
        self._count_hop(f"redirectAddr {address}")
        self._visit(f"address {address}")
        self.facts.final_email = address
        return address

    def _first_working(self, email: str, url: str | None) -> _Reply:
        """POST to each candidate in turn until one answers with a document or a redirect."""
        candidates = iter([url]) if url else self._candidates(email)
        unauthorized: list[str] = []
        for candidate in candidates:
            if self.deadline.expired():
                break
            reply = self._post(candidate, email)
            if not reply.failure:
                self.facts.url = candidate
                return reply
            self.facts.attempts.append(Attempt(candidate, reply.failure))
            if reply.unauthorized:
                unauthorized.append(f"{self._shown(candidate)}: {reply.failure}")
        if unauthorized:
            raise _Stop("unauthorized", "; ".join(unauthorized))
        tried = "; ".join(f"{self._shown(a.url)}: {a.outcome}" for a in self.facts.attempts[-6:])
        if self.deadline.expired():
            raise _Stop("timeout", f"no answer in time ({tried or 'nothing tried'})")
        raise _Stop("unreachable", f"no endpoint answered ({tried})")

    # -- the standard lookup --------------------------------------------------------------

    def _candidates(self, email: str) -> Iterator[str]:
        domain = _domain(email)
        https = _Url(domain, self.request.port or HTTPS_PORT, PATH)
        yield https.text
        yield _Url(f"autodiscover.{domain}", https.port, PATH).text
        location = self._http_redirect(f"autodiscover.{domain}")
        if location:
            yield location
        yield from self._srv(domain)

    def _http_redirect(self, host: str) -> str:
        """Step 3: an unauthenticated GET over plain HTTP; only a 302 to https is taken."""
        port = self.request.port or HTTP_PORT
        url = f"http://{host}{'' if port == HTTP_PORT else f':{port}'}{PATH}"
        try:
            conn = self._connect(host, port, tls=False)
            try:
                response = conn.request(
                    "GET", PATH, host, [("User-Agent", USER_AGENT), ("Connection", "close")]
                )
            finally:
                conn.close()
        except HttpError as exc:
            self.facts.attempts.append(Attempt(url, exc.text))
            return ""
        location = response.header("Location") or ""
        if response.status in (301, 302, 303, 307, 308) and location:
            if location.lower().startswith("https://"):
                return location
            outcome = f"{response.status} to {conceal(shown(location))} ignored (not https)"
        else:
            outcome = f"{response.status} {response.reason}".strip()
        self.facts.attempts.append(Attempt(url, outcome))
        return ""

    def _srv(self, domain: str) -> Iterator[str]:
        import dns.exception
        import dns.resolver

        name = f"_autodiscover._tcp.{domain}"
        resolver = dns_resolver(self.request.dns_server, self.deadline)
        TRACE("Autodiscover", f"SRV {name}")
        try:
            answer = resolver.resolve(name, "SRV", search=False)
        except dns.resolver.NXDOMAIN:
            self.facts.attempts.append(Attempt(f"SRV {name}", "DNS name not found"))
            return
        except dns.resolver.NoAnswer:
            self.facts.attempts.append(Attempt(f"SRV {name}", "no SRV record"))
            return
        except dns.exception.DNSException as exc:
            self.facts.attempts.append(
                Attempt(f"SRV {name}", f"DNS query failed: {type(exc).__name__}")
            )
            return
        records = sorted(answer, key=lambda r: (r.priority, -r.weight))
        for record in records:
            target = record.target.to_text(omit_final_dot=True)
            if target and target != ".":
                yield _Url(target, int(record.port), PATH).text

    # -- one endpoint ---------------------------------------------------------------------

    def _connect(self, host: str, port: int, tls: bool) -> Connection:
        resolution = addresses.resolve(host, self.deadline, False, False, self.request.dns_server)
        if not resolution.addresses:
            from ..check.words import resolution_failure  # the attempt's outcome is quoted as it is

            raise HttpError("dns", resolution_failure(resolution))
        last: HttpError | None = None
        for address in resolution.addresses[:4]:
            try:
                return Connection(address, port, self.deadline, self.context if tls else None, host)
            except HttpError as exc:
                # the next address when this one is down (502 from --proxy: the same)
                if exc.kind not in ("refused", "network", "proxy-gateway"):
                    raise
                last = exc
        assert last is not None
        raise last

    def _post(self, url: str, email: str) -> _Reply:
        try:
            target = _split_https(url)
        except ValueError as exc:
            return _Reply(failure=f"not used ({exc})")
        try:
            conn = self._connect(target.host, target.port, tls=True)
        except HttpError as exc:
            if exc.kind == "untrusted":
                return _Reply(
                    failure=f"certificate does not verify for {target.host} ({exc.text});"
                    " credentials not sent"
                )
            return _Reply(failure=exc.text)
        try:
            return self._exchange(conn, target, email)
        except HttpError as exc:
            if exc.kind == "too-big":
                raise _Stop("unusable", f"{exc.text} ({self._shown(url)})") from None
            return _Reply(failure=exc.text)
        finally:
            conn.close()

    def _exchange(self, conn: Connection, target: _Url, email: str) -> _Reply:
        body = _request_body(email)
        headers = [
            ("Content-Type", "text/xml; charset=utf-8"),
            ("User-Agent", USER_AGENT),
            ("X-ClientCanHandle", "Negotiate,ExHttpInfo"),
            ("Connection", "keep-alive"),
        ]
        if self.capability:  # Exchange publishes the mapiHttp URLs only to clients that ask
            headers.append(("X-MapiHttpCapability", "1"))
        response = conn.request("POST", target.path, target.host, headers, body)
        if response.status != 401:
            return self._outcome(response, "")
        username = self.request.credentials.username or email
        credentials = self.request.credentials
        if not credentials.password and credentials.kerberos is None:
            return _Reply(failure="401: the endpoint wants credentials", unauthorized=True)
        schemes = auth_schemes(response)
        pinned = self._pinned(schemes)
        if pinned == "Kerberos":
            return self._kerberos(self._reopen(conn, target, response), target, headers, body)
        try:
            scheme = pinned or httpauth.choose(schemes)
        except httpauth.AuthError:
            raise _Stop("ntlm-missing", NTLM_MISSING) from None
        if scheme is None:
            offered = ", ".join(auth_schemes(response)) or "none"
            return _Reply(failure=f"401 with no scheme this plugin speaks (offered: {offered})")
        conn = self._reopen(conn, target, response)
        # Basic binds nothing: no hash (hashlib's OpenSSL backend costs a tenth of a check)
        peer = conn.peer_certificate() if scheme != "Basic" else None
        binding = httpauth.channel_binding(peer)
        auth = httpauth.Handshake(
            scheme, username, self.request.credentials.password, target.host, binding
        )
        try:
            header = auth.first()
            response = conn.request(
                "POST", target.path, target.host, [*headers, ("Authorization", header)], body
            )
            if response.status == 401 and scheme != "Basic" and not conn.closed:
                answer = auth.next(response.all("WWW-Authenticate"))
                if answer is not None:
                    response = conn.request(
                        "POST",
                        target.path,
                        target.host,
                        [*headers, ("Authorization", answer)],
                        body,
                    )
        except httpauth.AuthError as exc:
            if exc.kind == "ntlm-start":
                raise _Stop("unauthorized", str(exc)) from None
            raise HttpError("protocol", f"{exc} from the server") from None
        return self._outcome(response, username)

    def _pinned(self, offered: list[str]) -> str | None:
        from ..probes.negotiate import pinned_scheme

        credentials = self.request.credentials
        try:
            return pinned_scheme(credentials.mode, credentials.kerberos is not None, offered)
        except ValueError as exc:
            raise _Stop(str(exc), ", ".join(offered) or "none") from None

    def _kerberos(
        self, conn: Connection, target: _Url, headers: list[tuple[str, str]], body: bytes
    ) -> _Reply:
        from ..probes import negotiate
        from ..transport.kerberos import KerberosError

        client = self.request.credentials.kerberos
        try:
            response = negotiate.post(conn, client, target.host, target.path, headers, body)
        except KerberosError as exc:  # a node's refusal: its KRB-ERROR code after the host
            code = f" {exc}" if exc.kind in ("key", "node-skew") else ""
            raise _Stop(f"kerberos-{exc.kind}", f"{target.host}{code}") from None
        return self._outcome(response, self.request.credentials.username or target.host)

    def _reopen(self, conn: Connection, target: _Url, response: Response) -> Connection:
        if not conn.closed:
            return conn
        return self._connect(target.host, target.port, tls=True)

    def _outcome(self, response: Response, username: str) -> _Reply:
        status = f"{response.status} {response.reason}".strip()
        if response.status == 200:
            try:
                return _Reply(document=parse(response.body))
            except UnusableDocument as exc:
                raise _Stop("unusable", f"unusable response: {exc}") from None
        if response.status in (301, 302, 303, 307, 308):
            location = response.header("Location")
            if location:
                return _Reply(location=location)
        if response.status == 401:
            who = f" for user {username}" if username else ""
            return _Reply(failure=f"{status}: wrong user name or password{who}", unauthorized=True)
        return _Reply(failure=status)


def budget(deadline: Deadline) -> Deadline:
    """Autodiscover's part of the deadline: the nodes are probed after it."""
    part = Deadline(deadline.seconds, reserve=0)
    part.at = min(deadline.at, time.monotonic() + deadline.remaining() * BUDGET_SHARE)
    return part


def discover(request: Request, deadline: Deadline) -> AutodiscoverFacts:
    """Everything one Autodiscover run learned; never raises for what the network does."""
    return Lookup(request, deadline).run()
