"""``--proxy``: every connection of the check through one HTTP CONNECT proxy.

:func:`transport.connect` hands every connection to :meth:`Proxy.open` once the check's assembly
has set ``transport.PROXY``: the TLS probe of each node, Autodiscover, ``--rpc`` and any later
probe or fetch, none with proxy code of its own.  Each connection is a tunnel,
``CONNECT <address>:<port> HTTP/1.1``, to the ADDRESS the plugin chose: a node is probed by its
address whatever the proxy's DNS says, and Autodiscover's endpoints are reached at the address the
plugin resolved (its own DNS view, ``--dns-server`` included), the same for every connection.
Inside the tunnel the caller speaks as if connected directly: SNI, the Host header and the
principal stay the host name.  Plain-HTTP requests (Autodiscover's redirect step, CRL and OCSP
fetches) are tunnelled too, not sent as absolute-form requests: one path for every connection,
one place that authenticates, and the proxy relays what the server sent without rewriting or
caching it.

Proxy authentication answers a 407 with Basic, NTLM or Negotiate (``transport.auth``: NTLM's
legs on the same keep-alive connection).  Until one authentication has succeeded, only one
connection at a time tries (a wrong password costs one failed logon per check, never one per
node); once refused, every further connection fails at once.

Every read is bounded by the deadline and in size; nothing here reads an environment variable
(``http_proxy``, ``https_proxy``, ``no_proxy``): a check behaves the same under every daemon.
"""

from __future__ import annotations

import socket
import threading
import time

from ..facts import proxy as kinds
from ..facts.proxy import ProxyFacts, Tunnel
from . import (
    READ_SIZE,
    TRACE,
    Deadline,
    ProxyError,
    ascii_name,
    call_before,
    connect,
    wire_text,
)
from . import auth as httpauth

# The longest status or header line, the most header lines, and the longest body of an answer
# to CONNECT (a 407 page is a few kilobytes).
MAX_LINE = 8192
MAX_HEADERS = 100
MAX_BODY = 64 * 1024
USER_AGENT = "check_outlook_anywhere"
# How much sooner than the check's deadline a tunnel gives up waiting for the proxy's answer.
TUNNEL_MARGIN = 0.1


class _Answer:
    __slots__ = ("headers", "reason", "reusable", "status")

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        self.headers: list[tuple[str, str]] = []
        self.reusable = True

    @property
    def line(self) -> str:
        return f"{self.status} {self.reason}".strip()

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


