"""The facts of ``--proxy``: every tunnel the check asked the HTTP CONNECT proxy for, and how it
went.  Plain data with kinds, recorded by ``transport.proxy``; the judgement reads it."""

from __future__ import annotations

# How a tunnel failed.  The proxy's own failures (nothing is known about the array):
UNREACHABLE = "proxy-unreachable"  # no TCP connection to the proxy, or no HTTP answer from it
AUTH = "proxy-auth"  # 407: no credentials given, none it accepts, or refused after authenticating
REFUSED = "proxy-refused"  # it refused CONNECT to that port (403, 405, any other refusal)
# The target's failures, as the proxy saw them (that node only):
GATEWAY = "proxy-gateway"  # 502, 503, 504: the proxy could not reach the target
TIMEOUT = "proxy-timeout"  # no answer to CONNECT within the deadline (the proxy still waits)

BLOCKING = (UNREACHABLE, AUTH, REFUSED)
KINDS = (*BLOCKING, GATEWAY, TIMEOUT)


class Tunnel:
    """One CONNECT: its target (``address:port``), the proxy's answer and the scheme used."""

    __slots__ = ("detail", "elapsed", "kind", "scheme", "status", "target")

    def __init__(
        self,
        target: str,
        status: str = "",
        kind: str = "",
        detail: str = "",
        scheme: str = "",
        elapsed: float | None = None,
    ) -> None:
        self.target = target
        self.status = status  # the proxy's status line, "200 Connection established"
        self.kind = kind  # "" when the tunnel was opened; else one of KINDS
        self.detail = detail  # the evidence: the system's error text, the schemes offered
        self.scheme = scheme  # Basic, NTLM, Negotiate; "" without authentication
        self.elapsed = elapsed

    def __repr__(self) -> str:
        return f"Tunnel({self.target!r}, {self.status!r}, {self.kind!r}, {self.detail!r})"


class ProxyFacts:
    """The proxy of this check and every tunnel asked of it, in the order the tunnels ended (they
    open concurrently: the judgement orders them by node, never by this list)."""

    __slots__ = ("proxy", "tunnels", "user")

    def __init__(self, proxy: str, user: str = "") -> None:
        self.proxy = proxy  # host:port, as given in --proxy
        self.user = user  # --proxy-user ("" without authentication)
        self.tunnels: list[Tunnel] = []

    def __repr__(self) -> str:
        return f"ProxyFacts({self.proxy!r}, {self.user!r}, {self.tunnels!r})"
