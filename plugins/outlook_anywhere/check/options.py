"""Argument types and checks for the command line: every bad value becomes one clear sentence.

Each function converts one value or raises :class:`Invalid` with a message naming the problem;
the parser (check_outlook_anywhere.py) turns that into an UNKNOWN line naming the option.
"""

from __future__ import annotations

import math
import os

from nagiosplugin import Range

from ..judgement.policy import Threshold
from ..judgement.principal import has_control_chars, problem, strip_prefix
from ..probes import addresses


class Invalid(ValueError):
    """A value the option cannot take; its text is the sentence the admin reads."""


# The Autodiscover password's environment variable (check/credentials.py reads it).
PASSWORD_ENV = "OUTLOOK_ANYWHERE_PASSWORD"
# The proxy password's (--proxy-user).
PROXY_PASSWORD_ENV = "OUTLOOK_ANYWHERE_PROXY_PASSWORD"


def _nonempty(value: str) -> str:
    if not value.strip():
        raise Invalid("empty value (an unset Icinga or Nagios macro?)")
    if has_control_chars(value):
        raise Invalid("contains control characters")
    return value.strip()


def host(value: str) -> str:
    value = _nonempty(value)
    if addresses.packed(value.strip("[]")) is not None:
        raise Invalid(
            f"{value} is an IP address: the host name goes in -H (DNS, SNI, the principal),"
            " the addresses in -I"
        )
    # The name goes out as SNI in its IDNA form: refuse here what could not be encoded there
    # (an empty or over-long label, a byte that was not UTF-8).
    problem = addresses.host_name_problem(value)
    if problem == "not a host name":
        raise Invalid(f"{value!r} is not a host name")
    if problem == "a port":
        raise Invalid(f"{value!r} is not a host name (no port here: use -p)")
    if problem:
        raise Invalid(f"{value!r} is not a host name ({problem})")
    return value


def port(value: str) -> int:
    value = _nonempty(value)
    try:
        number = int(value)
    except ValueError:
        raise Invalid(f"{value!r} is not a port number") from None
    if not 1 <= number <= 65535:
        raise Invalid(f"{number} is outside 1-65535")
    return number


def address(value: str) -> str:
    value = _nonempty(value)
    canonical = addresses.canonical(value.strip("[]"))
    if canonical is None:
        raise Invalid(f"{value!r} is not an IPv4 or IPv6 address")
    return canonical


def dns_server(value: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT``, ``IPv6`` or ``[IPv6]:PORT``."""
    value = _nonempty(value)
    text, number = value, "53"
    if value.startswith("["):
        text, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise Invalid(f"{value!r} is not IP[:PORT]")
            number = rest[1:]
    elif value.count(":") == 1:
        text, number = value.split(":")
    ip = addresses.canonical(text)
    if ip is None:
        raise Invalid(f"{value!r} is not an IP address (IP[:PORT])")
    return ip, port(number)


def principal(value: str) -> str:
    """The principal's name, without the ``msstd:`` prefix: ``[msstd:]FQDN`` or
    ``[msstd:]*.FQDN``, never a URL, a port, a list, a distinguished name or an address."""
    name = strip_prefix(_nonempty(value))
    why = problem(name)
    if why:
        raise Invalid(f"{value!r} {why}: expected msstd:FQDN or msstd:*.FQDN")
    return name


def match_mode(value: str) -> str:
    value = _nonempty(value).lower()
    if value not in ("cn", "cn-or-san"):
        raise Invalid(f"{value!r} is not one of cn, cn-or-san")
    return value


def extended_protection(value: str) -> str:
    value = _nonempty(value).lower()
    if value not in ("off", "accept", "require"):
        raise Invalid(f"{value!r} is not one of off, accept, require")
    return value


def auth_mode(value: str) -> str:
    """--auth: negotiate (Kerberos where a credential is at hand, else NTLM), kerberos, ntlm,
    basic."""
    value = _nonempty(value).lower()
    if value not in ("negotiate", "kerberos", "ntlm", "basic"):
        raise Invalid(f"{value!r} is not one of negotiate, kerberos, ntlm, basic")
    return value


def threshold(value: str) -> Threshold:
    value = _nonempty(value)
    if not any(ch in value for ch in ":@~"):
        try:
            days = float(value)
        except ValueError:
            raise Invalid(f"{value!r} is not a number of days or a Nagios range") from None
        if not math.isfinite(days):
            raise Invalid(f"{value!r} is not a number of days")
        spec = f"{value}:"
    else:
        spec = value
    try:
        parsed = Range(spec)
    except (ValueError, TypeError):
        raise Invalid(f"{value!r} is not a Nagios range") from None
    return Threshold(spec, parsed, plain=spec != value, given=value)


def open_now(path: str) -> int:
    """A file descriptor for reading ``path``, never waiting: a FIFO with no writer would block
    ``open()`` before the deadline's alarm is armed (the alarm needs -t, parsed here)."""
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK)