class _Wire:
    """One TCP connection to the proxy, read without ever passing the end of an answer's head
    into the tunnel's bytes."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.settimeout(max(self.deadline.remaining(), 0.001))
        self.sock.sendall(data)

    def _more(self) -> None:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise TimeoutError()
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(READ_SIZE)
        if not chunk:
            raise ConnectionAbortedError("closed")
        self.buffer += chunk

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if len(self.buffer) > MAX_LINE + 1:
                raise ValueError(f"a line longer than {MAX_LINE} bytes")
            self._more()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        if len(line) > MAX_LINE:
            raise ValueError(f"a line longer than {MAX_LINE} bytes")
        return line

    def answer(self) -> _Answer:
        status_line = self.line().decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ValueError(f"it began '{wire_text(status_line, 40)}'")
        answer = _Answer(int(parts[1]), wire_text(parts[2] if len(parts) > 2 else "", 60))
        while True:
            line = self.line()
            if not line:
                break
            if len(answer.headers) >= MAX_HEADERS:
                raise ValueError(f"more than {MAX_HEADERS} header lines")
            name, sep, value = line.decode("latin-1").partition(":")
            if sep:
                answer.headers.append((name.strip(), value.strip()))
        connection = " ".join(answer.all("Connection") + answer.all("Proxy-Connection")).lower()
        answer.reusable = parts[0] == "HTTP/1.1" and "close" not in connection
        if answer.status != 200:
            self._skip_body(answer)
        return answer

    def _skip_body(self, answer: _Answer) -> None:
        """Read the body of a refusal, so that the connection can carry the next leg."""
        lengths = answer.all("Content-Length")
        if answer.all("Transfer-Encoding") or not lengths or not lengths[0].isdigit():
            answer.reusable = False  # its end is not known: this connection is done
            return
        length = int(lengths[0])
        if length > MAX_BODY:
            answer.reusable = False
            return
        while len(self.buffer) < length:
            self._more()
        self.buffer = self.buffer[length:]


class Proxy:
    """The proxy of ``--proxy``: opens tunnels and records each in :attr:`facts`."""

    def __init__(self, host: str, port: int, username: str = "", password: str = "") -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.name = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.facts = ProxyFacts(self.name, username)
        self._lock = threading.Lock()
        self._address: str | None = None
        # Until an authentication has succeeded, one connection at a time tries; once refused,
        # the refusal is every later connection's answer.
        self._auth_turn = threading.Lock()
        self._auth_works = False
        self._auth_refused: ProxyError | None = None
        self._basic_known = False  # Basic worked: later tunnels send it with the first CONNECT

    def __repr__(self) -> str:  # never the password
        return f"Proxy({self.name!r}, {self.username!r})"

    # -- one tunnel ---------------------------------------------------------------------------

    def open(self, address: str, port: int, deadline: Deadline) -> socket.socket:
        """A socket tunnelled to ``address``:``port``; raises :class:`ProxyError` for every
        failure, the proxy's and the target's as the proxy reported it."""
        target = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        tunnel = Tunnel(target)
        started = time.monotonic()
        try:
            sock = self._tunnel(tunnel, _sooner(deadline))
        except ProxyError as exc:
            tunnel.kind, tunnel.status, tunnel.detail = exc.kind, exc.status, exc.detail
            TRACE(f"proxy {self.name}", f"no tunnel to {target}: {exc.kind}")
            raise
        finally:
            tunnel.elapsed = time.monotonic() - started
            with self._lock:
                self.facts.tunnels.append(tunnel)
        TRACE(f"{address}:{port}", f"connected through proxy {self.name}")
        return sock

    def _tunnel(self, tunnel: Tunnel, deadline: Deadline) -> socket.socket:
        if self._auth_refused is not None:
            raise self._again(self._auth_refused)
        wire = _Wire(self._dial(deadline), deadline)
        try:
            header = self._basic() if self._basic_known else None
            if header:
                tunnel.scheme = "Basic"
            answer = self._connect(wire, tunnel, header)
            if answer.status == 407 and self.username and not tunnel.scheme:
                answer = self._authenticate(wire, tunnel, answer, deadline)
            self._judge(tunnel, answer)
            if wire.buffer:  # the server cannot speak before the client: a broken proxy
                why = "sent data after its answer to CONNECT"
                raise ProxyError(kinds.UNREACHABLE, f"proxy {self.name} {why}", detail=why)
        except BaseException:
            wire.sock.close()
            raise
        return wire.sock

    def _dial(self, deadline: Deadline) -> socket.socket:
        try:
            return connect(self._resolve(deadline), self.port, deadline, direct=True)
        except ProxyError:
            raise
        except TimeoutError:
            why = "unreachable (no connection within the deadline)"
        except OSError as exc:
            why = f"unreachable ({exc.strerror or exc.__class__.__name__})"
        raise ProxyError(kinds.UNREACHABLE, f"proxy {self.name} {why}", detail=why)

    def _resolve(self, deadline: Deadline) -> str:
        """The proxy's address: its name through the system resolver, once per check."""
        if self._address is not None:
            return self._address
        host = self.host
        if all(ch in "0123456789." for ch in host) or ":" in host:
            self._address = host
            return host
        why = f"unreachable (no address for {host})"
        try:
            found = call_before(
                deadline,
                lambda: socket.getaddrinfo(ascii_name(host), self.port, type=socket.SOCK_STREAM),
            )
        except (OSError, UnicodeError):
            raise ProxyError(kinds.UNREACHABLE, f"proxy {self.name} {why}", detail=why) from None
        except Exception:  # transport.Unfinished: the resolver did not answer in time
            why = f"unreachable (no address for {host} within the deadline)"
            raise ProxyError(kinds.UNREACHABLE, f"proxy {self.name} {why}", detail=why) from None
        self._address = str(found[0][4][0])
        return self._address

    def _connect(self, wire: _Wire, tunnel: Tunnel, authorization: str | None) -> _Answer:
        lines = [
            f"CONNECT {tunnel.target} HTTP/1.1",
            f"Host: {tunnel.target}",
            f"User-Agent: {USER_AGENT}",
            "Proxy-Connection: Keep-Alive",
        ]
        if authorization:
            lines.append(f"Proxy-Authorization: {authorization}")
        if TRACE.on:  # the target and the scheme, never the credentials
            scheme = authorization.split(" ", 1)[0] if authorization else ""
            said = f" (Proxy-Authorization: {scheme} ...)" if scheme else ""
            TRACE(f"proxy {self.name}", f"CONNECT {tunnel.target}{said}")
        try:
            wire.send(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
            answer = wire.answer()
        except TimeoutError:
            raise self._late(tunnel) from None
        except ValueError as exc:
            why = f"gave no HTTP answer to CONNECT ({exc})"
            raise ProxyError(kinds.UNREACHABLE, f"proxy {self.name} {why}", detail=why) from None
        except OSError as exc:
            closed = isinstance(exc, ConnectionAbortedError)
            why = "closed the connection" if closed else exc.strerror or exc.__class__.__name__
            why += " before answering CONNECT"
            raise ProxyError(kinds.UNREACHABLE, f"proxy {self.name} {why}", detail=why) from None
        offered = _schemes(answer)
        TRACE(
            f"proxy {self.name}",
            answer.line + (f" (offers {', '.join(offered)})" if answer.status == 407 else ""),
        )
        tunnel.status = answer.line
        return answer

    def _judge(self, tunnel: Tunnel, answer: _Answer) -> None:
        """A tunnel is open on 200 (any 2xx); anything else is a failure of its kind."""
        if 200 <= answer.status < 300:
            return
        line = answer.line
        if answer.status in (502, 503, 504):
            raise ProxyError(
                kinds.GATEWAY,
                f"unreachable through proxy {self.name} ({line})",
                line,
                f"answered {line}",
            )
        if answer.status == 407:
            offered = ", ".join(_schemes(answer)) or "no scheme"
            if tunnel.scheme:
                why = f"refused the credentials of {self.username} ({tunnel.scheme})"
                refused = ProxyError(kinds.AUTH, f"proxy {self.name} {why}", line, why)
                self._auth_refused = refused
                raise refused
            raise ProxyError(
                kinds.AUTH,
                f"proxy {self.name} wants authentication ({offered})",
                line,
                f"wants authentication ({offered})",
            )
        raise ProxyError(
            kinds.REFUSED,
            f"proxy {self.name} refused CONNECT {tunnel.target} ({line})",
            line,
            f"refused CONNECT ({line})",
        )

    # -- authentication -----------------------------------------------------------------------

    def _basic(self) -> str:
        return httpauth.Handshake("Basic", self.username, self.password, self.host).first()

    def _authenticate(
        self, wire: _Wire, tunnel: Tunnel, answer: _Answer, deadline: Deadline
    ) -> _Answer:
        """Answer a 407: one connection at a time until an authentication has worked."""
        if self._auth_works:
            return self._legs(wire, tunnel, answer, deadline)
        if not self._auth_turn.acquire(timeout=max(deadline.remaining(), 0.001)):
            raise self._late(tunnel)
        try:
            if self._auth_refused is not None:
                raise self._again(self._auth_refused)
            # the turn came when the time was up (the connection before spent it all, and its
            # release and this wait's end came together): no credentials sent that late
            if deadline.expired():
                raise self._late(tunnel)
            answer = self._legs(wire, tunnel, answer, deadline)
            if answer.status == 407:
                self._judge(tunnel, answer)  # raises, and every later tunnel fails the same way
            self._auth_works = True
            return answer
        finally:
            self._auth_turn.release()

    def _late(self, tunnel: Tunnel) -> ProxyError:
        return ProxyError(
            kinds.TIMEOUT,
            f"no answer from proxy {self.name} to CONNECT {tunnel.target} within the deadline",
            detail="no answer to CONNECT within the deadline",
        )

    def _legs(self, wire: _Wire, tunnel: Tunnel, answer: _Answer, deadline: Deadline) -> _Answer:
        """Basic, NTLM or Negotiate: NTLM's legs on this same connection, Basic on a new one
        when the proxy closed this one; the answer to the last leg."""
        offered = _schemes(answer)
        try:
            scheme = httpauth.choose(offered)
        except httpauth.AuthError:
            why = "accepts only NTLM/Negotiate and pyspnego is not installed"
            raise ProxyError(kinds.AUTH, f"proxy {self.name} {why}", answer.line, why) from None
        if scheme is None:
            why = f"offers no scheme this plugin speaks ({', '.join(offered) or 'none'})"
            raise ProxyError(kinds.AUTH, f"proxy {self.name} {why}", answer.line, why)
        tunnel.scheme = scheme
        if not answer.reusable:
            if scheme != "Basic":
                why = f"closed the connection after its 407 ({scheme} needs one connection)"
                raise ProxyError(kinds.AUTH, f"proxy {self.name} {why}", answer.line, why)
            wire.sock.close()
            wire.sock, wire.buffer = self._dial(deadline), b""
        handshake = httpauth.Handshake(scheme, self.username, self.password, self.host)
        try:
            answer = self._connect(wire, tunnel, handshake.first())
            if answer.status == 407 and scheme != "Basic" and answer.reusable:
                step = handshake.next(answer.all("Proxy-Authenticate"))
                if step is not None:
                    answer = self._connect(wire, tunnel, step)
        except httpauth.AuthError as exc:
            bad = exc.kind == "bad-challenge"
            why = f"sent an unusable {scheme} challenge" if bad else f"could not be answered: {exc}"
            raise ProxyError(kinds.AUTH, f"proxy {self.name} {why}", answer.line, why) from None
        if scheme == "Basic" and 200 <= answer.status < 300:
            self._basic_known = True
        return answer

    def _again(self, refused: ProxyError) -> ProxyError:
        return ProxyError(refused.kind, refused.text, refused.status, refused.detail)


def _sooner(deadline: Deadline) -> Deadline:
    """The tunnel's own deadline, a moment before the check's: a proxy still waiting for the
    target at the end is then a fact of this tunnel (proxy-timeout), recorded before the
    probes are collected, rather than a probe cut off without a word."""
    sooner = Deadline(deadline.seconds, reserve=0)
    sooner.at = deadline.at - min(TUNNEL_MARGIN, deadline.remaining() / 10)
    return sooner


def _schemes(answer: _Answer) -> list[str]:
    """The scheme names of the Proxy-Authenticate headers, in order, each once."""
    return httpauth.challenge_schemes(answer.all("Proxy-Authenticate"))
