"""The facts of the HTTP checks (Autodiscover, the RPC proxy): plain data, what the judgement
reads.  Plain classes, as on the default path: importing ``dataclasses`` (and ``inspect`` with
it) would cost a poller more instructions than a whole handshake."""

from __future__ import annotations


class _Plain:
    """``repr`` and equality from the instance's fields, for tests and debugging."""

    __slots__: tuple[str, ...] = ()

    def _fields(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._fields()!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Plain)
            and type(other) is type(self)
            and (self._fields() == other._fields())
        )

    __hash__ = None  # type: ignore[assignment]


class Attempt(_Plain):
    __slots__ = ("outcome", "url")

    def __init__(self, url: str, outcome: str) -> None:
        self.url = url
        self.outcome = outcome


class AutodiscoverFacts(_Plain):
    __slots__ = (
        "attempts",
        "document",
        "elapsed",
        "email",
        "error",
        "error_kind",
        "final_email",
        "from_servers",
        "hops",
        "url",
    )

    def __init__(
        self,
        email: str,
        final_email: str = "",
        url: str = "",
        document: Document | None = None,
        error_kind: str = "",
        error: str = "",
        elapsed: float = 0.0,
    ) -> None:
        self.email = email
        self.final_email = final_email
        self.url = url  # the endpoint that answered with settings or an error document
        self.attempts: list[Attempt] = []
        self.hops: list[str] = []
        self.document = document
        # "" (a document was read) | unreachable | unauthorized | unusable | error-response |
        # redirects | loop | refused | ntlm-missing | timeout
        self.error_kind = error_kind
        self.error = error
        self.elapsed = elapsed
        # URLs and addresses a server named (redirects): shown with the password hidden
        self.from_servers: set[str] = set()


class Provider(_Plain):
    """One ``Protocol`` block (EXPR, EXHTTP, EXCH, WEB...)."""

    __slots__ = ("auth_package", "cert_principal_name", "server", "ssl", "type")

    def __init__(
        self,
        type: str,
        server: str = "",
        ssl: str = "",
        auth_package: str = "",
        cert_principal_name: str | None = None,  # None: the element is absent
    ) -> None:
        self.type = type
        self.server = server
        self.ssl = ssl
        self.auth_package = auth_package
        self.cert_principal_name = cert_principal_name


class Document(_Plain):
    __slots__ = (
        "action",
        "error_code",
        "error_message",
        "legacy_dn",
        "mapi_addressbook",
        "mapi_mailstore",
        "providers",
        "redirect_addr",
        "redirect_url",
    )

    def __init__(
        self,
        action: str = "",  # settings | redirectUrl | redirectAddr ("" when absent)
        redirect_url: str = "",
        redirect_addr: str = "",
        error_code: str = "",
        error_message: str = "",
        providers: tuple[Provider, ...] = (),
        mapi_mailstore: str = "",
        mapi_addressbook: str = "",
        legacy_dn: str = "",
    ) -> None:
        self.action = action
        self.redirect_url = redirect_url
        self.redirect_addr = redirect_addr
        self.error_code = error_code
        self.error_message = error_message
        self.providers = providers
        # the mapiHttp block's URLs (published only to a request with X-MapiHttpCapability: 1),
        # the external one where both are published
        self.mapi_mailstore = mapi_mailstore
        self.mapi_addressbook = mapi_addressbook
        self.legacy_dn = legacy_dn  # User/LegacyDN: the mailbox's DN, the UserDn of a Connect

    def provider(self, kind: str) -> Provider | None:
        return next((p for p in self.providers if p.type.upper() == kind), None)


class RpcFacts(_Plain):
    __slots__ = (
        "address",
        "elapsed",
        "error",
        "fe_server",
        "location",
        "reason",
        "rpc_error",
        "schemes",
        "server_name",
        "status",
    )

    def __init__(
        self,
        address: str,
        status: int | None = None,
        reason: str = "",
        schemes: list[str] | None = None,
        location: str = "",
        rpc_error: str = "",  # the hex code of "RPC Error: 6ba"
        error: str = "",  # no answer: timeout, refused, TLS...
        elapsed: float | None = None,
        fe_server: str = "",  # X-FEServer
        server_name: str = "",  # what /rpc/healthcheck.htm names
    ) -> None:
        self.address = address
        self.status = status
        self.reason = reason
        self.schemes: list[str] = schemes if schemes is not None else []
        self.location = location
        self.rpc_error = rpc_error
        self.error = error
        self.elapsed = elapsed
        self.fe_server = fe_server
        self.server_name = server_name
