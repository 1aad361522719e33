"""The transport every probe shares: one of each, tested once.

* :class:`Deadline`: the one deadline from ``-t`` that every socket and DNS query shares.
* :func:`connect`: a TCP connection whose connect is bounded by the deadline; through the HTTP
  CONNECT proxy of ``--proxy`` when :data:`PROXY` is set (``transport.proxy``), for every
  connection of the check alike.
* :class:`TlsChannel`: TLS over memory BIOs on a connected socket.  The probe does its own socket
  reads, so every read is bounded by the deadline (a server dripping one byte a second cannot
  stretch a handshake), the first bytes of a server that does not speak TLS can be shown, and the
  chain the server sent stays readable after OpenSSL rejected it.
* :func:`client_context`: every ``SSLContext`` of the plugin (verification on or off, the trust
  store, host name checks, legacy protocols).
* :func:`fan_out`: one worker thread per item, joined until the deadline (and
  :func:`call_before`, for one call that takes no timeout of its own, ``getaddrinfo``).
* :func:`wire_text`: text that came off the wire, printable and bounded, the password hidden.
* :func:`dns_resolver`: a dnspython resolver for ``--dns-server`` or the system's configuration,
  its timeouts from the deadline (imported only on the paths that ask for DNS by dnspython).
* :data:`TRACE`: the step-by-step record ``-vvv`` prints (resolution, connects, handshakes,
  HTTP requests, Autodiscover hops); nothing is recorded unless it is switched on.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Sequence

from ..output import conceal, printable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any, Protocol, TypeVar

    T = TypeVar("T")

    class Tunnels(Protocol):
        """What :func:`connect` needs of ``transport.proxy.Proxy``: named here, so that this
        package does not import the module that imports it."""

        def open(self, address: str, port: int, deadline: Deadline) -> socket.socket: ...

    R = TypeVar("R")

# X509_V_FLAG_NO_CHECK_TIME: validity dates are judged by the plugin, per certificate.
NO_CHECK_TIME = 0x200000
READ_SIZE = 16384
# The longest certificate chain read from a server.
MAX_CHAIN = 20


# -- the deadline ------------------------------------------------------------------------------

# Time kept back for judging and printing once the network work is cut off.
RESERVE = 0.25


class Deadline:
    """One deadline for the whole check, from ``-t``: every connect, handshake and DNS query
    gets what is left of it, so the plugin prints its own verdict before the engine kills it."""

    def __init__(self, seconds: float, reserve: float = RESERVE) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self.at = self.start + max(seconds - reserve, seconds / 2)

    def remaining(self) -> float:
        return max(self.at - time.monotonic(), 0.0)

    def expired(self) -> bool:
        return time.monotonic() >= self.at


# -- the trace (-vvv) ---------------------------------------------------------------------------


class Trace:
    """What happened, step by step: (seconds since the check started, where, what)."""

    def __init__(self) -> None:
        self.on = False
        self.started = time.monotonic()
        self.steps: list[tuple[float, str, str]] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self.on, self.started, self.steps = True, time.monotonic(), []

    def __call__(self, where: str, what: str) -> None:
        if self.on:
            with self._lock:
                self.steps.append((time.monotonic() - self.started, where, conceal(what)))


TRACE = Trace()


# -- connect and TLS -----------------------------------------------------------------------------


class ProxyError(OSError):
    """A connection the ``--proxy`` proxy did not open; ``kind`` says how: proxy-unreachable,
    proxy-auth, proxy-refused (the proxy's own failures), proxy-gateway, proxy-timeout (the
    proxy could not reach the target, or not in time).  An OSError, so that every caller's
    handling of a failed connect applies; its own kind is recorded where the caller keeps kinds.
    """

    def __init__(self, kind: str, text: str, status: str = "", detail: str = "") -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text  # what happened, for a caller that quotes it ("proxy ...: ...")
        self.status = status  # the proxy's status line ("403 Forbidden"), "" without one
        self.detail = detail  # the evidence alone: the system's error, the schemes offered
        self.strerror = text


# The HTTP CONNECT proxy every connection of this check goes through (``transport.proxy.Proxy``),
# set once by the check's assembly for ``--proxy``; None: connect directly.  Never taken from the
# environment (http_proxy, https_proxy, no_proxy): a check behaves the same under every daemon.
PROXY: Tunnels | None = None


def connect(address: str, port: int, deadline: Deadline, *, direct: bool = False) -> socket.socket:
    """A connected TCP socket to ``address``:``port``; raises OSError (TimeoutError at the
    deadline, :class:`ProxyError` for what the proxy did).

    With a proxy configured (:data:`PROXY`), the socket is a tunnel the proxy opened with
    ``CONNECT address:port`` and the caller speaks through it as if connected directly: TLS
    probes, HTTP requests and any later fetch are proxied here, none has its own proxy code.
    ``direct``: connect to this address itself (the proxy's own connection)."""
    if PROXY is not None and not direct:
        return PROXY.open(address, port, deadline)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise TimeoutError()
        sock.settimeout(remaining)
        sock.connect((address, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException as exc:
        sock.close()
        TRACE(f"{address}:{port}", f"connect failed: {exc.__class__.__name__}")
        raise
    TRACE(f"{address}:{port}", "connected")
    return sock


def labels_fit(name: str) -> bool:
    """The idna codec's rule for a name's labels: each 1 to 63 characters (a final dot allowed)."""
    labels = name[:-1].split(".") if name.endswith(".") else name.split(".")
    return all(0 < len(label) < 64 for label in labels)


def ascii_name(name: str) -> str | bytes:
    """A host name as the socket and ssl modules are best given it: an ASCII name whose labels
    the idna codec would accept, as bytes, since both encode every str name with that codec,
    and loading it (with ``stringprep`` and ``unicodedata``) costs more than a TLS handshake's
    worth of start-up; any other name as it is, for the codec to encode or refuse."""
    if name.isascii() and labels_fit(name):
        return name.encode("ascii")
    return name


class TlsChannel:
    """TLS over memory BIOs on a connected socket; every read bounded by the deadline."""

    def __init__(
        self,
        sock: socket.socket,
        ctx: ssl.SSLContext,
        server_name: str | None,
        session: ssl.SSLSession | None = None,
    ) -> None:
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        name = ascii_name(server_name) if server_name else None
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname=name, session=session)
        self.first_bytes = b""

    def handshake(self, deadline: Deadline) -> None:
        """Complete the handshake or raise (ssl.SSLError, OSError, TimeoutError)."""
        while True:
            try:
                self.obj.do_handshake()
                self._flush(deadline)
                return
            except ssl.SSLWantReadError:
                self._flush(deadline)
                self._pull(deadline)
            except ssl.SSLError:
                with contextlib.suppress(OSError):  # let the server see our alert, if it is there
                    self._flush(deadline)
                raise

    def send(self, data: bytes, deadline: Deadline) -> None:
        self.obj.write(data)
        self._flush(deadline)

    def recv(self, deadline: Deadline) -> bytes:
        """Some bytes, or b"" at the end of the stream."""
        while True:
            try:
                return self.obj.read(READ_SIZE)
            except ssl.SSLWantReadError:
                self._pull(deadline)
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def chain(self, verified: bool) -> list[Any]:
        sslobj = self.obj._sslobj  # type: ignore[attr-defined]
        getter = sslobj.get_verified_chain if verified else sslobj.get_unverified_chain
        return list(getter() or [])[:MAX_CHAIN]

    def peer_der(self) -> bytes | None:
        return self.obj.getpeercert(binary_form=True)

    def _flush(self, deadline: Deadline) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.settimeout(max(deadline.remaining(), 0.001))
            self.sock.sendall(data)

    def _pull(self, deadline: Deadline) -> None:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise TimeoutError()
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(READ_SIZE)
        if len(self.first_bytes) < 64:
            self.first_bytes += chunk[: 64 - len(self.first_bytes)]
        if chunk:
            self.incoming.write(chunk)
        else:
            self.incoming.write_eof()


def client_context(
    verify: bool = True,
    ca_file: str | None = None,
    check_hostname: bool = False,
    legacy: bool = False,
) -> ssl.SSLContext:
    """Every TLS client context of the plugin.

    ``verify`` with ``check_hostname`` off: the chain only (the principal rules are the plugin's
    own) and no time checks (dates are judged per certificate, so an expired certificate says
    "expired", not "untrusted").  ``check_hostname``: full verification, for connections that
    carry credentials.  ``legacy``: old protocols and weak signatures, only to tell an
    administrator what a server has."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if legacy:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    if not verify:
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx.verify_mode = ssl.CERT_REQUIRED
    if check_hostname:
        ctx.check_hostname = True
    else:
        ctx.verify_flags |= NO_CHECK_TIME
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
        return ctx
    paths = ssl.get_default_verify_paths()
    # A hashed directory (Debian's /etc/ssl/certs) is read lazily, one file per issuer looked
    # up; the bundle file would be parsed whole on every run.  Where the directory has no hash
    # links (RHEL's /etc/pki/tls/certs), only the bundle works.
    if paths.capath and not os.environ.get(paths.openssl_cafile_env) and hashed(paths.capath):
        ctx.load_verify_locations(capath=paths.capath)
    else:
        ctx.set_default_verify_paths()
    return ctx


def hashed(path: str) -> bool:
    """True when ``path`` holds OpenSSL's subject-hash links (``c_rehash``): ``3513523f.0``."""
    import re

    hash_name = re.compile(r"[0-9a-f]{8}\.\d+")
    try:
        with os.scandir(path) as entries:
            return any(hash_name.fullmatch(entry.name) for entry in entries)
    except OSError:
        return False


# -- fan-out over nodes ------------------------------------------------------------------------


def fan_out(
    items: Sequence[T], work: Callable[[T], R], deadline: Deadline
) -> list[tuple[bool, R | BaseException | None]]:
    """Run ``work`` on every item at once, each in a thread of its own, and wait until the
    deadline.

    Returns one (finished, outcome) per item, in order: the value, or the exception it raised;
    (False, None) for one still running at the deadline (its thread is left to the socket
    timeouts, which end with the same deadline).

    The threads are ``_thread``'s, not ``threading.Thread``: the objects, events and hooks
    that class adds cost a check of eight nodes more instructions than a TLS handshake, and
    nothing here joins, names or enumerates a thread.  What the class would hand its threads,
    a trace or profile function set with ``threading.settrace`` (coverage, a debugger), they
    get all the same; and the process never waits for them (it ends with ``os._exit``)."""
    boxes: list[dict[str, object]] = [{} for _ in items]
    if not boxes:
        return []
    left = [len(boxes)]
    counting = _thread.allocate_lock()
    all_done = _thread.allocate_lock()
    all_done.acquire()
    trace, profile = threading.gettrace(), threading.getprofile()

    def started(item: T, box: dict[str, object]) -> None:  # pragma: no cover - not traced yet
        sys.settrace(trace)  # None: none, as threading would leave it
        sys.setprofile(profile)
        run(item, box)

    def run(item: T, box: dict[str, object]) -> None:
        try:
            box["value"] = work(item)
        except BaseException as exc:  # handed to the caller, never printed by the thread
            box["error"] = exc
        finally:
            with counting:
                left[0] -= 1
                if not left[0]:
                    all_done.release()

    for item, box in zip(items, boxes, strict=True):
        _thread.start_new_thread(started, (item, box))
    all_done.acquire(timeout=max(deadline.remaining(), 0.0))
    results: list[tuple[bool, R | BaseException | None]] = []
    for box in boxes:
        if "error" in box:
            results.append((True, box["error"]))  # type: ignore[arg-type]
        elif "value" in box:
            results.append((True, box["value"]))  # type: ignore[arg-type]
        else:
            results.append((False, None))
    return results


NO_ANSWER = "no answer within the deadline"


def unanswered_why(finished: bool, outcome: object) -> str:
    """Why an item of :func:`fan_out` has no value: still running at the deadline, or the
    exception it raised (a bug: said on the node, never on stderr)."""
    return f"internal error: {outcome.__class__.__name__}" if finished else NO_ANSWER


class Unfinished(Exception):
    """A blocking call did not return before the deadline."""


def call_before(deadline: Deadline, func: Callable[[], T]) -> T:
    """Run a call that cannot be given a timeout of its own (``getaddrinfo``) in a daemon thread,
    and give up waiting for it at the deadline."""
    [(finished, outcome)] = fan_out([None], lambda _: func(), deadline)
    if not finished:
        raise Unfinished()
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome  # type: ignore[return-value]


# -- text off the wire -----------------------------------------------------------------------


def wire_text(
    data: bytes | str, limit: int = 120, unprintable: str = "?", hide: bool = True
) -> str:
    """Text a server sent (a reason phrase, a header, a banner), fit to keep: printable ASCII,
    one line, at most ``limit`` characters, and (``hide``) without the password in any encoding
    should the server echo it."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    kept = printable(text, limit, unprintable)
    return conceal(kept) if hide else kept


# -- DNS through dnspython ---------------------------------------------------------------------


def dns_resolver(server: tuple[str, int] | None, deadline: Deadline) -> Any:
    """A dnspython resolver for ``server`` (else the system's configuration), every query and
    the whole lookup bounded by what is left of the deadline."""
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=server is None)
    if server is not None:
        resolver.nameservers = [server[0]]
        resolver.port = server[1]
    resolver.retry_servfail = False
    remaining = max(deadline.remaining(), 0.001)
    resolver.timeout = resolver.lifetime = remaining
    return resolver
