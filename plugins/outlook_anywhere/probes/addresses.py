"""Target addresses: ``-I`` as given, else every A and AAAA address of the host.

The system resolver (``getaddrinfo``) is the default.  ``--dns-server`` asks one server through
dnspython, imported only on that path (``dns.resolver`` costs about 90 ms to import).
Failures are facts (``Resolution.failure``, a kind), never exceptions.  :func:`host_name_problem`
says whether a name can go out as a host name at all (``-H``, a Server Autodiscover publishes).
"""

from __future__ import annotations

import socket

from ..facts import Resolution
from ..transport import (
    TRACE,
    Deadline,
    Unfinished,
    ascii_name,
    call_before,
    dns_resolver,
    labels_fit,
)

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
    return Resolution(host, _dedupe(kept), "-I", "" if kept else "excluded")


def resolve(
    host: str, deadline: Deadline, ipv4: bool, ipv6: bool, dns_server: tuple[str, int] | None
) -> Resolution:
    found = _resolve(host, deadline, ipv4, ipv6, dns_server)
    TRACE(host, f"{found.source}: {', '.join(found.addresses) or found.failure}")
    return found


def _resolve(
    host: str, deadline: Deadline, ipv4: bool, ipv6: bool, dns_server: tuple[str, int] | None
) -> Resolution:
    families = _wanted_families(ipv4, ipv6)
    literal = canonical(host)
    if literal is not None:
        ok = version(literal) in families
        return Resolution(host, (literal,) if ok else (), "literal", "" if ok else "excluded")
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
            lambda: socket.getaddrinfo(ascii_name(host), None, family, socket.SOCK_STREAM),
        )
    except Unfinished:
        return Resolution(host, (), source, "timeout")
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            return Resolution(host, (), source, _missing_family(host, deadline, families))
        if exc.errno == socket.EAI_AGAIN:
            return Resolution(host, (), source, "servfail")
        return Resolution(host, (), source, "failed", str(exc.strerror))
    except (OSError, UnicodeError) as exc:
        return Resolution(host, (), source, "failed", str(exc))
    addresses = [str(info[4][0]).split("%", 1)[0] for info in infos]
    kept = _sorted(_dedupe([a for a in addresses if version(a) in families]))
    if kept:
        return Resolution(host, kept, source)
    return Resolution(host, (), source, "no-aaaa" if families == (6,) else "no-a")


def _missing_family(host: str, deadline: Deadline, families: tuple[int, ...]) -> str:
    """The C library says "no name" for a name without an address of the family asked for as
    for a name that does not exist: with one family asked for, ask once more for any family."""
    if len(families) == 2:
        return "nxdomain"
    try:
        call_before(
            deadline, lambda: socket.getaddrinfo(ascii_name(host), None, 0, socket.SOCK_STREAM)
        )
    except (Unfinished, OSError, UnicodeError):
        return "nxdomain"
    return "no-aaaa" if families == (6,) else "no-a"


def _dnspython(
    host: str, deadline: Deadline, families: tuple[int, ...], server: tuple[str, int]
) -> Resolution:
    import dns.exception
    import dns.rcode
    import dns.resolver

    ip, port = server
    shown = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    source = f"DNS server {shown}"
    resolver = dns_resolver(server, deadline)
    found: list[str] = []
    errors: list[tuple[str, str]] = []  # (failure, detail)
    for version in families:
        rdtype = "A" if version == 4 else "AAAA"
        remaining = deadline.remaining()
        if remaining <= 0:
            errors.append(("timeout", rdtype))
            break
        resolver.timeout = remaining
        resolver.lifetime = remaining
        try:
            answer = resolver.resolve(host, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return Resolution(host, (), source, "nxdomain")
        except dns.resolver.LifetimeTimeout:
            errors.append(("timeout", rdtype))
            break
        except dns.resolver.NoNameservers as exc:
            # errors: (server, tcp, port, error text such as "SERVFAIL", answer) per attempt
            answers = {str(e[3]) for e in exc.kwargs.get("errors") or [] if len(e) > 3}
            errors.append(("servfail", f"{rdtype}: {'/'.join(sorted(answers)) or 'no answer'}"))
            continue
        except dns.exception.DNSException as exc:
            errors.append(("failed", f"{rdtype}: {exc.__class__.__name__}"))
            continue
        found.extend(rr.address for rr in answer)
    kept = _sorted(_dedupe(found))
    if kept:
        return Resolution(host, kept, source)
    if errors:
        return Resolution(host, (), source, errors[0][0], errors[0][1])
    if families == (4, 6):
        return Resolution(host, (), source, "no-address")
    return Resolution(host, (), source, "no-aaaa" if families == (6,) else "no-a")


def host_name_problem(name: str) -> str | None:
    """Why ``name`` cannot go out as a host name (DNS, SNI and Host carry its IDNA form): "not a
    host name", "a port", "empty or over-long label" or "no IDNA form"; None when it can."""
    if not name or len(name) > 253 or any(ch in name for ch in " /\\@?#[]"):
        return "not a host name"
    if ":" in name:
        return "a port"
    if not labels_fit(name):
        return "empty or over-long label"
    if not name.isascii():
        try:
            name.encode("idna")
        except UnicodeError:
            return "no IDNA form"
    return None
