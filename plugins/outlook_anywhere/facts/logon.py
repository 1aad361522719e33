"""The facts of MAPI over HTTP (``--mapi``) and of logging on to every node (``--logon``): plain
data with machine-readable kinds, what the judgement reads.  No sentence here (``check.words``).
"""

from __future__ import annotations

from .http import _Plain

# Outcomes of one authentication (Authentication.outcome, .retry_outcome)
ACCEPTED = "accepted"  # the server answered anything but 401 to the final leg
REFUSED = "refused"  # 401 to the final leg: the server refused the account (or the binding)
FAILED = "failed"  # no verdict from the server: timeout, connection closed, TLS, bad challenge
NOT_TRIED = ""

# Outcomes of one RPC endpoint (Endpoint.outcome)
REACHED = "reached"  # CONN/C2 received on the OUT channel
RPC_ERROR = "rpc-error"  # 503 RPC Error: <hex> (Endpoint.code)
RTS_FAULT = "fault"  # a fault PDU on the OUT channel (Endpoint.code: its status in hex)
NO_C2 = "no-c2"  # no CONN/C2 before the deadline (Endpoint.pdus: what came instead)
GARBAGE = "garbage"  # the OUT channel is not RTS (Endpoint.detail: the reader's failure kind)
HTTP_STATUS = "http"  # another HTTP status (Endpoint.status, .reason)
CHANNEL_REFUSED = "refused"  # the channel's logon was refused
CHANNEL_FAILED = "failed"  # no answer: timeout, reset, TLS (Endpoint.detail)

# The RPC endpoints a client connects to through the proxy, in the order Outlook does
ENDPOINT_PORTS = (6001, 6002, 6004)


class Authentication(_Plain):
    """One node's logon for one protocol: how it went with the binding, and without it."""

    __slots__ = (
        "binding_sent",
        "detail",
        "elapsed",
        "krb_code",
        "mode",
        "offered",
        "outcome",
        "retry_outcome",
        "scheme",
        "spn",
        "unbound_outcome",
    )

    def __init__(
        self,
        scheme: str = "",  # NTLM, Negotiate, Basic, Kerberos; "" when none could be used
        offered: list[str] | None = None,  # the schemes of the server's 401
        binding_sent: bool = False,  # the first attempt carried a channel binding
        outcome: str = NOT_TRIED,
        retry_outcome: str = NOT_TRIED,  # the one retry without binding, after a refusal with
        detail: str = "",  # why FAILED, or why not tried (no-scheme, ntlm-missing, untrusted...)
        elapsed: float | None = None,  # the accepted authentication, first leg to answer
    ) -> None:
        self.scheme = scheme
        self.offered: list[str] = offered if offered is not None else []
        self.binding_sent = binding_sent
        self.outcome = outcome
        self.retry_outcome = retry_outcome
        self.detail = detail
        self.elapsed = elapsed
        # --extended-protection require: a logon without binding after one with it was
        # accepted (accepted: Extended Protection is not enforced)
        self.unbound_outcome = NOT_TRIED
        self.mode = "negotiate"  # --auth
        self.krb_code: int | None = None  # the KRB-ERROR code of a node's Kerberos refusal
        self.spn = ""  # HTTP/<host>: the service a Kerberos ticket was asked for

    @property
    def accepted(self) -> bool:
        return ACCEPTED in (self.outcome, self.retry_outcome)

    @property
    def with_binding(self) -> bool:
        """The logon that was accepted carried the binding."""
        return self.binding_sent and self.outcome == ACCEPTED


class Endpoint(_Plain):
    """One virtual connection through the RPC proxy to ``<server>:<port>``."""

    __slots__ = ("code", "detail", "elapsed", "outcome", "pdus", "port", "reason", "status")

    def __init__(
        self,
        port: int,
        outcome: str = "",
        status: int | None = None,
        reason: str = "",
        code: str = "",  # the hex of "RPC Error: 6ba", or of a fault's status
        pdus: tuple[str, ...] = (),  # names of the PDUs read on the OUT channel, in order
        detail: str = "",
        elapsed: float | None = None,  # CONN/A1 sent to CONN/C2 read
    ) -> None:
        self.port = port
        self.outcome = outcome
        self.status = status
        self.reason = reason
        self.code = code
        self.pdus = pdus
        self.detail = detail
        self.elapsed = elapsed


# The steps of a logon (RpcLogon.step, MapiLogon.step): what it was doing when the deadline came
STEP_ECHO = "echo"  # the logon and the echo: one request
STEP_CHANNELS = "virtual connections"
STEP_CONNECT = "Connect"  # the MAPI logon and Connect: one request
STEP_PING = "PING"
STEP_DISCONNECT = "Disconnect"


