"""Target addresses: ``-I`` as given, else every A and AAAA address of the host.

The system resolver (``getaddrinfo``) is the default.  ``--dns-server`` asks one server through
dnspython, imported only on that path (``dns.resolver`` costs about 90 ms to import).
Failures are facts (``Resolution.error``), never exceptions.
"""

from __future__ import annotations

import socket

from .deadline import Deadline, Unfinished, call_before

# IP address text through the C library's inet_pton/inet_ntop: the ipaddress module would do, but
# importing it costs as many instructions as a TLS handshake, and three things are needed here.


def packed(text: str) -> bytes | None:
    """The address in network byte order (4 or 16 bytes), or None when it is not one."""
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    try:
        return socket.inet_pton(family, text)
    except (OSError, ValueError):  # ValueError: an embedded NUL
        return None


def canonical(text: str) -> str | None:
    """``2001:DB8:0::1`` -> ``2001:db8::1``; None when ``text`` is not an IPv4 or IPv6 address."""
    raw = packed(text)
    if raw is None:
        return None
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def version(address: str) -> int:
    """4 or 6, for an address already known to be one."""
    return 6 if ":" in address else 4


class Resolution:
    """Where the addresses came from (a plain class: see ``tlsprobe.NodeFacts``)."""

    __slots__ = ("addresses", "error", "host", "source")

    def __init__(self, host: str, addresses: tuple[str, ...], source: str, error: str = "") -> None:
        self.host = host
        self.addresses = addresses
        self.source = source  # "-I", "system resolver", "DNS server 127.0.0.53:53"
        self.error = error  # why there are no addresses

    def __repr__(self) -> str:
        return f"Resolution({self.host!r}, {self.addresses!r}, {self.source!r}, {self.error!r})"


def _dedupe(addresses: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for addr in addresses:
        seen.setdefault(canonical(addr) or addr, None)
    return tuple(seen)


def _sorted(addresses: tuple[str, ...]) -> tuple[str, ...]:
    """DNS rotates its answers; a stable order keeps the long output and "the first node"
    stable from one check to the next (IPv4 first, then numerically)."""
    return tuple(sorted(addresses, key=lambda a: (":" in a, packed(a) or b"")))


def _wanted_families(ipv4: bool, ipv6: bool) -> tuple[int, ...]:
    if ipv4 and not ipv6:
        return (4,)
    if ipv6 and not ipv4:
        return (6,)
    return (4, 6)


def given(host: str, addresses: list[str], ipv4: bool, ipv6: bool) -> Resolution:
    families = _wanted_families(ipv4, ipv6)
    kept = [a for a in addresses if version(a) in families]
    error = "" if kept else "no address of the requested family among -I"
    return Resolution(host, _dedupe(kept), "-I", error)


def resolve(
    host: str, deadline: Deadline, ipv4: bool, ipv6: bool, dns_server: tuple[str, int] | None
) -> Resolution:
    families = _wanted_families(ipv4, ipv6)
    literal = canonical(host)
    if literal is not None:
        ok = version(literal) in families
        return Resolution(
            host, (literal,) if ok else (), "literal", "" if ok else "address family excluded"
        )
    if dns_server is None:
        return _system(host, deadline, families)
    return _dnspython(host, deadline, families, dns_server)


def _system(host: str, deadline: Deadline, families: tuple[int, ...]) -> Resolution:
    source = "system resolver"
    family = socket.AF_UNSPEC
    if families == (4,):
        family = socket.AF_INET
    elif families == (6,):
        family = socket.AF_INET6
    try:
        infos = call_before(
            deadline,
            lambda: socket.getaddrinfo(host, None, family, socket.SOCK_STREAM),
        )
    except Unfinished:
        return Resolution(host, (), source, "DNS lookup timed out")
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            reason = "DNS name not found"
        elif exc.errno == socket.EAI_AGAIN:
            reason = "DNS lookup failed temporarily (server failure or timeout)"
        else:
            reason = f"DNS lookup failed: {exc.strerror}"
        return Resolution(host, (), source, reason)
    except (OSError, UnicodeError) as exc:
        return Resolution(host, (), source, f"DNS lookup failed: {exc}")
    addresses = [str(info[4][0]).split("%", 1)[0] for info in infos]
    kept = _sorted(_dedupe([a for a in addresses if version(a) in families]))
    return Resolution(host, kept, source, "" if kept else "DNS name has no address")


def _dnspython(
    host: str, deadline: Deadline, families: tuple[int, ...], server: tuple[str, int]
) -> Resolution:
    import dns.exception
    import dns.rcode
    import dns.resolver

    ip, port = server
    shown = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    source = f"DNS server {shown}"
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [ip]
    resolver.port = port
    resolver.retry_servfail = False
    found: list[str] = []
    errors: list[str] = []
    for version in families:
        rdtype = "A" if version == 4 else "AAAA"
        remaining = deadline.remaining()
        if remaining <= 0:
            errors.append(f"{rdtype} query not sent: deadline reached")
            break
        resolver.timeout = remaining
        resolver.lifetime = remaining
        try:
            answer = resolver.resolve(host, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return Resolution(host, (), source, "DNS name not found (NXDOMAIN)")
        except dns.resolver.LifetimeTimeout:
            errors.append(f"DNS {rdtype} query timed out")
            break
        except dns.resolver.NoNameservers as exc:
            # errors: (server, tcp, port, error text such as "SERVFAIL", answer) per attempt
            answers = {str(e[3]) for e in exc.kwargs.get("errors") or [] if len(e) > 3}
            errors.append(f"DNS {rdtype} query failed: {'/'.join(sorted(answers)) or 'no answer'}")
            continue
        except dns.exception.DNSException as exc:
            errors.append(f"DNS {rdtype} query failed: {exc.__class__.__name__}")
            continue
        found.extend(rr.address for rr in answer)
    kept = _sorted(_dedupe(found))
    if kept:
        return Resolution(host, kept, source)
    return Resolution(host, (), source, "; ".join(errors) or "DNS name has no address")
