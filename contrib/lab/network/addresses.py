"""The lab's addresses: loopback only, and ports shared by many addresses.

Every server of the lab listens on addresses of 127.0.0.0/8 (and ::1): :func:`check_loopback`
refuses any other.  A group of servers shares one port on many addresses
(:func:`bind_shared_port`), so that a name's nodes differ only in their address, as the nodes of
a load-balanced array do.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Iterable


def check_loopback(address: str) -> str:
    """Return ``address`` normalised; refuse anything that is not a loopback address."""
    ip = ipaddress.ip_address(address)
    if not ip.is_loopback:
        raise ValueError(f"the lab only uses loopback addresses, not {address}")
    return str(ip)


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def bind_tcp(address: str, port: int) -> socket.socket:
    """A TCP socket bound to ``address``:``port`` (IPv6 only for an IPv6 address), not listening."""
    sock = socket.socket(_family(address), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if sock.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def address_usable(address: str) -> bool:
    """False when the host cannot bind ``address`` at all (e.g. ::1 with IPv6 disabled)."""
    try:
        bind_tcp(address, 0).close()
    except OSError as exc:
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
            return False
        raise
    return True


def bind_shared_port(
    listen: Iterable[str], probe: Iterable[str] = (), port: int = 0, attempts: int = 50
) -> tuple[int, dict[str, socket.socket]]:
    """Bind every address of ``listen`` to one port free on all of them.

    With ``port`` 0 the first address picks a free port and the others follow; on a conflict
    everything is closed and another port is tried.  The ``probe`` addresses (nodes that must
    refuse) are bound and released to make sure nothing else listens there on that port.
    """
    listen = list(dict.fromkeys(listen))
    probe = [a for a in dict.fromkeys(probe) if a not in listen]
    last: OSError | None = None
    for _ in range(attempts if port == 0 else 1):
        socks: dict[str, socket.socket] = {}
        chosen = port
        try:
            for address in listen + probe:
                sock = bind_tcp(address, chosen)
                socks[address] = sock
                if chosen == 0:
                    chosen = sock.getsockname()[1]
        except OSError as exc:
            for sock in socks.values():
                sock.close()
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            last = exc
            continue
        for address in probe:
            socks.pop(address).close()
        return chosen, socks
    raise OSError(errno.EADDRINUSE, f"no port free on all lab addresses: {last}")


def free_port(address: str) -> int:
    """A port free for both UDP and TCP on ``address`` (nothing listens there afterwards)."""
    family = _family(address)
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as tcp:
            tcp.bind((address, 0))
            port = tcp.getsockname()[1]
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((address, port))
                except OSError as exc:
                    if exc.errno != errno.EADDRINUSE:
                        raise
                    continue
        return int(port)
    raise OSError(errno.EADDRINUSE, f"no port free for both UDP and TCP on {address}")