class RpcLogon(_Plain):
    """RPC over HTTP on one node: the authenticated echo, then the three endpoints."""

    __slots__ = (
        "address",
        "auth",
        "cut_off",
        "echo",
        "echo_detail",
        "endpoints",
        "reason",
        "status",
        "step",
    )

    def __init__(self, address: str, auth: Authentication | None = None) -> None:
        self.address = address
        self.auth = auth if auth is not None else Authentication()
        self.step = ""  # the step under way ("" before the first and once the last ended)
        self.cut_off = ""  # the step the deadline ended ("" when it did not)
        # ok (an RTS echo), garbage (200 with a body that is not one: ``echo_detail`` the
        # reader's kind), status (another HTTP status), failed (no answer), "" (not tried)
        self.echo = ""
        self.echo_detail = ""
        self.status: int | None = None  # of the echo
        self.reason = ""
        self.endpoints: list[Endpoint] = []


class MapiProbe(_Plain):
    """MAPI over HTTP on one node, without credentials."""

    __slots__ = (
        "address",
        "elapsed",
        "error",
        "health",
        "health_reason",
        "reason",
        "schemes",
        "status",
    )

    def __init__(self, address: str) -> None:
        self.address = address
        self.health: int | None = None  # the status of /mapi/healthcheck.htm
        self.health_reason = ""
        self.status: int | None = None  # of /mapi/emsmdb/ without credentials
        self.reason = ""
        self.schemes: list[str] = []
        self.error = ""  # no answer: timeout, refused, TLS...
        self.elapsed: float | None = None


class MapiLogon(_Plain):
    """The mailbox logon over MAPI/HTTP on one node ([MS-OXCMAPIHTTP]): Connect, a PING in the
    session it opened, Disconnect."""

    __slots__ = (
        "address",
        "auth",
        "connect_elapsed",
        "cut_off",
        "disconnected",
        "elapsed",
        "error",
        "error_code",
        "reason",
        "request",
        "response_code",
        "session",
        "status",
        "status_code",
        "step",
    )

    def __init__(self, address: str, auth: Authentication | None = None) -> None:
        self.address = address
        self.auth = auth if auth is not None else Authentication()
        self.step = ""  # the step under way (STEP_CONNECT, STEP_PING, STEP_DISCONNECT)
        self.cut_off = ""  # the step the deadline ended ("" when it did not)
        # the last request answered and its answer: Connect, or PING once Connect succeeded
        self.request = ""
        self.status: int | None = None
        self.reason = ""
        self.response_code = ""  # X-ResponseCode as sent, the final one ("" when absent)
        self.status_code: int | None = None  # Connect's StatusCode, ErrorCode
        self.error_code: int | None = None
        self.session = False  # Connect opened a session (cookies set)
        self.disconnected = False  # ... and Disconnect was answered
        # the accepted logon's first leg to Connect's answer (the logon included)
        self.connect_elapsed: float | None = None
        self.error = ""  # no answer (the HttpError kind)
        self.elapsed: float | None = None  # the PING

    @property
    def logged_on(self) -> bool:
        """Connect succeeded: HTTP 200, X-ResponseCode 0, StatusCode and ErrorCode 0."""
        return self.status_code == 0 and self.error_code == 0


class LogonFacts(_Plain):
    """Everything ``--logon`` learned, node by node."""

    __slots__ = (
        "legacy_dn",
        "mailbox",
        "mapi",
        "mapi_skipped",
        "rpc",
        "rpc_skipped",
        "server",
        "skipped",
    )

    def __init__(
        self,
        server: str = "",
        mailbox: str = "",
        skipped: str = "",
        legacy_dn: str = "",
    ) -> None:
        self.server = server  # the EXCH Server Autodiscover published: <server> of the RPC URLs
        self.mailbox = mailbox  # the MailboxId of MAPI over HTTP
        self.legacy_dn = legacy_dn  # Autodiscover's User/LegacyDN: the UserDn of Connect
        # why no node was logged on to: autodiscover (it did not accept the credentials),
        # no-node; "" when it was tried
        self.skipped = skipped
        # why one protocol was not tried although asked for, the other one was: RPC needs
        # EXCH's Server (no-server); MAPI a MailboxId usable in a URL (no-mailbox) and an
        # ASCII User/LegacyDN for Connect (no-legacy-dn)
        self.rpc_skipped = ""
        self.mapi_skipped = ""
        self.rpc: list[RpcLogon] | None = None
        self.mapi: list[MapiLogon] | None = None
