"""The facts of the HTTP checks (Autodiscover, the RPC proxy): plain data, what the judgement
reads.  Imported only when one of those checks is asked for (``dataclasses`` costs start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Attempt:
    url: str
    outcome: str


@dataclass
class AutodiscoverFacts:
    email: str
    final_email: str = ""
    url: str = ""  # the endpoint that answered with settings or an error document
    attempts: list[Attempt] = field(default_factory=list)
    hops: list[str] = field(default_factory=list)
    document: Document | None = None
    # "" (a document was read) | unreachable | unauthorized | unusable | error-response |
    # redirects | loop | refused | ntlm-missing | timeout
    error_kind: str = ""
    error: str = ""
    elapsed: float = 0.0
    # URLs and addresses a server named (redirects): shown with the password hidden
    from_servers: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Provider:
    """One ``Protocol`` block (EXPR, EXHTTP, EXCH, WEB...)."""

    type: str
    server: str = ""
    ssl: str = ""
    auth_package: str = ""
    cert_principal_name: str | None = None  # None: the element is absent


@dataclass(frozen=True)
class Document:
    action: str = ""  # settings | redirectUrl | redirectAddr ("" when absent)
    redirect_url: str = ""
    redirect_addr: str = ""
    error_code: str = ""
    error_message: str = ""
    providers: tuple[Provider, ...] = field(default_factory=tuple)

    def provider(self, kind: str) -> Provider | None:
        return next((p for p in self.providers if p.type.upper() == kind), None)


@dataclass
class RpcFacts:
    address: str
    status: int | None = None
    reason: str = ""
    schemes: list[str] = field(default_factory=list)
    location: str = ""
    rpc_error: str = ""  # the hex code of "RPC Error: 6ba"
    error: str = ""  # no answer: timeout, refused, TLS...
    elapsed: float | None = None
    fe_server: str = ""  # X-FEServer
    server_name: str = ""  # what /rpc/healthcheck.htm names
