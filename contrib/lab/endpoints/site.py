"""What the lab's web sites share: a site's row (:class:`Site`: one host name and address, what
it serves and how), the record of a request as a site received it (:class:`Seen`), which the
tests assert on, and how a site authenticates a request (:data:`Authenticate`).  The web side
(:mod:`.web`), its logon (:mod:`.logon`) and the Exchange front ends (:mod:`.exchange`,
:mod:`.mapi`, :mod:`.rpc_proxy`) read them; none imports another for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..network.http11 import Request, Response

OFFLOAD_CERT = "web-offload"
"""The certificate a TLS-offloading device in front of a node would hold: nodes whose
Extended Protection is ``other-certificate`` bind their logons to it, never serve it."""


@dataclass(frozen=True)
class Site:
    """One host name: its address, what it serves, and how."""

    host: str
    address: str
    kind: str  # autodiscover | rpc | exchange | redirect-http | none
    auth: tuple[str, ...] = ("Basic",)  # accepted by an autodiscover or exchange site
    tls: str = "good"  # good | untrusted | wrong-name | refuse
    rpc: str = ""  # rpc behaviour: 401, 401-basic, 200, 404, 403, 302, 503, silent
    http_location: str = ""  # plain HTTP GET answer: 302 to this (with {port})
    label: str = ""  # the server name /rpc/healthcheck.htm reports
    # Extended Protection (require, accept, off, or other-certificate: the binding of another
    # certificate than the one served): exchange sites (contrib/lab/endpoints/exchange.py), and
    # an autodiscover site's NTLM; whether this node refuses the lab account.
    protection: str = "off"
    refuses: bool = False
    stalls: bool = False  # once logged on, answers neither the echo nor the PING
    kerberos: str = ""  # the keytab Negotiate is accepted with (current, foreign); "": NTLM
    forged_mutual: bool = False  # Kerberos accepted, answered with a token that does not verify
    about: str = ""  # what the site is for, in the lab's summary
    cert: str = ""  # the certificate's id when it is not the host's own (exchange nodes)

    @property
    def cert_id(self) -> str:
        return self.cert or f"web-{self.host}"


@dataclass
class Seen:
    """One request as the lab received it.

    ``auth`` is the scheme of its Authorization header ("" without one). ``binding``: whether
    its NTLM AUTHENTICATE carried a non-zero channel binding (None: no AUTHENTICATE).
    ``outcome``: "accepted" or "refused" for a request that completed an authentication,
    "challenged" for an NTLM NEGOTIATE answered with a challenge, "" without credentials (also
    on a connection that authenticated before). ``rts``: the names of the RTS PDUs the lab read
    from the body (``CONN/A1``, ``CONN/B1``, other ``RTS``, ``invalid``). ``sent``: what the lab
    sent on an OUT channel, in order (``CONN/A3``, ``CONN/C2``, ``padding``, ``garbage``), each
    recorded before it is sent. ``mapi_capability``: the request carried
    ``X-MapiHttpCapability: 1``. ``status``: the HTTP status answered (0 before the answer, and
    for an IN channel, which gets none). ``request_type``: a MAPI request's X-RequestType (an
    unauthenticated one's too); ``session``: the MapiContext it opened (Connect) or belonged to
    (PING, Disconnect).
    """

    address: str
    tls: bool
    sni: str | None
    method: str
    path: str
    host: str
    authorization: str  # the raw header ("" when absent)
    mailbox: str  # the EMailAddress of an Autodiscover request
    auth: str = ""
    binding: bool | None = None
    mechanism: str = ""  # a Kerberos site's Negotiate token: kerberos, spnego, ntlm, unknown
    outcome: str = ""
    rts: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    mapi_capability: bool = False
    status: int = 0
    user: str = ""  # the user name Basic or NTLM authenticated (or tried)
    peer: str = ""  # who connected: the plugin, or a lab proxy (127.0.204.x) for it
    request_type: str = ""
    session: str = ""


Authenticate = Callable[[Site, Request, Seen, dict[str, object]], "str | Response"]
"""How a site authenticates a request: the user logged on, or the answer to send (a 401)."""