def ca_file(value: str) -> str:
    value = _nonempty(value)
    try:
        with os.fdopen(open_now(value), "rb") as handle:
            head = handle.read(4 * 1024 * 1024) or b""
    except OSError as exc:
        raise Invalid(f"{value}: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise Invalid(f"{value}: holds no PEM certificate")
    return os.path.abspath(value)


def timeout(value: str) -> float:
    value = _nonempty(value)
    try:
        seconds = float(value)
    except ValueError:
        raise Invalid(f"{value!r} is not a number of seconds") from None
    if not (math.isfinite(seconds) and 0 < seconds <= 3600):
        raise Invalid(f"{value!r} is outside 0-3600 seconds")
    return seconds


def email(value: str) -> str:
    """A mailbox address for --autodiscover: one ``@``, a domain, no white space."""
    value = _nonempty(value)
    local, sep, domain = value.rpartition("@")
    if not sep or not local or any(ch.isspace() for ch in value) or len(value) > 320:
        raise Invalid(f"{value!r} is not an e-mail address")
    if "." not in domain.strip(".") or any(ch in domain for ch in "/\\:?#[]@"):
        raise Invalid(f"{value!r} has no usable domain")
    return value


def https_url(value: str) -> str:
    """--autodiscover-url: credentials are sent there, so https only, without user info."""
    from ..transport.url import split

    value = _nonempty(value)
    try:
        parts = split(value)
    except ValueError:
        raise Invalid(f"{value!r} is not a URL") from None
    if parts.scheme != "https" or not parts.host:
        raise Invalid("must be an https:// URL (credentials are never sent without TLS)")
    if parts.userinfo:
        raise Invalid("no user name or password in the URL: use --username and --password-file")
    if any(ch.isspace() for ch in value):
        raise Invalid("contains white space")
    return value


def username(value: str) -> str:
    value = _nonempty(value)
    if len(value) > 256:
        raise Invalid("longer than 256 characters")
    return value


def readable_file(value: str) -> str:
    """A file read later (the password file): it must exist and be readable now."""
    value = _nonempty(value)
    try:
        os.close(open_now(value))
    except OSError as exc:
        raise Invalid(f"{value}: {exc.strerror}") from None
    return os.path.abspath(value)


def schemes(value: str) -> tuple[str, ...]:
    """--expect-auth: comma-separated HTTP authentication scheme names."""
    value = _nonempty(value)
    names = tuple(s.strip() for s in value.split(",") if s.strip())
    if not names or not all(s.replace("-", "").isalnum() for s in names):
        raise Invalid(f"{value!r} is not a list of schemes such as Negotiate,NTLM")
    return names


def proxy(value: str) -> tuple[str, int]:
    """--proxy: ``http://HOST:PORT`` of an HTTP CONNECT proxy (HOST a name, an IPv4 address or
    ``[IPv6]``).  The port is required (proxies have no standard one); no path, no user
    information (--proxy-user and the password file say who), no https:// (the proxy is spoken
    to in plain HTTP; the tunnel carries the TLS)."""
    from urllib.parse import urlsplit

    value = _nonempty(value)
    form = "expected http://HOST:PORT"
    if "@" in value:  # never echoed: it may hold a password
        raise Invalid(
            "no user name or password in the URL: use --proxy-user and --proxy-password-file"
        )
    if any(ch.isspace() for ch in value):
        raise Invalid(f"{value!r} contains white space: {form}")
    try:
        parts = urlsplit(value)
        number = parts.port
    except ValueError:
        raise Invalid(f"{value!r} is not a URL: {form}") from None
    if parts.scheme.lower() == "https":
        raise Invalid(f"{value!r}: an https:// proxy is not supported, {form}")
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise Invalid(f"{value!r} is not a proxy URL: {form}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise Invalid(f"{value!r} has a path: {form}")
    if number is None or number == 0:
        raise Invalid(f"{value!r} has no port: {form}")
    host_name = parts.hostname
    if addresses.packed(host_name) is None:
        try:
            host_name = host(host_name)
        except Invalid:
            host_name = ""
        if not host_name or not all(ch.isalnum() or ch in "-._" for ch in host_name):
            raise Invalid(f"{value!r} has no usable host name: {form}")
    return host_name, number


def vdirs(value: str) -> tuple[str, ...]:
    """--health LIST: comma-separated virtual directories (any case), or ``all``."""
    from ..facts.frontdoors import ALL_VDIRS

    value = _nonempty(value)
    known = {name.lower(): name for name in ALL_VDIRS}
    names = [part.strip() for part in value.split(",") if part.strip()]
    if [name.lower() for name in names] == ["all"]:
        return ALL_VDIRS
    unknown = [name for name in names if name.lower() not in known]
    if unknown or not names:
        raise Invalid(f"{value!r}: not a list of {', '.join(ALL_VDIRS)} (or all), comma-separated")
    return tuple(dict.fromkeys(known[name.lower()] for name in names))


def build_number(value: str) -> str:
    """--min-build: an Exchange build ``X.Y.Z.W`` such as 15.2.1544.4."""
    from ..facts.frontdoors import parse_build

    value = _nonempty(value)
    if parse_build(value) is None:
        raise Invalid(f"{value!r} is not a build number such as 15.2.1544.4")
    return value
