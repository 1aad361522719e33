"""The lab's DNS server: UDP and TCP on a loopback address, built on dnspython's message API.

It is authoritative for whatever it is given: names with records answer them (following CNAME
chains inside the zone), a known name without the asked type answers NOERROR with no data, an
unknown name answers NXDOMAIN.  Names can also be set to fail: ``servfail`` answers SERVFAIL,
``timeout`` never answers.  Answers too big for UDP (512 bytes, or the EDNS payload size) are
sent truncated (TC), so a client must retry over TCP, as with a real server.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import socket
import struct
import threading
from collections.abc import Iterable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from .addresses import check_loopback

DEFAULT_ADDRESS = "127.0.0.53"
FAILURES = ("servfail", "timeout")
_MAX_CNAME_HOPS = 8


def _name(name: str | dns.name.Name) -> dns.name.Name:
    if isinstance(name, dns.name.Name):
        return name
    return dns.name.from_text(name)


class LabDNS:
    """A small authoritative DNS server for the lab zone."""

    def __init__(self, address: str = DEFAULT_ADDRESS, port: int = 0, ttl: int = 60) -> None:
        self.address = check_loopback(address)
        self.port = port
        self.ttl = ttl
        self._records: dict[tuple[dns.name.Name, dns.rdatatype.RdataType], dns.rrset.RRset] = {}
        self._failures: dict[dns.name.Name, str] = {}
        self._lock = threading.Lock()
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._wake_r, self._wake_w = -1, -1
        self._running = False
        self.queries = 0
        """Number of queries received (UDP and TCP), for tests that want to see traffic."""

    @property
    def server(self) -> str:
        """``address:port`` as the plugin's ``--dns-server`` takes it."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    # -- zone data ----------------------------------------------------------------------------

    def set_records(
        self,
        name: str | dns.name.Name,
        rdtype: str | int,
        values: Iterable[str],
        ttl: int | None = None,
    ) -> None:
        """Replace the ``rdtype`` records of ``name`` by ``values`` (rdata text; empty: remove).

        E.g. ``set_records("healthy.contoso.test", "A", ["127.0.10.1"])`` or
        ``set_records("_autodiscover._tcp.contoso.test", "SRV", ["0 0 443 mail.contoso.test."])``.
        """
        key_name = _name(name)
        key_type = dns.rdatatype.RdataType.make(rdtype)
        values = list(values)
        with self._lock:
            if not values:
                self._records.pop((key_name, key_type), None)
                return
            rrset = dns.rrset.from_text_list(
                key_name, self.ttl if ttl is None else ttl, dns.rdataclass.IN, key_type, values
            )
            self._records[(key_name, key_type)] = rrset

    def records(self, name: str | dns.name.Name, rdtype: str | int) -> list[str]:
        """The rdata text of ``name``'s ``rdtype`` records (empty if none)."""
        key_type = dns.rdatatype.RdataType.make(rdtype)
        with self._lock:
            rrset = self._records.get((_name(name), key_type))
            return [rd.to_text() for rd in rrset] if rrset is not None else []

    def set_failure(self, name: str | dns.name.Name, mode: str | None) -> None:
        """Make ``name`` answer SERVFAIL (``servfail``), never answer (``timeout``), or neither."""
        if mode is not None and mode not in FAILURES:
            raise ValueError(f"unknown failure {mode!r}; one of {FAILURES}")
        with self._lock:
            if mode is None:
                self._failures.pop(_name(name), None)
            else:
                self._failures[_name(name)] = mode

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._failures.clear()

    # -- answering ----------------------------------------------------------------------------

    def answer(self, wire: bytes, udp: bool = False) -> bytes | None:
        """The response to the query ``wire`` (None: send nothing)."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # garbage on the wire: ignore it, like most servers
            return None
        self.queries += 1
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if query.opcode() != 0 or len(query.question) != 1:
            response.set_rcode(dns.rcode.NOTIMP if query.opcode() != 0 else dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        with self._lock:
            failure = self._failures.get(qname)
            if failure == "timeout":
                return None
            if failure == "servfail":
                response.set_rcode(dns.rcode.SERVFAIL)
                return response.to_wire()
            known = {n for n, _ in self._records}
            name = qname
            for _ in range(_MAX_CNAME_HOPS):
                rrset = self._records.get((name, qtype))
                if rrset is not None:
                    response.answer.append(rrset)
                    break
                cname = self._records.get((name, dns.rdatatype.CNAME))
                if cname is not None and qtype != dns.rdatatype.CNAME:
                    response.answer.append(cname)
                    name = cname[0].target
                    continue
                if name not in known:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                break
        max_size = 65535
        if udp:
            max_size = min(65535, max(512, query.payload)) if query.edns >= 0 else 512
        try:
            return response.to_wire(max_size=max_size)
        except dns.exception.TooBig:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.AA | dns.flags.TC
            return truncated.to_wire()

    # -- serving ------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind UDP and TCP on the same port (0: a free one, see :attr:`port`) and serve."""
        if self._running:
            return
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        last: OSError | None = None
        for _ in range(50 if self.port == 0 else 1):
            tcp = socket.socket(family, socket.SOCK_STREAM)
            udp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((self.address, self.port))
                udp.bind((self.address, tcp.getsockname()[1]))
            except OSError as exc:
                tcp.close()
                udp.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
                last = exc
                continue
            break
        else:
            raise OSError(errno.EADDRINUSE, f"no free DNS port on {self.address}: {last}")
        tcp.listen(64)
        self.port = tcp.getsockname()[1]
        self._tcp, self._udp = tcp, udp
        self._wake_r, self._wake_w = os.pipe()
        self._running = True
        self._threads = [
            threading.Thread(target=self._udp_loop, name="lab-dns-udp", daemon=True),
            threading.Thread(target=self._tcp_loop, name="lab-dns-tcp", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        os.write(self._wake_w, b"x")
        for t in self._threads:
            t.join(2.0)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._udp = self._tcp = None

    def _wait(self, sock: socket.socket) -> selectors.BaseSelector:
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        return sel

    def _udp_loop(self) -> None:
        sock = self._udp
        assert sock is not None
        with self._wait(sock) as sel:
            while self._running:
                events = sel.select()
                if not self._running or any(k.fd == self._wake_r for k, _ in events):
                    return
                try:
                    wire, peer = sock.recvfrom(65535)
                except OSError:
                    continue
                reply = self.answer(wire, udp=True)
                if reply is not None:
                    with contextlib.suppress(OSError):
                        sock.sendto(reply, peer)

    def _tcp_loop(self) -> None:
        sock = self._tcp
        assert sock is not None
        with self._wait(sock) as sel:
            while self._running:
                events = sel.select()
                if not self._running or any(k.fd == self._wake_r for k, _ in events):
                    return
                try:
                    conn, _peer = sock.accept()
                except OSError:
                    continue
                with self._lock:
                    self._conns.add(conn)
                threading.Thread(
                    target=self._tcp_conn, args=(conn,), name="lab-dns-conn", daemon=True
                ).start()

    def _tcp_conn(self, conn: socket.socket) -> None:
        conn.settimeout(10.0)
        try:
            while self._running:
                header = _recv_exact(conn, 2)
                if not header:
                    return
                wire = _recv_exact(conn, struct.unpack("!H", header)[0])
                if not wire:
                    return
                reply = self.answer(wire)
                if reply is not None:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return b""
        buf += chunk
    return buf
